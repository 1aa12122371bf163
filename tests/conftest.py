"""Shared fixtures: a copy of the example repository, and the installed CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DIRS = ("fleet", "environments", "base", "applicationsets")
EXAMPLE_FILES = (".fleetgen.yaml",)  # the bootstrap settings the generated tree depends on
CRDS_ENV = "FLEETGEN_TEST_CRDS"


def copy_example(dest: Path) -> Path:
    """Copy the example repository's inputs (and generated outputs) into `dest`."""
    for name in EXAMPLE_DIRS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
    for name in EXAMPLE_FILES:
        if (REPO / name).is_file():
            shutil.copy(REPO / name, dest / name)
    return dest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the validation cache of test runs out of the user's cache directory."""
    os.environ["FLEETGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("fleetgen-cache"))
    # Recorded rendered findings stay off: a test that patches fleetgen in process would
    # otherwise read another test's findings. tests/rendered/test_result_cache.py turns it on.
    os.environ["FLEETGEN_RESULTS_DIR"] = ""


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "repo")


def fleetgen_exe() -> str:
    """The console script installed next to the running interpreter."""
    exe = Path(sys.executable).parent / "fleetgen"
    if not exe.exists():
        pytest.fail("the fleetgen console script is not installed; run `pip install -e .`")
    return str(exe)


RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli() -> RunCli:
    """Run the installed `fleetgen` as a user would, in a subprocess."""

    def run(
        args: Sequence[str], *, cwd: Path | None = None, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "FLEETGEN_DEBUG"}
        return subprocess.run(
            [fleetgen_exe(), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            input=input_text,
            env=env,
            timeout=300,
            check=False,
        )

    return run


def crds_dir() -> Path:
    """The upstream CRDs directory, or skip the test with how to enable it."""
    value = os.environ.get(CRDS_ENV)
    if not value:
        pytest.skip(f"set {CRDS_ENV}=<dir of upstream CRDs> to run strict CRD validation")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"{CRDS_ENV}={value} is not a directory")
    return path


def crds_without(tmp_path: Path, *names: str) -> Path:
    """A copy of the upstream CRDs directory lacking the named files: kinds with no schema."""
    source = crds_dir()
    missing = set(names)
    assert missing <= {p.name for p in source.rglob("*.yaml")}, f"no such CRD files: {names}"
    out = tmp_path / "crds-without"
    shutil.copytree(source, out, ignore=lambda _dir, files: [f for f in files if f in missing])
    return out
