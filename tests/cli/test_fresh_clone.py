"""README command 1 on a fresh clone: the full pull-request check with no other step.

The clone is made from the work tree as it would be committed (tracked files and new ones
that are not ignored), so the test checks the change under test, not the last commit. The
command runs exactly as the README spells it: a new virtualenv, `pip install -e .`, then
`fleetgen validate --all` and `generate --check` against the committed schemas/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CRDS_ENV, REPO

GIT_ENV = {
    "GIT_AUTHOR_NAME": "fleetgen",
    "GIT_AUTHOR_EMAIL": "fleetgen@example.com",
    "GIT_COMMITTER_NAME": "fleetgen",
    "GIT_COMMITTER_EMAIL": "fleetgen@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def readme_command(number: int) -> str:
    """The numbered command of the README's first shell block."""
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    assert block is not None, "README.md has no ```sh block"
    return block.group(1).strip().splitlines()[number - 1]


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No test CRDs, no active virtualenv, no user git configuration, a private cache."""
    drop = (CRDS_ENV, "VIRTUAL_ENV", "PYTHONPATH", "FLEETGEN_DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("GIT_")}
    env.update(GIT_ENV, HOME=str(tmp_path / "home"), FLEETGEN_CACHE_DIR=str(tmp_path / "cache"))
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def snapshot(dest: Path, env: dict[str, str]) -> Path:
    """A one-commit repository of the work tree as `git add -A` would commit it."""
    if not (REPO / ".git").exists():
        pytest.skip("the project is not a git checkout; nothing to clone")
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard", env=env)
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if source.is_symlink():  # kept a link, as git keeps it
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).symlink_to(source.readlink())
        elif source.is_file():  # a tracked file deleted in the work tree is not committed
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    git(dest, "init", "-q", "-b", "main", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "commit", "-qm", "snapshot", env=env)
    return dest


@pytest.mark.slow
def test_readme_command_1_passes_on_a_fresh_clone(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    source = snapshot(tmp_path / "source", env)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(source), str(clone), env=env)
    assert not (clone / ".venv").exists() and (clone / "schemas").is_dir()
    command = readme_command(1)
    assert "fleetgen validate --all" in command and "generate --check" in command
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fleetgen: no problems found" in done.stderr
    assert "CEL rules:" in done.stderr  # strict validation really ran against schemas/
    assert "generated files are up to date" in done.stderr
    # The check left the clone as it found it: nothing generated, nothing changed.
    assert git(clone, "status", "--porcelain", "--untracked-files=no", env=env) == ""


def test_ci_runs_exactly_readme_command_2() -> None:
    script = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert script[-1] == readme_command(2)
