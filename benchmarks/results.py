"""Saved results: one JSON file per size in the work directory, which ``--resume`` reuses.

The file holds a size's facts and, under ``stats``, each metric's ``Stat`` as a dict; a
metric already there is not measured again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def cache_file(work: Path, models: int, envs: int, seed: int) -> Path:
    return work / "results" / f"N{models}-E{envs}-s{seed}.json"


def save(work: Path, models: int, envs: int, seed: int, result: dict[str, Any]) -> None:
    path = cache_file(work, models, envs, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def load(work: Path, models: int, envs: int, seed: int) -> dict[str, Any]:
    """The saved result of one size, or an empty dict when there is none (or it is unreadable)."""
    path = cache_file(work, models, envs, seed)
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded
