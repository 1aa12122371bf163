"""A fast in-process renderer for the overlays fleetgen generates.

kustomize spends ~100 ms of CPU per overlay (it round-trips every resource per patch), so a
fleet of thousands of apps takes minutes. fleetgen's overlays use a small, fixed subset of
kustomize: resources, components, the `labels` and `commonAnnotations` transformers and
inline JSON6902 patches. This module implements exactly that subset; anything else raises
Unsupported and the caller builds that app with the real kustomize. The caller also builds a
sample of apps with kustomize and compares, so a divergence is never silent.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "components",
    "patches",
    "labels",
    "commonAnnotations",
    "buildMetadata",
}
Doc = dict[str, Any]


class Unsupported(Exception):
    """The overlay uses something outside the subset; build it with kustomize."""


@cache
def _load_yaml(path: Path) -> tuple[Any, ...]:
    text = path.read_text(encoding="utf-8")
    try:
        return tuple(d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None)
    except yaml.YAMLError as exc:  # kustomize then builds it and says what is wrong, where
        raise Unsupported(f"{path}: not YAML ({exc})") from exc


class _Tree:
    """The repository on disk with the planned (not yet written) generated files over it."""

    def __init__(self, root: Path, planned: Mapping[str, bytes]) -> None:
        self.root = root
        self.planned = planned

    def planned_bytes(self, path: Path) -> bytes | None:
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return None
        return self.planned.get(relative)

    def is_dir(self, path: Path) -> bool:
        return path.is_dir() or self.planned_bytes(path / "kustomization.yaml") is not None


def _kustomization(directory: Path, tree: _Tree) -> dict[str, Any]:
    path = directory / "kustomization.yaml"
    planned = tree.planned_bytes(path)
    if planned is not None:
        # Generated overlays are read once each: parsed, never cached.
        try:
            loaded = yaml.load(planned, Loader=yaml.CSafeLoader)
        except yaml.YAMLError as exc:
            raise Unsupported(f"{path}: not YAML ({exc})") from exc
        data = loaded if loaded is not None else {}
    elif not path.is_file():
        raise Unsupported(f"{directory}: no kustomization.yaml")
    else:
        (data,) = _load_yaml(path) or ({},)
    if not isinstance(data, dict) or set(data) - _KUSTOMIZATION_KEYS:
        raise Unsupported(f"{path}: uses {sorted(set(data) - _KUSTOMIZATION_KEYS)}")
    return data


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _apply_op(doc: Doc, op: dict[str, Any]) -> None:
    kind, path = op.get("op"), str(op.get("path", ""))
    parts = [_unescape(p) for p in path.split("/")[1:]]
    if not parts:
        raise Unsupported(f"patch on the whole document: {op}")
    parent: Any = doc
    for part in parts[:-1]:
        if isinstance(parent, list):
            parent = parent[int(part)]
        elif isinstance(parent, dict) and part in parent:
            parent = parent[part]
        else:
            raise Unsupported(f"path {path} does not exist")
    last = parts[-1]
    if kind == "remove":
        if isinstance(parent, list):
            del parent[int(last)]
        else:
            del parent[last]
    elif kind in ("add", "replace"):
        value = copy.deepcopy(op.get("value"))
        if isinstance(parent, list):
            if last == "-" and kind == "add":
                parent.append(value)
            elif kind == "add":
                parent.insert(int(last), value)
            else:
                parent[int(last)] = value
        elif isinstance(parent, dict):
            if kind == "replace" and last not in parent:
                raise Unsupported(f"replace of a missing key {path}")
            parent[last] = value
        else:
            raise Unsupported(f"path {path} crosses a scalar")
    else:
        raise Unsupported(f"JSON6902 op {kind!r}")


_ORIGINAL = "__fleetgen_original_name__"


def _matches(doc: Doc, target: dict[str, Any]) -> bool:
    """kustomize selects patch targets by the name a resource had where it was loaded, so a
    rename by one patch does not hide the object from the next."""
    api = str(doc.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    wanted = {"group": group, "version": version, "kind": doc.get("kind")}
    if set(target) - {*wanted, "name"}:
        raise Unsupported(f"patch target selector {sorted(target)}")
    names = {doc.get(_ORIGINAL), doc.get("metadata", {}).get("name")}
    return all(wanted[k] == v for k, v in target.items() if k != "name") and (
        "name" not in target or target["name"] in names
    )


def _patch(docs: list[tuple[Doc, str]], patches: list[Any], directory: Path, tree: _Tree) -> None:
    by_name: dict[Any, list[Doc]] = {}
    for doc, _ in docs:  # patches target one object by name: look it up, do not scan
        for name in {doc.get(_ORIGINAL), doc.get("metadata", {}).get("name")}:
            by_name.setdefault(name, []).append(doc)
    for entry in patches:
        if not isinstance(entry, dict) or "patch" not in entry or "target" not in entry:
            path = directory / str(entry.get("path")) if isinstance(entry, dict) else None
            planned = tree.planned_bytes(path) if path is not None else None
            text = (
                planned.decode("utf-8")
                if planned is not None
                else path.read_text()
                if path is not None and "path" in entry
                else None
            )
            if text is None or "target" not in entry:
                raise Unsupported(f"patch entry {entry}")
        else:
            text = str(entry["patch"])
        try:
            ops = json.loads(text)  # what fleetgen writes
        except ValueError:
            ops = yaml.load(text, Loader=yaml.CSafeLoader)
        if not isinstance(ops, list):
            raise Unsupported("strategic-merge patch")
        target = entry["target"]
        if not isinstance(target, dict):
            raise Unsupported(f"patch target {target!r}")
        candidates = by_name.get(target["name"], []) if "name" in target else [d for d, _ in docs]
        for doc in candidates:
            if _matches(doc, target):
                for op in ops:
                    _apply_op(doc, op)
                renamed = by_name.setdefault(doc.get("metadata", {}).get("name"), [])
                if not any(other is doc for other in renamed):
                    renamed.append(doc)  # still found by its original name too


def _transform(docs: list[tuple[Doc, str]], data: dict[str, Any]) -> None:
    for entry in data.get("labels", []) or []:
        if entry.get("includeSelectors") or entry.get("includeTemplates") or entry.get("fields"):
            raise Unsupported("labels with selectors, templates or fields")
        for doc, _ in docs:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(entry.get("pairs", {}))
    annotations = data.get("commonAnnotations") or {}
    for doc, _ in docs:
        if annotations:
            doc.setdefault("metadata", {}).setdefault("annotations", {}).update(annotations)


def _join(directory: Path, entry: Any) -> Path:
    # Normalized without resolving links: origins stay repository paths.
    return Path(os.path.normpath(directory / str(entry)))


def _fresh(node: Any) -> Any:
    """Copy containers, share leaves: strings and numbers are immutable, and sharing them
    across thousands of copies of one base object keeps a large cluster's memory down."""
    if isinstance(node, dict):
        return {key: _fresh(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_fresh(value) for value in node]
    return node


def _copy(path: Path, index: int) -> Doc:
    """A private copy of a resource, safe to patch."""
    copied: Doc = _fresh(_load_yaml(path)[index])
    copied[_ORIGINAL] = copied.get("metadata", {}).get("name")
    return copied


def render(
    directory: Path, root: Path, planned: Mapping[str, bytes] | None = None
) -> list[tuple[Doc, str]]:
    """(document, repository path of the file it came from) for a kustomization directory.

    ``planned`` maps repository paths to generated files not written yet; they take the
    place of whatever is on disk under ``root``.
    """
    docs = build(directory, _Tree(root, planned or {}))
    for doc, _ in docs:
        doc.pop(_ORIGINAL, None)
    return docs


def build(directory: Path, tree: _Tree) -> list[tuple[Doc, str]]:
    """Like render(), with each document still carrying its original name."""
    root = tree.root
    data = _kustomization(directory, tree)
    if data.get("kind") not in (None, "Kustomization", "Component"):
        raise Unsupported(f"kind {data.get('kind')}")
    docs: list[tuple[Doc, str]] = []
    for entry in data.get("resources", []) or []:
        target = _join(directory, entry)
        if tree.is_dir(target):
            docs.extend(build(target, tree))
        else:
            origin = target.relative_to(root).as_posix()
            docs.extend((_copy(target, i), origin) for i in range(len(_load_yaml(target))))
    _transform(docs, {k: v for k, v in data.items() if k == "labels"})
    for entry in data.get("components", []) or []:
        component = _join(directory, entry)
        parts = _kustomization(component, tree)
        added: list[tuple[Doc, str]] = []
        for resource in parts.get("resources", []) or []:
            path = _join(component, resource)
            origin = path.relative_to(root).as_posix()
            added.extend((_copy(path, i), origin) for i in range(len(_load_yaml(path))))
        docs.extend(added)
        _transform(docs, {k: v for k, v in parts.items() if k == "labels"})
        _patch(docs, parts.get("patches", []) or [], component, tree)
        if parts.get("components") or parts.get("commonAnnotations"):
            raise Unsupported("nested components")
    _patch(docs, data.get("patches", []) or [], directory, tree)
    _transform(docs, {k: v for k, v in data.items() if k == "commonAnnotations"})
    return docs
