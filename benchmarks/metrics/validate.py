"""Full validation: ``fleetgen validate`` (every descriptor, plus cross-references)."""

from __future__ import annotations

from benchmarks.measure import Stat, measure
from benchmarks.workspace import Bench

LABELS: dict[str, str] = {"validate": "full `fleetgen validate`"}


def full(bench: Bench) -> Stat:
    """``validate``: median over the runs; the cache of validated inputs stays as it is."""
    return measure([bench.fleetgen, "validate"], bench.root, bench.repeat, bench.timeout)
