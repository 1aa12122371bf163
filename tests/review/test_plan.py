"""`fleetgen plan` and `validate --base` against real git repositories (temp dirs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunCli, copy_example

GIT = ["git", "-c", "user.name=fleetgen", "-c", "user.email=fleetgen@example.com"]


def git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_plan_shows_exactly_the_changed_apps_with_diffs_and_notes(
    repo: Path, run_cli: RunCli
) -> None:
    desc = repo / "fleet" / "llama-3-1-70b-instruct-fp8.yaml"
    edit(desc, "tensorParallel: 4", "tensorParallel: 8")
    edit(desc, "gpusPerReplica: 4", "gpusPerReplica: 8")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    # Twice the GPUs per replica no longer survive losing prod-a (FG431).
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    changed = {line.split()[1] for line in out.splitlines() if line.startswith("  ~ ")}
    assert changed == {
        "staging-staging-a-llama-3-1-70b-instruct-fp8",
        "prod-prod-a-llama-3-1-70b-instruct-fp8",
        "prod-prod-b-llama-3-1-70b-instruct-fp8",
    }
    assert "  + " not in out and "  - " not in out.split("Notes:")[0]
    assert "-      - --tensor-parallel-size=4\n+      - --tensor-parallel-size=8" in out
    assert '-          nvidia.com/gpu: "4"\n+          nvidia.com/gpu: "8"' in out
    assert "llama-3-1-70b-instruct-fp8: tensor parallel 4 → 8: GPUs per replica 4 → 8" in out
    assert (
        "prod/prod-a/h100 ledger: at min scale 10 → 18, "
        "at max scale 30 → 54 of 48 GPUs (over capacity)" in out
    )
    # 2 clusters x 6 replicas x 4 more GPUs at $2.50 an hour, 730 hours a month.
    assert (
        "prod cost: +48 GPUs, +$87,600/month at max; +16 GPUs, +$29,200/month at min "
        "(team search); search now over its $120,000 budget at max" in out
    )
    assert (
        "prod failure budget: losing prod-a is no longer survivable (prod-b/h100 4 GPUs short)"
        in out
    )
    assert "error FG431 losing cluster prod-a: pool prod-b/h100 must hold 36 GPUs" in out


def test_served_name_change_warns_clients_get_404(repo: Path, run_cli: RunCli) -> None:
    edit(
        repo / "fleet" / "mixtral-8x7b-instruct.yaml",
        "servedName: mixtral-8x7b-instruct",
        "servedName: mixtral",
    )
    result = run_cli(["plan", "--base", "main", "--format", "markdown"], cwd=repo)
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert out.startswith("<!-- fleetgen plan -->\n### fleetgen plan: `main` → `work tree`")
    assert (
        "served name changed 'mixtral-8x7b-instruct' → 'mixtral': "
        "clients calling the old name will get 404" in out
    )
    assert out.count("<details>") == 3  # staging-a, prod-a and prod-b
    assert "```diff" in out and "+        value: mixtral\n" in out


def test_plan_between_two_commits_and_from_a_shallow_clone(
    repo: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    edit(repo / "fleet" / "qwen2-5-0-5b-instruct.yaml", "targetPerPod: 10", "targetPerPod: 12")
    git(repo, "commit", "-q", "-am", "tune qwen")
    head = git(repo, "rev-parse", "HEAD")
    base = git(repo, "rev-parse", "HEAD~1")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", repo.as_uri(), str(clone)], check=True)
    git(clone, "fetch", "-q", "--depth", "1", "origin", base)
    for where, args in ((repo, ["--base", base, "--head", head]), (clone, ["--base", base])):
        result = run_cli(["plan", *args], cwd=where)
        assert result.returncode == 0, result.stdout + result.stderr
        # Both the per-environment list and the expanded Applications name them.
        changed = sorted(
            {line.split()[1] for line in result.stdout.splitlines() if line.startswith("  ~ ")}
        )
        assert changed == [
            "dev-dev-a-qwen2-5-0-5b-instruct",
            "staging-staging-a-qwen2-5-0-5b-instruct",
        ]
        assert '-      threshold: "10"\n+      threshold: "12"' in result.stdout
    missing = run_cli(["plan", "--base", "no-such-ref"], cwd=repo)
    assert missing.returncode == 2
    assert "unknown revision 'no-such-ref'" in missing.stderr


def test_deleting_a_descriptor_without_retiring_fails(repo: Path, run_cli: RunCli) -> None:
    (repo / "fleet" / "mixtral-8x7b-instruct.yaml").unlink()
    result = run_cli(["validate", "--base", "main", "--format", "json"], cwd=repo)
    assert result.returncode == 1
    assert '"code": "FG801"' in result.stdout
    assert result.stdout.count('"FG801"') == 3
    planned = run_cli(["plan", "--base", "main"], cwd=repo)
    assert planned.returncode == 1
    listing = planned.stdout.split("Notes:")[0]
    removed = {line.split()[1] for line in listing.splitlines() if line.startswith("  - ")}
    assert removed == {
        "staging-staging-a-mixtral-8x7b-instruct",
        "prod-prod-a-mixtral-8x7b-instruct",
        "prod-prod-b-mixtral-8x7b-instruct",
    }


def test_retire_then_delete_is_the_two_step_path(repo: Path, run_cli: RunCli) -> None:
    desc = repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    edit(desc, "spec:\n", "spec:\n  lifecycle: retired\n")
    step1 = run_cli(["validate", "--base", "main"], cwd=repo)
    assert step1.returncode == 0, step1.stdout
    generated = run_cli(["generate"], cwd=repo)
    assert (
        "deleted applicationsets/prod/prod-b/models/mixtral-8x7b-instruct/app.json"
        in generated.stdout
    )
    git(repo, "commit", "-q", "-am", "retire mixtral")
    desc.unlink()
    step2 = run_cli(["validate", "--base", "main"], cwd=repo)
    assert step2.returncode == 0, step2.stdout
    assert run_cli(["generate", "--check"], cwd=repo).returncode == 0


def test_validate_base_outside_git_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    root = copy_example(tmp_path / "plain")
    result = run_cli(["validate", "--base", "main"], cwd=root)
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr


def test_plan_notes_what_a_change_costs_and_a_loss_it_repairs(repo: Path, run_cli: RunCli) -> None:
    mixtral = repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    edit(mixtral, "clusters: [prod-a, prod-b]", "clusters: [prod-b]")
    git(repo, "commit", "-q", "-am", "mixtral on prod-b only")
    edit(mixtral, "clusters: [prod-b]", "clusters: [prod-a, prod-b]")
    qwen = repo / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    edit(qwen, "maxReplicas: 2", "maxReplicas: 3")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    notes = result.stdout.split("Notes:\n")[1]
    # Mixtral on prod-a's H200 ($3.50 an hour): 1..3 replicas x 2 GPUs, 730 hours a month.
    assert (
        "  - prod cost: +6 GPUs, +$15,330/month at max; +2 GPUs, +$5,110/month at min "
        "(team support)\n" in notes
    )
    assert "  - prod failure budget: losing prod-b is survivable again\n" in notes
    # Dev and staging pools have no price: GPUs only, and which pools are unpriced.
    assert (
        "  - dev cost: +1 GPUs at max (team platform); cost unknown: dev-a/h100, dev-a/l4 "
        "have no pricePerGpuHour\n" in notes
    )
    assert "prod failure budget: losing prod-a" not in notes


def _applications(out: str) -> list[str]:
    """The lines of the plan's expanded-Applications section."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Argo CD Applications"))
    section = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        section.append(line.strip())
    return section


def test_a_platform_change_lists_the_platform_application(repo: Path, run_cli: RunCli) -> None:
    env = repo / "environments" / "staging" / "environment.yaml"
    edit(env, "hostnames: [llm.staging.example.com]", "hostnames: [chat.staging.example.com]")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # No model app changed, but the staging platform Application renders another Gateway.
    assert "No Argo CD application changes." not in out
    assert "Argo CD Applications, both revisions expanded: 0 added, 1 changed, 0 removed" in out
    assert _applications(out) == [
        "~ staging-staging-a-platform → https://staging-a.k8s.example.com/llm: manifests"
    ]


def test_a_new_placement_and_a_new_revision_show_in_the_expanded_applications(
    repo: Path, run_cli: RunCli
) -> None:
    desc = repo / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    edit(desc, "    staging: {}\n", "    staging: {}\n    prod: {}\n")
    env = repo / "environments" / "dev" / "environment.yaml"
    edit(env, "    targetRevision: main\n", "    targetRevision: release-1\n")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    section = _applications(result.stdout)
    assert "+ prod-prod-a-qwen2-5-0-5b-instruct → https://prod-a.k8s.example.com/llm" in section
    assert "+ prod-prod-b-qwen2-5-0-5b-instruct → https://prod-b.k8s.example.com/llm" in section
    # Every dev Application now reads another revision: the definition changed, not the build.
    dev = [line for line in section if line.startswith("~ dev-")]
    assert dev and all(line.endswith(": spec.source.targetRevision") for line in dev), section
    assert not [line for line in section if line.startswith("~ staging-")], section
    # The root Application comes from .fleetgen.yaml in both revisions: it is not "added";
    # it changes because the ApplicationSets it syncs changed.
    assert "~ fleet-root → https://kubernetes.default.svc/argocd: manifests" in section


def test_the_markdown_plan_lists_the_expanded_applications(repo: Path, run_cli: RunCli) -> None:
    env = repo / "environments" / "staging" / "environment.yaml"
    edit(env, "hostnames: [llm.staging.example.com]", "hostnames: [chat.staging.example.com]")
    result = run_cli(["plan", "--base", "main", "--format", "markdown"], cwd=repo)
    assert (
        "#### Argo CD Applications, both revisions expanded: 0 added, 1 changed, 0 removed"
        in result.stdout
    )
    assert (
        "- `~ staging-staging-a-platform → https://staging-a.k8s.example.com/llm: manifests`"
        in result.stdout
    )
