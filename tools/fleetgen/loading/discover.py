"""Find the repository's input files: descriptors and environment files."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location

FLEET_DIR = "fleet"
ENVIRONMENTS_DIR = "environments"
ENVIRONMENT_FILE = "environment.yaml"
MAX_FILES = 20_000


@dataclass(frozen=True, slots=True)
class Inputs:
    """Repository-relative POSIX paths of the inputs, sorted."""

    descriptors: tuple[str, ...]
    environments: tuple[str, ...]


def _inside(root: Path, entry: os.DirEntry[str], parents: dict[str, bool]) -> bool:
    # Only links can leave the tree: resolve a file only when it is a link, and each
    # directory once.
    parent = entry.path[: -len(entry.name) - 1]
    if parent not in parents:
        parents[parent] = Path(parent).resolve().is_relative_to(root)
    if not parents[parent]:
        return False
    return not entry.is_symlink() or Path(entry.path).resolve().is_relative_to(root)


def _collect(
    root: Path, entries: list[os.DirEntry[str]], out: list[str], diags: list[Diagnostic]
) -> None:
    parents: dict[str, bool] = {}
    prefix = len(str(root)) + 1
    for entry in entries:
        rel = entry.path[prefix:].replace(os.sep, "/")
        if not _inside(root, entry, parents):
            diags.append(
                diag(
                    "FG008",
                    "the file is a symlink that points outside the repository",
                    Location(rel),
                    hint="commit the file itself, not a link to it",
                )
            )
        elif entry.is_file():
            out.append(rel)


def _is_yaml(name: str) -> bool:
    """Path(name).suffix is .yaml or .yml, without building a Path per file."""
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:] in (".yaml", ".yml")


def _yaml_entries(top: Path) -> Iterator[os.DirEntry[str]]:
    """Every *.yaml and *.yml entry under `top` (links to directories are not followed)."""
    pending = [str(top)]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif _is_yaml(entry.name):
                        yield entry
        except OSError:
            continue  # an unreadable directory holds nothing we can load


def _first(entries: Iterator[os.DirEntry[str]], room: int) -> tuple[list[os.DirEntry[str]], bool]:
    """Up to `room` entries, and whether there were more: never list a huge tree whole."""
    taken = list(itertools.islice(entries, room + 1))
    return taken[:room], len(taken) > room


def _by_path(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    return sorted(entries, key=lambda e: e.path.split("/"))  # as Path sorts: by parts


def _environment_entries(env_dir: Path) -> Iterator[os.DirEntry[str]]:
    """environments/*/environment.yaml; a linked directory is followed here, so that a link
    out of the repository is reported rather than skipped."""
    try:
        with os.scandir(env_dir) as listing:
            directories = [e.path for e in listing if e.is_dir()]
    except OSError:
        return
    for directory in directories:
        try:
            with os.scandir(directory) as listing:
                yield from (e for e in listing if e.name == ENVIRONMENT_FILE)
        except OSError:
            continue


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
        _first(_environment_entries(env_dir), MAX_FILES) if env_dir.is_dir() else ([], False)
    )
    if over:
        return Inputs((), ()), [_too_many(ENVIRONMENTS_DIR)]
    fleet = root / FLEET_DIR
    found, over = (
        _first(_yaml_entries(fleet), MAX_FILES - len(env_files)) if fleet.is_dir() else ([], False)
    )
    if over:
        return Inputs((), ()), [_too_many(FLEET_DIR)]
    descriptors: list[str] = []
    _collect(root, _by_path(found), descriptors, diags)
    environments: list[str] = []
    _collect(root, _by_path(env_files), environments, diags)
    return Inputs(tuple(descriptors), tuple(environments)), diags
