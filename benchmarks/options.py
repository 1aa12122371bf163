"""What one benchmark run was asked for: the command line, parsed once in ``run.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Options:
    work: Path  # scratch directory: synthetic fleets, caches, saved results
    envs: int
    repeat: int  # runs per median (fewer at large sizes: see size.repeats_for)
    seed: int
    timeout: float
    no_anchors: bool
    kustomize_sample: int
    kubeconform_schemas: str | None
    no_bytecode_cache: bool
    crds: Path | None  # upstream CRDs for the rendered metric; None skips it
