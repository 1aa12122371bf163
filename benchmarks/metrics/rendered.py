"""Rendered validation: ``fleetgen validate --rendered`` (CRD schemas, CEL rules, linker).

Against the CRDs named by ``--crds``; skipped without them.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.measure import Stat, measure, run_once
from benchmarks.workspace import Bench

LABELS: dict[str, str] = {
    "rendered": "rendered validation: `fleetgen validate --rendered` (schemas, CEL, linker)",
}


def command(bench: Bench, crds: Path) -> list[str]:
    # Resolved: the command runs in the bench fleet, not where the caller named the CRDs.
    return [bench.fleetgen, "validate", "--rendered", "--schema-dir", str(crds.resolve())]


def warm(bench: Bench, crds: Path) -> Stat:
    """``rendered``: one unmeasured run first fills fleetgen's per-user caches (converted
    CRDs, compiled schema pre-checks), as any earlier run on the machine would have."""
    argv = command(bench, crds)
    run_once(argv, bench.root, bench.timeout)
    return measure(argv, bench.root, bench.repeat, bench.timeout)
