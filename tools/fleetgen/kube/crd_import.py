"""Import CustomResourceDefinitions into a schema directory (datreeio CRDs-catalog layout).

Accepts files, directories, multi-document files and ``kubectl get crd -o yaml`` output (a
``List`` with ``items``). In a directory, YAML files without any CRD (``kustomization.yaml``)
are skipped; a file named explicitly, or one that holds CRDs, must hold nothing else.
Every import records what it read in ``provenance.json`` (kube.schema_provenance) and removes
the schemas a previous import recorded that this one no longer writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.core.errors import FleetgenError
from fleetgen.kube.crd_schema import (
    ConvertedSchema,
    CRDFormatError,
    convert_crd,
    schema_filename,
    write_catalog,
)
from fleetgen.kube.manifests import ManifestError, load_manifests
from fleetgen.kube.schema_provenance import (
    PROVENANCE_FILE,
    SourceFile,
    provenance_bytes,
    source_file,
)

__all__ = ["CRDImportError", "ImportResult", "import_crds", "read_crds"]

_YAML_SUFFIXES = (".yaml", ".yml")
_CRD = "CustomResourceDefinition"


class CRDImportError(FleetgenError):
    """An input is missing, is not YAML, or is not a CustomResourceDefinition."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    written: tuple[Path, ...]
    crds: tuple[str, ...]  # "Kind.group" of every CRD imported
    skipped: tuple[Path, ...]  # files in directories that held no CRD
    provenance: Path | None = None


def import_crds(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    origins: Mapping[str, Mapping[str, str]] | None = None,
) -> ImportResult:
    """Convert every served version of every CRD under ``paths`` into ``out_dir``."""
    schemas, crds, skipped, sources = read_crds(paths)
    record = provenance_bytes(sources, origins)
    try:
        stale = _previously_written(out_dir)
        written = write_catalog(schemas, out_dir)
        for rel in sorted(stale - {p.relative_to(out_dir).as_posix() for p in written}):
            (out_dir / rel).unlink(missing_ok=True)
        provenance = out_dir / PROVENANCE_FILE
        partial = provenance.with_name(f".{PROVENANCE_FILE}.partial")
        partial.write_bytes(record)
        partial.replace(provenance)
    except OSError as exc:
        raise CRDImportError(f"{out_dir}: cannot write: {exc}") from exc
    return ImportResult(tuple(written), tuple(crds), tuple(skipped), provenance)


def _previously_written(out_dir: Path) -> set[str]:
    """Schemas the last import into ``out_dir`` recorded (only those are ever removed)."""
    try:
        record = json.loads((out_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
        names = {s for src in record["sources"] for s in src["schemas"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    # Only plain {group}/{file}.json names inside the directory, whatever the file says.
    return {
        n
        for n in names
        if isinstance(n, str)
        and n.endswith(".json")
        and n.count("/") == 1
        and ".." not in n
        and not n.startswith("/")
    }


def read_crds(
    paths: Sequence[Path],
) -> tuple[list[ConvertedSchema], list[str], list[Path], list[SourceFile]]:
    """Converted schemas, CRD names, skipped files and what was read; nothing is written."""
    if not paths:
        raise CRDImportError("no input: give CRD files or directories")
    schemas: dict[tuple[str, str, str], tuple[ConvertedSchema, str]] = {}
    crds: list[str] = []
    skipped: list[Path] = []
    sources: list[SourceFile] = []
    for path, explicit, label in _files(paths):
        docs = _documents(path, parse=explicit)
        if not explicit and not any(d.get("kind") == _CRD for d in docs):
            skipped.append(path)
            continue
        try:
            sources.append(source_file(label, path.read_bytes()))
        except OSError as exc:
            raise CRDImportError(f"{path}: cannot read: {exc}") from exc
        if not docs:
            raise CRDImportError(f"{path}: no CustomResourceDefinition (the file is empty)")
        for number, doc in enumerate(docs, start=1):
            source = f"{path} (document {number})" if len(docs) > 1 else str(path)
            if doc.get("kind") != _CRD:
                raise CRDImportError(
                    f"{source}: kind is {doc.get('kind')!r}, not {_CRD} "
                    "(give only CRD files, or a List of CRDs)"
                )
            try:
                converted = convert_crd(doc, source=source)
            except CRDFormatError as exc:
                raise CRDImportError(str(exc)) from exc
            for item in converted:
                _add(schemas, item, source)
                sources[-1].schemas.append(schema_filename(item.group, item.kind, item.version))
            if converted:
                crds.append(f"{converted[0].kind}.{converted[0].group}")
                sources[-1].crds.append(crds[-1])
    if not schemas:
        raise CRDImportError(f"no CustomResourceDefinition found in {', '.join(map(str, paths))}")
    return [item for item, _ in schemas.values()], crds, skipped, sources


def _add(
    schemas: dict[tuple[str, str, str], tuple[ConvertedSchema, str]],
    item: ConvertedSchema,
    source: str,
) -> None:
    key = (item.group, item.kind.lower(), item.version)
    if key in schemas and schemas[key][0].schema != item.schema:
        raise CRDImportError(
            f"{source}: {item.kind}.{item.group} {item.version} differs from the one in "
            f"{schemas[key][1]}; import one of them"
        )
    schemas.setdefault(key, (item, source))


def _files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool, str]]:
    """Each input file once, with whether it was named explicitly and its name as given
    (relative to the directory named, so the record holds no machine's paths)."""
    seen: set[Path] = set()
    for root in paths:
        if root.is_dir():
            entries = [(p, False, p.relative_to(root).as_posix()) for p in _yaml_files(root)]
        elif root.is_file():
            entries = [(root, True, root.name)]
        else:
            raise CRDImportError(f"{root}: no such file or directory")
        for path, explicit, label in entries:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield path, explicit, label


def _yaml_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        # Hidden directories (.git, .venv) hold no CRDs of the repository: not even walked.
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        found.extend(Path(directory, f) for f in files if f.endswith(_YAML_SUFFIXES))
    return sorted(found)


def _documents(path: Path, *, parse: bool) -> list[Mapping[str, Any]]:
    """The file's documents, with List items spliced in (``kubectl get crd -o yaml``); unless
    ``parse``, a file that cannot hold a CRD is not parsed (directories hold megabytes)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CRDImportError(f"{path}: cannot read: {exc}") from exc
    if not parse and _CRD not in text:
        return []
    try:
        docs = load_manifests(text, source=str(path))
    except ManifestError as exc:
        raise CRDImportError(f"{exc} (not valid YAML)") from exc
    out: list[Mapping[str, Any]] = []
    for doc in docs:
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
            out.extend(
                item if isinstance(item, Mapping) else {"kind": None} for item in doc["items"]
            )
        else:
            out.append(doc)
    return out
