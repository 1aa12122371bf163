"""Find the repository's input files: descriptors and environment files."""

from __future__ import annotations

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


def discover(root: Path) -> tuple[Inputs, list[Diagnostic]]:
    """All descriptor and environment files under `root`, with path diagnostics."""
    root = root.resolve()
    diags: list[Diagnostic] = []
    fleet = root / FLEET_DIR
    found = (
        sorted(p for p in fleet.rglob("*") if p.suffix in (".yaml", ".yml"))
        if fleet.is_dir()
        else []
    )
    if len(found) > MAX_FILES:
        diags.append(
            diag(
                "FG010",
                f"{len(found)} descriptor files; the cap is {MAX_FILES}",
                Location(FLEET_DIR),
            )
        )
        found = found[:MAX_FILES]
    descriptors: list[str] = []
    _collect(root, found, descriptors, diags)
    env_dir = root / ENVIRONMENTS_DIR
    env_files = sorted(env_dir.glob(f"*/{ENVIRONMENT_FILE}")) if env_dir.is_dir() else []
    environments: list[str] = []
    _collect(root, env_files, environments, diags)
    return Inputs(tuple(descriptors), tuple(environments)), diags
