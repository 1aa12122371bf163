"""Where a list item a Kustomize component appended was written.

A component's JSON6902 patch file (`op: add`, `path: .../-`) appends items after the base
object's own; kustomize runs the app's components in their listed order. So item `base length
+ k` of a list is the k-th append of that list across the app's components, and a finding on it
points at the patch file's line, which is what a platform engineer edits.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from fleetgen.core.diagnostics import Location


@dataclass(frozen=True, slots=True)
class Append:
    file: str  # repository path of the component's patch file
    value: yaml.Node  # the appended item, with its marks


def _load(path: Path) -> yaml.Node | None:
    try:
        node: yaml.Node | None = yaml.compose(
            path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader
        )
        return node
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
                return v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _component_appends(root: Path, component: str) -> dict[tuple[str, str, str], list[Append]]:
    found: dict[tuple[str, str, str], list[Append]] = {}
    kustomization = _load(root / component / "kustomization.yaml")
    patches = _get(kustomization, "patches")
    for entry in patches.value if isinstance(patches, yaml.SequenceNode) else []:
        target = _get(entry, "target")
        kind, name = _scalar(_get(target, "kind")), _scalar(_get(target, "name"))
        rel = _scalar(_get(entry, "path"))
        if kind is None or name is None or rel is None:
            continue
        file = posixpath.normpath(posixpath.join(component, rel))
        ops = _load(root / file)
        for op in ops.value if isinstance(ops, yaml.SequenceNode) else []:
            path, value = _scalar(_get(op, "path")), _get(op, "value")
            if _scalar(_get(op, "op")) == "add" and path and path.endswith("/-") and value:
                found.setdefault((kind, name, path[:-2]), []).append(Append(file, value))
    return found


@cache
def appends(root: Path, app: str) -> dict[tuple[str, str, str], list[Append]]:
    """(kind, base name, list pointer) -> the items the app's components append, in order."""
    kustomization = _load(root / app / "kustomization.yaml")
    components = _get(kustomization, "components")
    found: dict[tuple[str, str, str], list[Append]] = {}
    for node in components.value if isinstance(components, yaml.SequenceNode) else []:
        rel = _scalar(node)
        if rel is None:
            continue
        component = posixpath.normpath(posixpath.join(app, rel))
        for key, items in _component_appends(root, component).items():
            found.setdefault(key, []).extend(items)
    return found


def locate_in(append: Append, rest: list[str | int]) -> Location:
    """The line of `rest` inside an appended item (the deepest part that exists)."""
    node = append.value
    for part in rest:
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        elif isinstance(part, str) and (child := _get(node, part)) is not None:
            node = child
        else:
            break
    return Location(append.file, node.start_mark.line + 1, node.start_mark.column + 1)
