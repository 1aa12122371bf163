"""Find the repository's input files: descriptors and environment files."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location

FLEET_DIR = "fleet"
ENVIRONMENTS_DIR = "environments"
ENVIRONMENT_FILE = "environment.yaml"
MAX_FILES = 20_000


@dataclass(frozen=True, slots=True)
class Inputs:
    """Repository-relative POSIX paths of the inputs, sorted."""

    descriptors: tuple[str, ...]
    environments: tuple[str, ...]


def _inside(root: Path, path: Path, parents: dict[Path, bool]) -> bool:
    # Only links can leave the tree: resolve a file only when it is a link, and each
    # directory once.
    parent = path.parent
    if parent not in parents:
        try:
            parent.resolve().relative_to(root)
            parents[parent] = True
        except ValueError:
            parents[parent] = False
    if not parents[parent]:
        return False
    if not path.is_symlink():
        return True
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _collect(root: Path, candidates: list[Path], out: list[str], diags: list[Diagnostic]) -> None:
    parents: dict[Path, bool] = {}
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        if not _inside(root, path, parents):
            diags.append(
                diag(
                    "FG008",
                    "the file is a symlink that points outside the repository",
                    Location(rel),
                    hint="commit the file itself, not a link to it",
                )
            )
        elif path.is_file():
            out.append(rel)


def _first(paths: Iterator[Path], room: int) -> tuple[list[Path], bool]:
    """Up to `room` paths, and whether there were more: never list a huge tree whole."""
    taken = list(itertools.islice(paths, room + 1))
    return taken[:room], len(taken) > room


def _too_many(where: str) -> Diagnostic:
    return diag(
        "FG010",
        f"more than {MAX_FILES} input files (descriptors and environment files); "
        f"the cap is {MAX_FILES}",
        Location(where),
        hint="nothing else is checked until the repository is under the cap",
    )


def discover(root: Path) -> tuple[Inputs, list[Diagnostic]]:
    """All descriptor and environment files under `root`, with path diagnostics.

    MAX_FILES caps both kinds together. Over the cap, only FG010 is reported: which files
    would be kept depends on directory order, and a partial fleet breeds false errors.
    """
    root = root.resolve()
    diags: list[Diagnostic] = []
    env_dir = root / ENVIRONMENTS_DIR
    env_files, over = (
        _first(env_dir.glob(f"*/{ENVIRONMENT_FILE}"), MAX_FILES)
        if env_dir.is_dir()
        else ([], False)
    )
    if over:
        return Inputs((), ()), [_too_many(ENVIRONMENTS_DIR)]
    fleet = root / FLEET_DIR
    found, over = (
        _first(
            (p for p in fleet.rglob("*") if p.suffix in (".yaml", ".yml")),
            MAX_FILES - len(env_files),
        )
        if fleet.is_dir()
        else ([], False)
    )
    if over:
        return Inputs((), ()), [_too_many(FLEET_DIR)]
    descriptors: list[str] = []
    _collect(root, sorted(found), descriptors, diags)
    environments: list[str] = []
    _collect(root, sorted(env_files), environments, diags)
    return Inputs(tuple(descriptors), tuple(environments)), diags
