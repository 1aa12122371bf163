"""Where each imported schema came from: ``provenance.json`` beside the converted schemas.

``fleetgen schemas import`` records, for every CRD file it read, the file's path as given
(relative to the directory named on the command line), its size, SHA-256 and git blob id
(so it can be checked against the upstream tree with ``git ls-tree``), the CRDs it held and
the schema files written from them. Where the CRD files came from upstream is not in the
files themselves, so an optional origins file (YAML, ``file: {repository, tag, path}``)
names it; it is merged into the record, and every entry must name a file that was read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetgen.core.errors import FleetgenError

__all__ = [
    "ORIGIN_KEYS",
    "PROVENANCE_FILE",
    "ProvenanceError",
    "SourceFile",
    "load_origins",
    "provenance_bytes",
    "source_file",
]

PROVENANCE_FILE = "provenance.json"
ORIGIN_KEYS = ("repository", "tag", "path")  # all required
_OPTIONAL_ORIGIN_KEYS = ("commit",)


class ProvenanceError(FleetgenError):
    """The origins file cannot be read or does not match the files imported."""


@dataclass(slots=True)
class SourceFile:
    """One CRD file read by the importer."""

    file: str  # as given: relative to the directory on the command line, or the file's name
    size: int
    sha256: str
    git_blob: str
    crds: list[str] = field(default_factory=list)  # "Kind.group"
    schemas: list[str] = field(default_factory=list)  # written, relative to the schema dir


def source_file(label: str, data: bytes) -> SourceFile:
    # A git blob id is sha1 over "blob <size>\0" and the bytes: what `git hash-object` prints.
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    return SourceFile(label, len(data), hashlib.sha256(data).hexdigest(), blob)


def load_origins(path: Path) -> dict[str, dict[str, str]]:
    """The origins file: ``{file: {repository, tag, path[, commit]}}``, strictly checked."""
    from fleetgen.kube.manifests import ManifestError, load_manifests

    try:
        docs = load_manifests(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvenanceError(f"{path}: cannot read: {exc}") from exc
    except ManifestError as exc:
        raise ProvenanceError(str(exc)) from exc
    if len(docs) != 1 or not isinstance(docs[0], Mapping):
        raise ProvenanceError(f"{path}: expected one mapping of file -> origin")
    origins: dict[str, dict[str, str]] = {}
    for name, origin in docs[0].items():
        if not isinstance(origin, Mapping):
            raise ProvenanceError(f"{path}: {name}: expected a mapping, not {origin!r}")
        unknown = sorted(set(origin) - set(ORIGIN_KEYS) - set(_OPTIONAL_ORIGIN_KEYS))
        missing = [k for k in ORIGIN_KEYS if k not in origin]
        if unknown or missing:
            raise ProvenanceError(
                f"{path}: {name}: "
                + "; ".join(
                    part
                    for part in (
                        f"unknown key(s) {', '.join(unknown)}" if unknown else "",
                        f"missing key(s) {', '.join(missing)}" if missing else "",
                    )
                    if part
                )
            )
        if not all(isinstance(v, str) and v for v in origin.values()):
            raise ProvenanceError(f"{path}: {name}: every value must be a non-empty string")
        origins[str(name)] = {k: str(v) for k, v in origin.items()}
    return origins


def provenance_bytes(
    sources: Sequence[SourceFile], origins: Mapping[str, Mapping[str, str]] | None
) -> bytes:
    """The record, sorted and stable: the same inputs give the same bytes."""
    known = {s.file for s in sources}
    stray = sorted(set(origins or {}) - known)
    if stray:
        raise ProvenanceError(
            f"the origins name file(s) that were not imported: {', '.join(stray)}"
        )
    entries: list[dict[str, Any]] = []
    for source in sorted(sources, key=lambda s: s.file):
        entry: dict[str, Any] = {
            "file": source.file,
            "bytes": source.size,
            "sha256": source.sha256,
            "gitBlob": source.git_blob,
            "crds": sorted(source.crds),
            "schemas": sorted(source.schemas),
        }
        origin = (origins or {}).get(source.file)
        if origin is not None:
            entry["upstream"] = dict(sorted(origin.items()))
        entries.append(entry)
    record = {"generator": "fleetgen schemas import", "sources": entries}
    return (json.dumps(record, indent=2) + "\n").encode("utf-8")
