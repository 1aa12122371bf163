"""`fleetgen new` and `fleetgen fmt` as a user runs them, in a copy of the example repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from fleetgen.authoring.fmt import Problem, format_text
from tests.conftest import REPO, RunCli

SCHEMA_LINE = "# yaml-language-server: $schema=../tools/fleetgen/schemas/descriptor.schema.json"
DIGEST_IMAGE = (
    "vllm/vllm-openai:v0.34.0"
    "@sha256:631cb39512bc29f67b132607ff18c3eebd14949ea55e263e314d43cef5d8965a"
)


def _envs(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--env", name)]


def _ship_schema(repo: Path) -> None:
    """The example copy lacks tools/; the schema comment points there when it is present."""
    shutil.copytree(REPO / "tools" / "fleetgen" / "schemas", repo / "tools/fleetgen/schemas")


SCAFFOLDS = (
    ("tiny-dev", "llama-3.2-1b-instruct", ("dev",), "l4", 1),  # small: the cheap L4 pool
    ("big-chat", "llama-3.3-70b-instruct", ("staging", "prod"), "h100", 4),  # 141 GB in bf16
    ("moe-drafts", "mixtral-8x7b-instruct-v0.1", ("staging",), "h100", 2),  # every expert loads
    ("moe-small", "qwen3-30b-a3b", ("dev", "staging"), "h100", 1),  # 4 KV heads
)


def test_new_writes_descriptors_that_validate_clean_and_generate(
    example_repo: Path, run_cli: RunCli
) -> None:
    _ship_schema(example_repo)
    for name, model, envs, pool, tp in SCAFFOLDS:  # one repository: each sees the others
        result = run_cli(["new", name, "--model", model, *_envs(*envs)], cwd=example_repo)
        assert result.returncode == 0, result.stderr
        assert f"created fleet/{name}.yaml" in result.stdout
        assert "fleetgen validate" in result.stdout
        assert "fleetgen plan --base origin/main" in result.stdout
        text = (example_repo / "fleet" / f"{name}.yaml").read_text()
        assert text.splitlines()[0] == SCHEMA_LINE
        spec = yaml.safe_load(text)["spec"]
        assert spec["resources"]["gpuPool"] == pool, name
        assert spec["runtime"]["tensorParallel"] == spec["resources"]["gpusPerReplica"] == tp
        assert spec["runtime"]["maxModelLen"] == 8192
        assert "gateway" not in spec  # no tenant is admitted by default
        assert list(spec["environments"]) == list(envs)
        if "prod" in envs:  # production reuses the fleet's digest-pinned image
            assert spec["runtime"]["image"] == DIGEST_IMAGE
    validate = run_cli(["validate"], cwd=example_repo)
    assert validate.returncode == 0, validate.stdout
    # The example's prod-b H100 pool is nearly full at maximum scale: a new 70B model there is
    # an honest capacity warning (FG407) on every model of that pool, and nothing else.
    findings = [line for line in validate.stdout.splitlines() if not line.startswith(" ")]
    assert findings, "big-chat at maximum scale overfills prod-b/h100"
    assert all("warning FG407 pool prod/prod-b/h100" in line for line in findings), findings
    assert any(line.startswith("fleet/big-chat.yaml:") for line in findings), findings
    assert run_cli(["fmt", "--check", "fleet"], cwd=example_repo).returncode == 0  # canonical
    generate = run_cli(["generate"], cwd=example_repo)
    assert generate.returncode == 0, generate.stdout + generate.stderr
    for name, _, envs, _, _ in SCAFFOLDS:
        for env in envs:
            assert list(example_repo.glob(f"applicationsets/{env}/*/models/{name}/app.json"))


def test_new_points_at_the_schema_command_and_avoids_taken_served_names(
    example_repo: Path, run_cli: RunCli
) -> None:
    # The example fleet already serves qwen2.5-0.5b-instruct in dev and staging.
    args = ["new", "qwen-copy", "--model", "qwen2.5-0.5b-instruct", *_envs("dev", "staging")]
    result = run_cli([*args, "--team", "platform", "--contact", "#llm-platform"], cwd=example_repo)
    assert result.returncode == 0, result.stderr
    text = (example_repo / "fleet" / "qwen-copy.yaml").read_text()
    assert "fleetgen schema descriptor" in text.splitlines()[0]
    data = yaml.safe_load(text)
    assert data["metadata"] == {
        "name": "qwen-copy",
        "team": "platform",
        "contact": "#llm-platform",  # quoted, not read as a comment
        "description": "Qwen/Qwen2.5-0.5B-Instruct served by vLLM",
    }
    assert data["spec"]["model"]["servedName"] == "qwen-copy"
    validate = run_cli(["validate"], cwd=example_repo)
    assert (validate.returncode, validate.stdout) == (0, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qwen2-5-0-5b-instruct", "--model", "qwen2.5-0.5b-instruct"], "pass --force"),
        (["Bad_Name", "--model", "qwen2.5-0.5b-instruct"], "not a DNS label"),
        (["x", "--model", "llama-3.2-1b"], "did you mean 'llama-3.2-1b-instruct'?"),
        (["x", "--model", "qwen2.5-0.5b-instruct", "--env", "qa"], "unknown environment 'qa'"),
        (["x", "--model", "llama-3.1-405b-instruct"], "weights 94.5 GiB"),  # TP=8 on H100
        (["x", "--model", "qwen3-8b", "--pool", "h200"], "pool 'h200' is not on every cluster"),
    ],
)
def test_new_refuses_with_exit_2(
    example_repo: Path, run_cli: RunCli, args: list[str], message: str
) -> None:
    before = sorted(p.name for p in (example_repo / "fleet").iterdir())
    envs = [] if "--env" in args else _envs("dev")
    result = run_cli(["new", *args, *envs], cwd=example_repo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (example_repo / "fleet").iterdir()) == before


def test_new_explains_why_nothing_fits_and_what_production_needs(
    example_repo: Path, run_cli: RunCli
) -> None:
    huge = run_cli(["new", "x", "--model", "deepseek-v3", *_envs("dev")], cwd=example_repo)
    assert huge.returncode == 2
    assert "TP=8 > 4 GPUs per node" not in huge.stderr  # the numbers of TP=4 stay
    assert "l4 in dev: L4-24GB at TP=4, per GPU: budget 19.8 GiB" in huge.stderr
    assert "h100 in dev: H100-80GB at TP=8" in huge.stderr
    prod_only = run_cli(["new", "x", "--model", "qwen3-8b", *_envs("prod")], cwd=example_repo)
    assert prod_only.returncode == 2
    assert "FG601" in prod_only.stderr and "staging" in prod_only.stderr
    pool = run_cli(
        ["new", "x", "--model", "qwen3-8b", *_envs("dev"), "--pool", "l4"], cwd=example_repo
    )
    assert pool.returncode == 0, pool.stderr  # forced onto L4: TP=2 where H100 would need 1
    assert (
        yaml.safe_load((example_repo / "fleet/x.yaml").read_text())["spec"]["runtime"][
            "tensorParallel"
        ]
        == 2
    )
    again = run_cli(["new", "x", "--model", "qwen3-8b", *_envs("dev"), "--force"], cwd=example_repo)
    assert again.returncode == 0, again.stderr
    assert run_cli(["validate"], cwd=example_repo).stdout == ""


def test_new_for_production_without_a_digest_in_the_fleet_keeps_fg508(
    example_repo: Path, run_cli: RunCli
) -> None:
    for path in (example_repo / "fleet").glob("*.yaml"):  # a fleet pinned by tags only
        path.write_text(path.read_text().replace(DIGEST_IMAGE, "vllm/vllm-openai:v0.11.2"))
    result = run_cli(
        ["new", "x", "--model", "qwen3-8b", *_envs("staging", "prod")], cwd=example_repo
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("fleet/x.yaml:19:12: warning FG508") == 1  # once, not per cluster
    text = (example_repo / "fleet" / "x.yaml").read_text()
    assert "    # No image in the fleet has a digest to reuse" in text
    assert "    image: vllm/vllm-openai:v0.11.2\n" in text
    validate = run_cli(["validate", "fleet/x.yaml"], cwd=example_repo)
    assert validate.returncode == 0  # a warning, not an error
    assert "FG508" in validate.stdout


MESSY = """\
# yaml-language-server: $schema=../tools/fleetgen/schemas/descriptor.schema.json
# A small model for development.
kind: ModelDeployment<TRAILING>
apiVersion: fleetgen.dev/v1alpha1
spec:
   environments:   # where it runs
      dev: {}
      staging: {}
   # Weights and names.
   model:
      catalog: qwen2.5-0.5b-instruct
      storageUri: hf://Qwen/Qwen2.5-0.5B-Instruct
      servedName: qwen2.5-0.5b-instruct   # what clients send
      revision: 7ae557604adf67be50417f59c2c2f167def9a775
      dtype: bfloat16
      # end of model
   gateway:
      tenants:
      # the playground first
      - {name: playground, tokens: 200000, unit: Hour}
      - {name: search, tokens: 100000, unit: Hour}<TRAILING>
   runtime:
      image: vllm/vllm-openai:v0.11.2
      maxModelLen: 8192
      maxNumSeqs: 64
   resources:
      gpuPool: l4
      gpusPerReplica: 1
      cpu: "2"
      memory: 16Gi
metadata:
   name: qwen2-5-0-5b-instruct
   team: platform
   contact: llm-platform@example.com


# trailing note
""".replace("<TRAILING>", "   ")

TIDY = """\
# yaml-language-server: $schema=../tools/fleetgen/schemas/descriptor.schema.json
# A small model for development.
apiVersion: fleetgen.dev/v1alpha1
kind: ModelDeployment
metadata:
  name: qwen2-5-0-5b-instruct
  team: platform
  contact: llm-platform@example.com
spec:
  # Weights and names.
  model:
    catalog: qwen2.5-0.5b-instruct
    storageUri: hf://Qwen/Qwen2.5-0.5B-Instruct
    servedName: qwen2.5-0.5b-instruct   # what clients send
    revision: 7ae557604adf67be50417f59c2c2f167def9a775
    dtype: bfloat16
    # end of model
  runtime:
    image: vllm/vllm-openai:v0.11.2
    maxModelLen: 8192
    maxNumSeqs: 64
  resources:
    gpuPool: l4
    gpusPerReplica: 1
    cpu: "2"
    memory: 16Gi
  gateway:
    tenants:
      # the playground first
      - {name: playground, tokens: 200000, unit: Hour}
      - {name: search, tokens: 100000, unit: Hour}
  environments:   # where it runs
    dev: {}
    staging: {}

# trailing note
"""


def test_fmt_normalizes_a_messy_descriptor_and_keeps_its_comments(
    example_repo: Path, run_cli: RunCli
) -> None:
    target = example_repo / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    target.write_text(MESSY)
    assert run_cli(["validate"], cwd=example_repo).returncode == 0  # valid, only untidy
    check = run_cli(["fmt", "--check", "fleet"], cwd=example_repo)
    assert check.returncode == 1
    assert check.stdout == "would reformat fleet/qwen2-5-0-5b-instruct.yaml\n"
    assert target.read_text() == MESSY  # --check writes nothing
    done = run_cli(["fmt", "fleet/"], cwd=example_repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "reformatted fleet/qwen2-5-0-5b-instruct.yaml\n"
    assert target.read_text() == TIDY
    validate = run_cli(["validate"], cwd=example_repo)
    assert (validate.returncode, validate.stdout) == (0, "")
    before = target.stat().st_mtime_ns
    again = run_cli(["fmt", "fleet"], cwd=example_repo)
    assert (again.returncode, again.stdout) == (0, "")
    assert target.stat().st_mtime_ns == before  # a no-op does not even rewrite
    assert run_cli(["fmt", "--check", str(target)], cwd=example_repo).returncode == 0


def test_fmt_reports_unparsable_files_and_leaves_them_alone(
    example_repo: Path, run_cli: RunCli
) -> None:
    broken = example_repo / "fleet" / "broken.yaml"
    broken.write_text("apiVersion: fleetgen.dev/v1alpha1\nspec: [unclosed\n")
    untidy = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    untidy.write_text(untidy.read_text().replace("  model:\n", "  model:   \n"))
    result = run_cli(["fmt", "fleet"], cwd=example_repo)
    assert result.returncode == 1
    assert "fleet/broken.yaml:3:1: error FG001 invalid YAML" in result.stdout
    assert broken.read_text() == "apiVersion: fleetgen.dev/v1alpha1\nspec: [unclosed\n"
    assert "reformatted fleet/mixtral-8x7b-instruct.yaml" in result.stdout  # others still done
    assert "  model:   \n" not in untidy.read_text()
    assert run_cli(["fmt", "fleet/absent.yaml"], cwd=example_repo).returncode == 2


def test_committed_example_files_are_already_formatted(run_cli: RunCli) -> None:
    result = run_cli(["fmt", "--check", "--root", str(REPO)])
    assert result.returncode == 0, result.stdout


def test_format_text_is_idempotent_and_keeps_block_closing_comments() -> None:
    text = "spec:\n  b:\n    - x   # eol\n    # closes b\n  # leads a\n  a: 1\napiVersion: v\n"
    once = format_text(text.encode(), "f.yaml")
    assert once == (
        "apiVersion: v\nspec:\n  b:\n    - x   # eol\n    # closes b\n  # leads a\n  a: 1\n"
    )
    assert isinstance(once, str) and format_text(once.encode(), "f.yaml") == once
    problem = format_text(b"a: 1\na: 2\n", "f.yaml")
    assert isinstance(problem, Problem)
    assert str(problem).startswith("f.yaml:2:1: error FG002")
