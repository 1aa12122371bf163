"""Rendered validation: ``fleetgen validate --rendered`` (CRD schemas, CEL rules, linker).

Against the CRDs named by ``--crds``; skipped without them. ``rendered`` is the full check
(no recorded findings); ``rendered_one`` is a pull request's: one descriptor changed since a
run whose findings were recorded (``FLEETGEN_RESULTS_DIR``, as a CI cache restores them).
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.measure import CHILD_ENV, Stat, measure, run_once
from benchmarks.workspace import Bench

LABELS: dict[str, str] = {
    "rendered": "rendered validation: `fleetgen validate --rendered` (schemas, CEL, linker)",
    "rendered_one": "rendered validation, one descriptor changed, earlier findings restored",
}
RESULTS_ENV = "FLEETGEN_RESULTS_DIR"


def command(bench: Bench, crds: Path) -> list[str]:
    # Resolved: the command runs in the bench fleet, not where the caller named the CRDs.
    return [bench.fleetgen, "validate", "--rendered", "--schema-dir", str(crds.resolve())]


def warm(bench: Bench, crds: Path) -> Stat:
    """``rendered``: one unmeasured run first fills fleetgen's per-user caches (converted
    CRDs, compiled schema pre-checks), as any earlier run on the machine would have."""
    argv = command(bench, crds)
    run_once(argv, bench.root, bench.timeout)
    return measure(argv, bench.root, bench.repeat, bench.timeout)


def one_changed(bench: Bench, crds: Path) -> Stat:
    """``rendered_one``: before each run the one descriptor's autoscaling target moves by one
    (a real change of its apps); the findings of the run before stay recorded."""
    argv = command(bench, crds)
    previous = CHILD_ENV.get(RESULTS_ENV)
    CHILD_ENV[RESULTS_ENV] = str(bench.work / "rendered-results")
    path = bench.root / bench.one
    original = path.read_text()
    try:
        run_once(argv, bench.root, bench.timeout)  # the recorded run (main's, in CI)
        return measure(argv, bench.root, bench.repeat, bench.timeout, before=lambda: _bump(path))
    finally:
        path.write_text(original)
        if previous is None:
            CHILD_ENV.pop(RESULTS_ENV, None)
        else:
            CHILD_ENV[RESULTS_ENV] = previous


def _bump(path: Path) -> None:
    text = path.read_text()
    changed = re.sub(
        r"^(\s*targetPerPod: )(\d+)", lambda m: f"{m[1]}{int(m[2]) + 1}", text, count=1, flags=re.M
    )
    if changed == text:
        raise ValueError(f"{path}: no targetPerPod to change")
    path.write_text(changed)
