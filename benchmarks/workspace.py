"""The synthetic repository on disk, and the programs the benchmark runs on it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import CHILD_ENV

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
RUN_PY = HERE / "run.py"
SCHEMA = REPO / "tools" / "fleetgen" / "schemas" / "descriptor.schema.json"


@dataclass(frozen=True, slots=True)
class Bench:
    """One fleet size under measurement: what every metric needs to run its commands."""

    root: Path  # the synthetic repository, the working directory of every command
    work: Path  # the scratch directory (fleetgen's cache, the floor's output)
    one: str  # the descriptor the pre-commit path validates, relative to `root`
    repeat: int  # runs per median at this size
    timeout: float  # seconds per command run
    fleetgen: str  # the console script measured


def tool(name: str) -> str:
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} or on PATH")
    return found


def synthesize(root: Path, models: int, envs: int, seed: int) -> None:
    argv = [sys.executable, str(HERE / "synth.py"), "--models", str(models), "--envs", str(envs)]
    argv += ["--out", str(root), "--seed", str(seed)]
    subprocess.run(argv, check=True, capture_output=True, text=True, env=CHILD_ENV)


def tree_size(root: Path) -> tuple[int, int]:
    """Number of files under `root` and their total size in bytes."""
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def overlays(root: Path) -> list[Path]:
    """Every generated model overlay (one per app)."""
    return sorted(
        p.parent for p in (root / "applicationsets").glob("*/*/models/*/kustomization.yaml")
    )


def reset_generated(root: Path) -> None:
    """Remove the generated tree and any staging left by an interrupted generate."""
    shutil.rmtree(root / "applicationsets", ignore_errors=True)
    for leftover in root.glob(".applicationsets.fleetgen-staging*"):
        shutil.rmtree(leftover, ignore_errors=True)
