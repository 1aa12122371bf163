"""The pre-commit path: ``fleetgen validate fleet/<one>.yaml``, as the hook runs it.

Timed with fleetgen's cache of validated inputs warm (the usual commit) and, as
``precommit_cold``, emptied before each run (first commit, or every file changed). The cache
lives in the work directory (``FLEETGEN_CACHE_DIR``), never in ``~/.cache``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.measure import CHILD_ENV, Stat, measure, run_once
from benchmarks.workspace import Bench

LABELS: dict[str, str] = {
    "precommit": "pre-commit path: `fleetgen validate fleet/<one>.yaml`, warm cache",
    "precommit_cold": "pre-commit path, cold cache (first run, or every file changed)",
}


def _command(bench: Bench) -> list[str]:
    return [bench.fleetgen, "validate", bench.one]


def clear_cache() -> None:
    shutil.rmtree(Path(CHILD_ENV["FLEETGEN_CACHE_DIR"]), ignore_errors=True)


def warm(bench: Bench) -> Stat:
    """``precommit``: one unmeasured run fills the cache, as the previous commit did."""
    clear_cache()
    run_once(_command(bench), bench.root, bench.timeout)
    return measure(_command(bench), bench.root, bench.repeat, bench.timeout)


def cold(bench: Bench) -> Stat:
    """``precommit_cold``: the cache emptied before every run."""
    return measure(_command(bench), bench.root, bench.repeat, bench.timeout, before=clear_cache)
