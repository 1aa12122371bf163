"""The code base stays typed and linted: mypy --strict and ruff over the package, the
benchmarks and the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


def test_mypy_strict() -> None:
    result = _run(str(BIN / "mypy"), "--strict", "tools/fleetgen", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format() -> None:
    lint = _run(str(BIN / "ruff"), "check", "tools", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(str(BIN / "ruff"), "format", "--check", "tools", "tests", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
