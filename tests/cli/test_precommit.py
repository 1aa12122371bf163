"""The hooks of .pre-commit-hooks.yaml under the real pre-commit, in a throwaway git repository.

Most tests run the manifest's hooks as `repo: local` with `language: system` and the installed
console script (fast). One test is a consumer repository as a user has it: `fleetgen init`
pins the hooks by `repo:` (a git repository of this work tree) and `rev:` (its version tag),
and real pre-commit builds the `language: python` virtualenv from them.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import __version__
from tests.conftest import REPO, copy_example, fleetgen_exe

BIN = Path(sys.executable).parent
DESCRIPTOR = "fleet/qwen2-5-0-5b-instruct.yaml"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command; stdout holds both streams (git shows hook output on stderr)."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )


def _git_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        HOME=str(tmp_path / "home"),  # no user or system git configuration leaks in
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    return env


def _local_hooks() -> list[dict[str, Any]]:
    """The manifest's hooks, run by the installed fleetgen instead of a fresh virtualenv."""
    hooks: list[dict[str, Any]] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        program, _, args = hook["entry"].partition(" ")
        assert program == "fleetgen"
        hook.update(entry=f"{fleetgen_exe()} {args}", language="system")
    return hooks


def _repository(tmp_path: Path, config: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    repo, env = copy_example(tmp_path / "repo"), _git_env(tmp_path)
    shutil.copy(REPO / ".pre-commit-hooks.yaml", repo)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "example"]):
        assert _run(["git", *args], repo, env).returncode == 0
    return repo, env


@pytest.fixture
def hooked(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo, env = _repository(tmp_path, {"repos": [{"repo": "local", "hooks": _local_hooks()}]})
    installed = _run([str(BIN / "pre-commit"), "install"], repo, env)
    assert installed.returncode == 0, installed.stdout
    return repo, env


def _commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    assert _run(["git", "add", "-A"], repo, env).returncode == 0
    return _run(["git", "commit", "-m", message], repo, env)


def _head(repo: Path, env: dict[str, str]) -> str:
    return _run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()


def test_a_good_change_commits_and_a_bad_one_is_refused(
    hooked: tuple[Path, dict[str, str]],
) -> None:
    repo, env = hooked
    target = repo / DESCRIPTOR
    good = target.read_text().replace("maxNumSeqs: 64", "maxNumSeqs: 32")
    target.write_text(good)
    stale = _commit(repo, env, "fewer sequences, generated files not updated")
    assert stale.returncode != 0
    assert "fleetgen generate --check" in stale.stdout and "Failed" in stale.stdout
    assert "out of date" in stale.stdout
    generated = _run([fleetgen_exe(), "generate"], repo, env)
    assert generated.returncode == 0, generated.stdout
    before = _head(repo, env)
    committed = _commit(repo, env, "fewer sequences")
    assert committed.returncode == 0, committed.stdout
    assert committed.stdout.count("Passed") == 3, committed.stdout
    after = _head(repo, env)
    assert after != before

    bad = good.replace("    maxModelLen: 8192", "    maxModelLength: 8192")
    target.write_text(bad)
    line = bad.splitlines().index("    maxModelLength: 8192") + 1
    refused = _commit(repo, env, "typo")
    assert refused.returncode != 0
    assert f"{DESCRIPTOR}:{line}:5: error FG101 unknown key 'maxModelLength'" in refused.stdout
    assert _head(repo, env) == after
    assert _run(["git", "diff", "--cached", "--quiet"], repo, env).returncode == 1  # still staged


def test_hooks_only_run_on_the_files_they_concern(hooked: tuple[Path, dict[str, str]]) -> None:
    repo, env = hooked
    (repo / "notes.md").write_text("not a descriptor\n")
    result = _commit(repo, env, "notes")
    assert result.returncode == 0, result.stdout
    assert "fleetgen validate" in result.stdout and "(no files to check)Skipped" in result.stdout


def test_measure_hook_wall_time_against_check_jsonschema(
    hooked: tuple[Path, dict[str, str]],
) -> None:
    """Measured, not asserted: run with -s to see the numbers."""
    repo, env = hooked
    files = sorted(str(p.relative_to(repo)) for p in (repo / "fleet").glob("*.yaml"))
    schema = REPO / "tools" / "fleetgen" / "schemas" / "descriptor.schema.json"
    commands = {
        "pre-commit run fleetgen-validate": [
            str(BIN / "pre-commit"), "run", "fleetgen-validate", "--files", *files,
        ],
        "fleetgen validate (bare)": [fleetgen_exe(), "validate", *files],
        "check-jsonschema": [
            str(BIN / "check-jsonschema"), "--schemafile", str(schema), *files,
        ],
    }  # fmt: skip
    for label, command in commands.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = _run(command, repo, env)
            times.append(time.perf_counter() - start)
            assert result.returncode == 0, result.stdout
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms over {len(files)} files")


def test_a_consumer_repository_installs_the_hooks_by_repo_and_rev(tmp_path: Path) -> None:
    """The real `language: python` install: pre-commit clones fleetgen at a tag and
    pip-installs it into its own virtualenv (a package index is needed, as for any user)."""
    from tests.cli.test_fresh_clone import snapshot

    env = _git_env(tmp_path)
    (tmp_path / "home").mkdir()
    fleetgen = snapshot(tmp_path / "fleetgen", env)
    tag = f"v{__version__}"
    assert _run(["git", "tag", tag], fleetgen, env).returncode == 0
    repo = tmp_path / "consumer"
    made = _run(
        [fleetgen_exe(), "init", str(repo), "--fleetgen-repo", str(fleetgen)], tmp_path, env
    )
    assert made.returncode == 0, made.stdout
    (repo_cfg,) = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert (repo_cfg["repo"], repo_cfg["rev"]) == (str(fleetgen), tag)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "fleet"]):
        assert _run(["git", *args], repo, env).returncode == 0
    clean = _run([str(BIN / "pre-commit"), "run", "--all-files"], repo, env)
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.count("Passed") == 3, clean.stdout
    # A model with a typo: refused by the hooks as installed from the tag.
    new = _run(
        [fleetgen_exe(), "new", "m", "--model", "qwen2.5-0.5b-instruct", "--env", "dev"], repo, env
    )
    assert new.returncode == 0, new.stdout
    target = repo / "fleet" / "m.yaml"
    target.write_text(target.read_text().replace("maxNumSeqs:", "maxNumSequences:"))
    bad = _run([str(BIN / "pre-commit"), "run", "--all-files"], repo, env)
    assert bad.returncode == 1
    assert "fleet/m.yaml:" in bad.stdout and "FG101 unknown key 'maxNumSequences'" in bad.stdout
    # What pre-commit installed is a real (non-editable) build: its init must find its data.
    (installed,) = (tmp_path / "pre-commit-home").glob("repo*/py_env-*/bin/fleetgen")
    second = tmp_path / "second"
    made = _run([str(installed), "init", str(second)], tmp_path, env)
    assert made.returncode == 0, made.stdout
    checked = _run([str(installed), "validate", "--all"], second, env)
    assert checked.returncode == 0, checked.stdout
