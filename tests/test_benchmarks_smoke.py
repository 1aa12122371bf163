"""The benchmark tools still run: a tiny synthetic fleet validates and run.py completes.

No timing assertions: timings belong in benchmarks/RESULTS.md, not in the test suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import fleetgen_exe

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_synthetic_fleet_validates_clean(tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    synth = _run(
        [
            sys.executable,
            str(BENCHMARKS / "synth.py"),
            "--models",
            "5",
            "--envs",
            "3",
            "--out",
            str(out),
        ],
        cwd=REPO,
    )
    assert synth.returncode == 0, synth.stderr
    assert len(list((out / "fleet").glob("*.yaml"))) == 5
    assert sorted(p.name for p in (out / "environments").iterdir()) == ["dev", "prod", "staging"]
    result = _run([fleetgen_exe(), "validate", "--format", "json"], cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_run_completes_without_anchors(tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = _run(
        [
            sys.executable,
            str(BENCHMARKS / "run.py"),
            "--sizes",
            "5",
            "--repeat",
            "1",
            "--no-anchors",
            "--work",
            str(work),
        ],
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| full `fleetgen validate` |" in result.stdout
    assert "N=5" in result.stdout
    assert list((work / "results").glob("N5-*.json"))
    if os.environ.get("FLEETGEN_TEST_CRDS"):  # the rendered metric needs upstream CRDs
        assert "| rendered validation: `fleetgen validate --rendered`" in result.stdout
