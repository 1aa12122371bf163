"""Know that a regenerate would change nothing without rendering the fleet again.

The generated tree is a pure function of the repository's inputs (``fleet/``,
``environments/``, ``base/``, ``.fleetgen.yaml``) and of fleetgen itself. After a run that
leaves the tree equal to its plan, the digest of all of those is recorded with the manifest
of that tree in the per-user cache. A later run with the same digest only has to prove that
the tree on disk still holds exactly the manifest's files, byte for byte (sha256), to know
that rendering would produce what is already there.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fleetgen.core.cache_files import cache_dir, write_cache_file
from fleetgen.domain import layout
from fleetgen.loading.config import CONFIG_FILE

INPUT_DIRS = ("fleet", "environments", "base")
_PACKAGE = Path(__file__).resolve().parent.parent
_CODE_SUFFIXES = (".py", ".json")  # what rendering can depend on (not the docs)


def inputs_digest(root: Path) -> str:
    """sha256 over every input file (path and bytes) and fleetgen's own code."""
    digest = hashlib.sha256()
    for name in (*INPUT_DIRS, CONFIG_FILE):
        for path in _files(root / name):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(code_digest().encode())
    return digest.hexdigest()


def code_digest() -> str:
    """sha256 over fleetgen's own code and data (what any output of it can depend on)."""
    digest = hashlib.sha256()
    for path in _files(_PACKAGE):
        if path.suffix in _CODE_SUFFIXES:
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def files_digest(root: Path, tops: list[Path]) -> str:
    """sha256 over every file under `tops` (path relative to `root`, and bytes)."""
    digest = hashlib.sha256()
    for top in tops:
        for path in _files(top):
            name = path.relative_to(root) if path.is_relative_to(root) else path
            digest.update(name.as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _files(top: Path) -> list[Path]:
    if top.is_file():
        return [top]
    found: list[Path] = []
    for directory, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found.extend(Path(directory) / n for n in sorted(names))
    return found


def _record_path(root: Path) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return directory / "generate" / f"{key}.json"


def record(root: Path, digest: str, manifest: bytes) -> None:
    """Remember that inputs with `digest` produced the tree `manifest` describes."""
    path = _record_path(root)
    if path is None:
        return
    entry = {"inputs": digest, "manifest": manifest.decode("utf-8")}
    write_cache_file(path, json.dumps(entry).encode("utf-8"))


def tree_is_current(root: Path, digest: str) -> bool:
    """True when inputs with `digest` last produced exactly the tree now on disk."""
    path = _record_path(root)
    if path is None:
        return False
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        on_disk = (root / layout.MANIFEST).read_bytes()
    except (OSError, ValueError):
        return False
    if not isinstance(entry, dict) or entry.get("inputs") != digest:
        return False
    if entry.get("manifest") != on_disk.decode("utf-8", errors="replace"):
        return False
    try:
        files = json.loads(on_disk)["files"]
        generated = (root / layout.GENERATED_ROOT).resolve()
        return isinstance(files, dict) and all(
            _holds(generated, str(rel), str(sha)) for rel, sha in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _holds(generated: Path, rel: str, sha: str) -> bool:
    """The regular file at `rel` (no links on the way, inside the tree) has hash `sha`."""
    path = generated / rel
    if path.resolve() != path or generated not in path.parents:
        return False  # a link, or a manifest path that leaves the tree: let generate decide
    return hashlib.sha256(path.read_bytes()).hexdigest() == sha
