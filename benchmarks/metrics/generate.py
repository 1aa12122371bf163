"""Generation: ``fleetgen generate`` into an empty tree, and again on the unchanged tree."""

from __future__ import annotations

import subprocess

from benchmarks.measure import CHILD_ENV, Run, Stat, measure
from benchmarks.workspace import Bench, reset_generated

LABELS: dict[str, str] = {
    "gen_cold": "`fleetgen generate`, cold (empty `applicationsets/`)",
    "gen_same": "`fleetgen generate`, unchanged tree (0 files written)",
}


def cold(bench: Bench) -> Stat:
    """``gen_cold``: `applicationsets/` removed before every run."""
    return measure(
        [bench.fleetgen, "generate"],
        bench.root,
        bench.repeat,
        bench.timeout,
        before=lambda: reset_generated(bench.root),
    )


def ensure_generated(bench: Bench) -> None:
    """Generate once, unmeasured, where `gen_cold` did not run (``--resume`` kept its
    numbers; synth.py cleared the tree): the unchanged run, rendered validation and the
    anchors need the generated tree."""
    if (bench.root / "applicationsets").is_dir():
        return
    reset_generated(bench.root)
    subprocess.run(
        [bench.fleetgen, "generate"], cwd=bench.root, check=True, capture_output=True, env=CHILD_ENV
    )


def _unchanged(result: Run) -> str | None:
    text = result.stdout + result.stderr
    return None if "0 file(s) changed" in text else "expected '0 file(s) changed'"


def unchanged(bench: Bench) -> Stat:
    """``gen_same``: every run must change 0 files, else the metric fails."""
    return measure(
        [bench.fleetgen, "generate"], bench.root, bench.repeat, bench.timeout, check=_unchanged
    )
