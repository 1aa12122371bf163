"""Write contract data for vLLM release artifacts into a directory, one file per release.

A patch release whose facts equal the previous release of its minor gets a small file that
says so (``sameAs``) with its own provenance. Rerunning on the same artifacts rewrites
nothing: a file whose artifact digest and facts are unchanged keeps its bytes (and so its
extraction date). Each file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.core.errors import FleetgenError
from fleetgen.knowledge.vllm.extract import FORMAT, encode, facts
from fleetgen.knowledge.vllm.sources import read_archive
from fleetgen.knowledge.vllm.store import BUNDLED, release_key

_META = ("format", "runtime", "version", "provenance")


@dataclass(frozen=True, slots=True)
class ImportResult:
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]


def _facts_of(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in _META}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _resolved(version: str, directories: Sequence[Path]) -> dict[str, Any] | None:
    """The facts of ``version`` as stored, following ``sameAs``."""
    for _ in range(64):
        document = next(
            (d for d in (_read(x / f"{version}.json") for x in directories) if d is not None),
            None,
        )
        if document is None:
            return None
        if "sameAs" not in document:
            return _facts_of(document)
        version = str(document["sameAs"])
    return None


def _previous_in_minor(version: str, directories: Sequence[Path]) -> str | None:
    key = release_key(version)
    assert key is not None
    best: tuple[tuple[int, ...], str] | None = None
    for directory in directories:
        for path in directory.glob("*.json"):
            other = release_key(path.stem)
            same_minor = other is not None and other[:2] == key[:2] and other < key
            if other is not None and same_minor and (best is None or other > best[0]):
                best = (other, path.stem)
    return best[1] if best else None


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def import_releases(
    archives: Sequence[Path], out_dir: Path, today: datetime.date | None = None
) -> ImportResult:
    """Extract every archive (oldest release first) into ``out_dir``."""
    read = []
    for archive in archives:
        artifact, tree = read_archive(archive)
        if release_key(artifact.version) is None:
            raise FleetgenError(f"{archive}: version {artifact.version!r} is not a vLLM release")
        read.append((artifact, tree))
    read.sort(key=lambda pair: release_key(pair[0].version) or ())
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FleetgenError(f"{out_dir}: cannot create: {err.strerror}") from err
    directories = [out_dir] if out_dir.resolve() == BUNDLED.resolve() else [out_dir, BUNDLED]
    written: list[Path] = []
    unchanged: list[Path] = []
    for artifact, tree in read:
        extracted = facts(tree)
        target = out_dir / f"{artifact.version}.json"
        existing = _read(target)
        same_artifact = (
            existing is not None and existing.get("provenance", {}).get("sha256") == artifact.sha256
        )
        if same_artifact and _resolved(artifact.version, directories) == extracted:
            unchanged.append(target)
            continue
        previous = _previous_in_minor(artifact.version, directories)
        document: dict[str, Any] = {
            "format": FORMAT,
            "runtime": "vllm",
            "version": artifact.version,
            "provenance": {
                "artifact": artifact.file_name,
                "sha256": artifact.sha256,
                "extracted": (today or datetime.date.today()).isoformat(),
                "extractor": "fleetgen runtime import",
            },
        }
        if previous is not None and _resolved(previous, directories) == extracted:
            document["sameAs"] = previous
        else:
            document.update(extracted)
        try:
            _write(target, encode(document))
        except OSError as err:
            raise FleetgenError(f"{target}: cannot write: {err.strerror}") from err
        written.append(target)
    return ImportResult(tuple(written), tuple(unchanged))
