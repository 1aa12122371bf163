"""`fleetgen generate`: deterministic output, atomic and idempotent writes, ownership."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import REPO, RunCli

GENERATED = "applicationsets"


def tree(root: Path) -> dict[str, str]:
    base = root / GENERATED
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def test_committed_output_is_in_sync(run_cli: RunCli) -> None:
    result = run_cli(["generate", "--check", "--root", str(REPO)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_generate_is_byte_stable_and_idempotent(example_repo: Path, run_cli: RunCli) -> None:
    committed = tree(example_repo)
    shutil.rmtree(example_repo / GENERATED)
    first = run_cli(["generate"], cwd=example_repo)
    assert first.returncode == 0, first.stderr
    assert tree(example_repo) == committed
    assert len(first.stdout.splitlines()) == len(committed)
    second = run_cli(["generate"], cwd=example_repo)
    assert second.returncode == 0
    assert second.stdout == ""
    assert "0 file(s) changed" in second.stderr
    assert tree(example_repo) == committed


def test_check_and_dry_run_list_changes_and_write_nothing(
    example_repo: Path, run_cli: RunCli
) -> None:
    desc = example_repo / "fleet" / "llama-3-1-8b-instruct.yaml"
    desc.write_text(desc.read_text().replace("targetPerPod: 5", "targetPerPod: 7"))
    before = tree(example_repo)
    check = run_cli(["generate", "--check"], cwd=example_repo)
    assert check.returncode == 1
    changed = {line.split()[1] for line in check.stdout.splitlines()}
    apps = {
        f"{GENERATED}/{env}/{cluster}/models/llama-3-1-8b-instruct/kustomization.yaml"
        for env, cluster in (
            ("dev", "dev-a"),
            ("staging", "staging-a"),
            ("prod", "prod-a"),
            ("prod", "prod-b"),
        )
    }
    assert changed == apps | {f"{GENERATED}/.fleetgen-manifest.json"}
    dry = run_cli(["generate", "--dry-run"], cwd=example_repo)
    assert dry.returncode == 0
    assert {line.split()[1] for line in dry.stdout.splitlines()} == changed
    assert tree(example_repo) == before


def test_only_owned_files_are_pruned(example_repo: Path, run_cli: RunCli) -> None:
    notes = example_repo / GENERATED / "prod" / "NOTES.md"
    notes.write_text("hand-written\n")
    desc = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    text = desc.read_text()
    desc.write_text(
        text[: text.index("  environments:\n")]
        + "  environments:\n    staging:\n      gpuPool: h100\n      replicas: {min: 1, max: 1}\n"
    )
    # Taking the model out of prod removes its prod app, and only that.
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    gone = example_repo / GENERATED / "prod" / "prod-b" / "models" / "mixtral-8x7b-instruct"
    assert not gone.exists()
    assert notes.read_text() == "hand-written\n"
    assert (
        "deleted applicationsets/prod/prod-b/models/mixtral-8x7b-instruct/app.json" in result.stdout
    )


def test_invalid_fleet_generates_nothing(example_repo: Path, run_cli: RunCli) -> None:
    before = tree(example_repo)
    desc = example_repo / "fleet" / "llama-3-1-8b-instruct.yaml"
    desc.write_text(desc.read_text().replace("gpuPool: h100", "gpuPool: h1000", 1))
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 1
    assert "FG202" in result.stdout
    assert "nothing generated" in result.stderr
    assert tree(example_repo) == before


def test_applicationsets_fix_project_and_destination() -> None:
    # staging keeps one set per cluster, synced at once (prod's rollout set: test_rollout).
    appset = yaml.safe_load((REPO / GENERATED / "staging-staging-a.yaml").read_text())
    spec = appset["spec"]
    assert spec["goTemplate"] is True
    assert spec["goTemplateOptions"] == ["missingkey=error"]
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}
    template = spec["template"]["spec"]
    assert template["project"] == "staging"
    assert template["destination"] == {
        "server": "https://staging-a.k8s.example.com",
        "namespace": "llm",
    }
    assert "{{" not in json.dumps(template["project"]) + json.dumps(template["destination"])
    sync = template["syncPolicy"]
    assert sync["automated"] == {"prune": True, "selfHeal": True}
    # The models' project may not create Namespaces: the platform app creates this one.
    assert sync["syncOptions"] == ["ServerSideApply=true"]
    paths = spec["template"]["metadata"]["annotations"][
        "argocd.argoproj.io/manifest-generate-paths"
    ]
    # Relative entries resolve against the source path: "." is the app's own overlay.
    assert paths.split(";") == [".", "/base/model", "/base/llmisvc", "/base/components"]
    (generator,) = spec["generators"]
    assert generator["git"]["files"] == [
        {"path": "applicationsets/staging/staging-a/models/*/app.json"}
    ]


def test_app_files_are_small_and_never_use_reserved_keys() -> None:
    files = sorted((REPO / GENERATED).rglob("app.json"))
    assert len(files) == 12
    for path in files:
        data = json.loads(path.read_text())
        assert set(data) == {"app", "model", "team"}
        assert not {"path", "values"} & set(data)
        env, cluster, _, model = path.parent.relative_to(REPO / GENERATED).parts
        assert data["app"] == f"{env}-{cluster}-{model}"


def test_model_on_one_cluster_gets_apps_there_only(example_repo: Path, run_cli: RunCli) -> None:
    prod = example_repo / GENERATED / "prod"
    assert (prod / "prod-a" / "models" / "mixtral-8x7b-instruct").is_dir()
    desc = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    desc.write_text(desc.read_text().replace("clusters: [prod-a, prod-b]", "clusters: [prod-b]"))
    # Pinned to one cluster, the model would not survive losing it (FG430): prod gives up
    # its failure budget for this.
    env = example_repo / "environments" / "prod" / "environment.yaml"
    env.write_text(
        env.read_text().replace(
            "failureBudget:\n    clusters: 1", "failureBudget:\n    clusters: 0"
        )
    )
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (prod / "prod-b" / "models" / "mixtral-8x7b-instruct").is_dir()
    assert not (prod / "prod-a" / "models" / "mixtral-8x7b-instruct").exists()
    assert (prod / "prod-a" / "models" / "llama-3-1-70b-instruct-fp8").is_dir()
    assert (prod / "prod-b" / "models" / "llama-3-1-70b-instruct-fp8").is_dir()


def test_plan_rendered_by_two_workers_is_byte_identical() -> None:
    from fleetgen.loading.load import load_fleet
    from fleetgen.render.fileplan import build_plan

    fleet, problems = load_fleet(REPO)
    assert not problems
    alone, split = build_plan(fleet, jobs=1).files, build_plan(fleet, jobs=2).files
    assert list(split.items()) == list(alone.items())  # same bytes, same order
    assert sum(path.endswith("/kustomization.yaml") for path in alone) > 10


def test_one_cluster_is_planned_exactly_as_in_the_whole_plan() -> None:
    from fleetgen.loading.load import load_fleet
    from fleetgen.render.fileplan import build_plan, cluster_files

    fleet, _ = load_fleet(REPO)
    whole = build_plan(fleet, jobs=1).files
    for env in fleet.environments.values():
        for cluster in env.clusters:
            prefix = f"applicationsets/{env.name}/{cluster.name}/"
            expected = {
                path: data
                for path, data in whole.items()
                if path.startswith(prefix) and path.count("/") >= 4
            }
            assert expected, prefix
            assert cluster_files(fleet, env.name, cluster.name) == expected
