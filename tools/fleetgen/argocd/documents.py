"""Argo CD objects read from repository files, each able to say where a field of it sits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fleetgen.core.diagnostics import Location

__all__ = ["Doc", "DocumentError", "read_documents"]


class DocumentError(Exception):
    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location


@dataclass(frozen=True, slots=True)
class Doc:
    """One YAML document of a repository file, with its node tree for positions."""

    path: str
    data: dict[str, Any]
    node: yaml.Node | None

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.data.get("metadata") or {}).get("namespace") or "")

    def at(self, *parts: str | int) -> Location:
        """The deepest node the path reaches (the document, at worst)."""
        node, key = self.node, None
        if node is None:
            return Location(self.path)
        for part in parts:
            found: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == part), None)
                found, key = (pair[1], pair[0]) if pair else (None, key)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                found = node.value[part] if 0 <= part < len(node.value) else None
                key = None
            if found is None:
                break
            node = found
        # A mapping or list under a key: the key's line (where a reader looks for it).
        if key is not None and isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            node = key
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)


def read_documents(root: Path, path: str) -> list[Doc]:
    """Every mapping document of a repository file (DocumentError if it is not YAML)."""
    try:
        text = (root / path).read_text(encoding="utf-8")
        nodes = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
        docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(Location(path), f"cannot read: {exc}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        raise DocumentError(where, f"not valid YAML: {exc.problem}") from exc
    return [
        Doc(path, doc, node) for node, doc in zip(nodes, docs, strict=True) if isinstance(doc, dict)
    ]


@lru_cache(maxsize=256)
def _cached(root: Path, path: str, stamp: tuple[int, int]) -> tuple[Doc, ...]:
    del stamp  # part of the key only: a rewritten file is read again
    return tuple(read_documents(root, path))


def matching_node(root: Path, path: str, doc: dict[str, Any]) -> Doc:
    """The document of ``path`` a built object came from (same kind and name), for positions."""
    kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
    try:
        info = (root / path).stat()
        candidates = _cached(root, path, (info.st_mtime_ns, info.st_size))
    except (OSError, DocumentError):
        return Doc(path, doc, None)
    for found in candidates:
        if found.kind == kind and found.name == name:
            return Doc(path, doc, found.node)
    same_kind = [d for d in candidates if d.kind == kind]
    return Doc(path, doc, same_kind[0].node if len(same_kind) == 1 else None)


def walk(
    data: Any, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (path, value) of a JSON-like tree, depth first."""
    yield prefix, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*prefix, index))
