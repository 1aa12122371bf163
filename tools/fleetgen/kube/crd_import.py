"""Import CustomResourceDefinitions into a schema directory (datreeio CRDs-catalog layout).

Accepts files, directories, multi-document files and ``kubectl get crd -o yaml`` output (a
``List`` with ``items``). In a directory, YAML files without any CRD (``kustomization.yaml``)
are skipped; a file named explicitly, or one that holds CRDs, must hold nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.core.errors import FleetgenError
from fleetgen.kube.crd_schema import ConvertedSchema, CRDFormatError, convert_crd, write_catalog
from fleetgen.kube.manifests import ManifestError, load_manifests

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


def import_crds(paths: Sequence[Path], out_dir: Path) -> ImportResult:
    """Convert every served version of every CRD under ``paths`` into ``out_dir``."""
    schemas, crds, skipped = read_crds(paths)
    try:
        written = write_catalog(schemas, out_dir)
    except OSError as exc:
        raise CRDImportError(f"{out_dir}: cannot write: {exc}") from exc
    return ImportResult(tuple(written), tuple(crds), tuple(skipped))


def read_crds(paths: Sequence[Path]) -> tuple[list[ConvertedSchema], list[str], list[Path]]:
    """Converted schemas, CRD names and skipped files; nothing is written."""
    if not paths:
        raise CRDImportError("no input: give CRD files or directories")
    schemas: dict[tuple[str, str, str], tuple[ConvertedSchema, str]] = {}
    crds: list[str] = []
    skipped: list[Path] = []
    for path, explicit in _files(paths):
        docs = _documents(path, parse=explicit)
        if not explicit and not any(d.get("kind") == _CRD for d in docs):
            skipped.append(path)
            continue
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
            if converted:
                crds.append(f"{converted[0].kind}.{converted[0].group}")
    if not schemas:
        raise CRDImportError(f"no CustomResourceDefinition found in {', '.join(map(str, paths))}")
    return [item for item, _ in schemas.values()], crds, skipped


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


def _files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
    """Each input file once, with whether it was named explicitly."""
    seen: set[Path] = set()
    for root in paths:
        if root.is_dir():
            entries = [(p, False) for p in _yaml_files(root)]
        elif root.is_file():
            entries = [(root, True)]
        else:
            raise CRDImportError(f"{root}: no such file or directory")
        for path, explicit in entries:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield path, explicit


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
