"""`fleetgen init DIR`: a new fleet repository that passes the pull-request check as written."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import yaml

from fleetgen import __version__
from fleetgen.authoring.workflow import WORKFLOW_FILE
from tests.conftest import REPO, RunCli

BIN = Path(sys.executable).parent


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ or exist on one side only (empty when identical)."""
    compare = filecmp.dircmp(a, b)
    out = [*compare.left_only, *compare.right_only, *compare.diff_files, *compare.funny_files]
    for sub in compare.common_dirs:
        out.extend(f"{sub}/{name}" for name in same_tree(a / sub, b / sub))
    return out


def test_a_new_repository_passes_the_pr_check_and_takes_a_model(
    tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "fleet-repo"
    made = run_cli(["init", str(target), "--repo-url", "https://git.example.com/acme/llm.git"])
    assert made.returncode == 0, made.stderr
    for check in (["validate", "--all"], ["generate", "--check"], ["fmt", "--check"]):
        done = run_cli(check, cwd=target)
        assert done.returncode == 0, (check, done.stdout, done.stderr)
    assert (
        "Argo CD objects: 5 entry-point file(s) checked"
        in run_cli(["validate", "--all"], cwd=target).stderr
    )
    # fleetgen new works at once, and the repository stays clean.
    new = run_cli(
        ["new", "my-model", "--model", "qwen2.5-0.5b-instruct", "--env", "dev"], cwd=target
    )
    assert new.returncode == 0, new.stderr
    assert run_cli(["generate"], cwd=target).returncode == 0
    done = run_cli(["validate", "--all"], cwd=target)
    assert done.returncode == 0 and "rendered 18 objects from 2 apps" in done.stderr, done.stderr
    assert (
        target / "applicationsets" / "dev" / "dev-a" / "models" / "my-model" / "app.json"
    ).is_file()


def test_the_new_repository_pins_this_fleetgen_and_ships_what_it_needs(
    tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "fleet-repo"
    hooks = "https://git.example.com/tools/fleetgen.git"
    made = run_cli(["init", str(target), "--fleetgen-repo", hooks])
    assert made.returncode == 0, made.stderr
    config = yaml.safe_load((target / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == hooks and repo["rev"] == f"v{__version__}"
    offered = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in repo["hooks"]} == offered
    workflow = (target / WORKFLOW_FILE).read_text()
    assert f'pip install "fleetgen @ git+{hooks}@v{__version__}"' in workflow
    subprocess.run(["git", "init", "-q", str(target)], check=True)  # actionlint wants a repo
    lint = subprocess.run(
        [str(BIN / "actionlint"), "-shellcheck", str(BIN / "shellcheck"), "-no-color"],
        cwd=target, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # The same bases and schemas as this project: no fork to keep up to date by hand.
    assert same_tree(REPO / "base", target / "base") == []
    assert same_tree(REPO / "schemas", target / "schemas") == []
    assert list((target / "fleet").iterdir()) == []
    settings = yaml.safe_load((target / ".fleetgen.yaml").read_text())
    assert settings["bootstrap"]["targetRevision"] == "main"
    assert "/work/" not in (target / "environments" / "dev" / "environment.yaml").read_text()


def test_init_refuses_a_non_empty_directory_or_a_bad_url(tmp_path: Path, run_cli: RunCli) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.md").write_text("mine\n")
    done = run_cli(["init", str(taken)])
    assert done.returncode == 2 and "is not an empty directory" in done.stderr
    assert [p.name for p in taken.iterdir()] == ["notes.md"]
    bad = run_cli(["init", str(tmp_path / "new"), "--repo-url", "https://x/$(id)"])
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no staging left behind
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(["init", str(empty)]).returncode == 0
    assert (empty / ".fleetgen.yaml").is_file()
