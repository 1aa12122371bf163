"""`fleetgen plan` shows in which rollout step each changed model app syncs, against real git
repositories holding a copy of the example (prod rolls out: the canary llama-3-1-8b-instruct
on prod-a, then the rest of prod-a, then prod-b)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunCli, copy_example
from tests.review.test_plan import edit, git

PROD = "environments/prod/environment.yaml"
HEADING = "Rollout order in prod (each step once the one before is healthy)"
CANARY = "step 1 (prod-a, canary llama-3-1-8b-instruct, at most 1 at a time)"
REST_OF_A = "step 2 (prod-a, after the canary, at most 1 at a time)"
PROD_B = "step 3 (prod-b, at most 50% at a time)"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def _section(out: str, heading: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index(heading + ":")
    section = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        section.append(line.strip())
    return section


def test_a_canary_model_change_syncs_on_prod_a_first_then_prod_b(
    repo: Path, run_cli: RunCli
) -> None:
    edit(repo / "fleet" / "llama-3-1-8b-instruct.yaml", "maxNumSeqs: 32", "maxNumSeqs: 48")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _section(result.stdout, HEADING) == [
        f"{CANARY}: prod-prod-a-llama-3-1-8b-instruct",
        f"{PROD_B}: prod-prod-b-llama-3-1-8b-instruct",
    ]
    # Only prod rolls out in steps: staging and dev sync the same change at once.
    assert "Rollout order in staging" not in result.stdout
    assert "Rollout order in dev" not in result.stdout


def test_a_model_outside_the_canary_waits_for_it(repo: Path, run_cli: RunCli) -> None:
    edit(repo / "fleet" / "mixtral-8x7b-instruct.yaml", "maxNumSeqs: 16", "maxNumSeqs: 24")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _section(result.stdout, HEADING) == [
        f"{REST_OF_A}: prod-prod-a-mixtral-8x7b-instruct",
        f"{PROD_B}: prod-prod-b-mixtral-8x7b-instruct",
    ]


def test_an_application_definition_change_lists_every_step_in_markdown(
    repo: Path, run_cli: RunCli
) -> None:
    # Nothing a model app builds changes, but every prod Application reads another revision.
    edit(repo / PROD, "    targetRevision: main\n", "    targetRevision: release-1\n")
    result = run_cli(["plan", "--base", "main", "--format", "markdown"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = lines.index(f"#### {HEADING}")
    assert lines[start + 1 : start + 5] == [
        "",
        f"- {CANARY}: prod-prod-a-llama-3-1-8b-instruct",
        f"- {REST_OF_A}: prod-prod-a-llama-3-1-70b-instruct-fp8, prod-prod-a-mixtral-8x7b-instruct",
        f"- {PROD_B}: prod-prod-b-llama-3-1-70b-instruct-fp8, prod-prod-b-llama-3-1-8b-instruct, "
        "prod-prod-b-mixtral-8x7b-instruct",
    ]


def test_a_new_cluster_outside_every_step_is_flagged_with_its_cost(
    repo: Path, run_cli: RunCli
) -> None:
    prod_c = (
        "    - name: prod-c\n"
        "      server: https://prod-c.k8s.example.com\n"
        "      pools:\n"
        "        - name: h100\n"
        "          gpu: H100-80GB\n"
        "          gpusPerNode: 8\n"
        "          nodes: 2\n"
        "          pricePerGpuHour: 2.5\n"
        "          nodeLabels:\n"
        "            nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3\n"
        "          taints:\n"
        "            - {key: nvidia.com/gpu, effect: NoSchedule}\n"
    )
    anchor = "  # Every model runs on both clusters"
    edit(repo / PROD, anchor, prod_c + anchor)
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    # llama-3-1-8b-instruct runs on every prod cluster; no step names prod-c.
    assert _section(out, HEADING) == [
        "in no step, never synced (FG436): prod-prod-c-llama-3-1-8b-instruct"
    ]
    assert "FG436" in out.split("Problems:")[1]
    # 2..6 replicas of one H100 at $2.50 an hour, 730 hours a month, take search past its
    # budget ($109,500 at max before).
    assert (
        "  - prod cost: +6 GPUs, +$10,950/month at max; +2 GPUs, +$3,650/month at min "
        "(team search); search now over its $120,000 budget at max\n" in out
    )
