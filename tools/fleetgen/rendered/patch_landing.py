"""FG970: a generated patch that addresses a list item by index still lands on the item it
was generated for.

The overlays fill the base's placeholders by position (`args/1` is `--tensor-parallel-size`,
base/README.md). Someone who inserts a flag into a base list, or reorders it, moves the
placeholders: kustomize then overwrites the wrong item without a word, and the inserted flag
is lost. Each distinct set of (resources, components) the overlays build on is rendered once
without the overlay's own patches, and every index-addressed `replace` is compared with the
item it would overwrite: a flag must stay the same flag, a named entry the same name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.rendered import fastrender
from fleetgen.rendered.provenance import parsed_base

__all__ = ["check_patch_landings"]

KUSTOMIZATION = "kustomization.yaml"
_Op = tuple[tuple[tuple[str, str], ...], str, str]  # (target items, path, value identity)


def _identity(value: Any) -> str | None:
    """What an item must keep for a replace to land on it: a flag's name, an entry's name."""
    if isinstance(value, str) and value.startswith("--"):
        return value.split("=", 1)[0]
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return f"name: {value['name']}"
    return None


def _parts(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _index_ops(kustomization: Mapping[str, Any]) -> Iterator[_Op]:
    for entry in kustomization.get("patches") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), dict):
            continue
        try:
            ops = json.loads(str(entry.get("patch", "")))
        except ValueError:
            continue
        target = tuple(sorted((str(k), str(v)) for k, v in entry["target"].items()))
        for op in ops if isinstance(ops, list) else ():
            if not isinstance(op, dict) or op.get("op") != "replace":
                continue
            path = str(op.get("path", ""))
            last = _parts(path)[-1:] or [""]
            identity = _identity(op.get("value"))
            if last[0].isdigit() and identity is not None:
                yield target, path, identity


def _matches(doc: Mapping[str, Any], target: Mapping[str, str]) -> bool:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    have = {
        "group": group,
        "version": version,
        "kind": str(doc.get("kind", "")),
        "name": str((doc.get("metadata") or {}).get("name", "")),
    }
    return all(have.get(k) == v for k, v in target.items())


def _walk(doc: Any, parts: list[str]) -> tuple[bool, Any]:
    node = doc
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def _where(root: Path, origin: str, parts: list[str]) -> Location:
    parsed = parsed_base(root / origin, origin)
    if parsed is None:
        return Location(origin)
    keys: list[str | int] = [int(p) if p.isdigit() else p for p in parts]
    line, column = parsed.positions.value(keys)
    return Location(origin, line, column)


def _overlays(planned: Mapping[str, bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    for rel, data in sorted(planned.items()):
        if rel.endswith("/" + KUSTOMIZATION):
            loaded = yaml.load(data, Loader=yaml.CSafeLoader)
            if isinstance(loaded, dict) and loaded.get("patches"):
                yield rel.rsplit("/", 1)[0], loaded


def check_patch_landings(root: Path, planned: Mapping[str, bytes]) -> list[Diagnostic]:
    """FG970 for every index-addressed replace of the generated overlays, once per base."""
    groups: dict[tuple[str, ...], tuple[str, set[_Op]]] = {}
    for directory, kustomization in _overlays(planned):
        key = tuple(
            str(x)
            for field in ("resources", "components")
            for x in [field, *(kustomization.get(field) or [])]
        )
        _, ops = groups.setdefault(key, (directory, set()))
        ops.update(_index_ops(kustomization))
    found: dict[tuple[str, int, str], Diagnostic] = {}
    for _, (directory, ops) in sorted(groups.items()):
        if not ops:
            continue
        without = yaml.safe_dump(
            {
                k: v
                for k, v in yaml.safe_load(planned[f"{directory}/{KUSTOMIZATION}"]).items()
                if k != "patches"
            }
        ).encode()
        try:
            docs = fastrender.render(
                root / directory, root, {**planned, f"{directory}/{KUSTOMIZATION}": without}
            )
        except (fastrender.Unsupported, OSError, yaml.YAMLError, ValueError, KeyError):
            continue  # outside the fast subset: the kustomize build reports what breaks
        for target, path, identity in sorted(ops):
            wanted = dict(target)
            parts = _parts(path)
            for doc, origin in docs:
                if not _matches(doc, wanted):
                    continue
                exists, current = _walk(doc, parts)
                have = _identity(current) if exists else None
                if have == identity:
                    continue
                at = _where(root, origin, parts)
                label = f"{doc.get('kind')} {wanted.get('name', '')}"
                now = f"holds {json.dumps(current)}" if exists else "has no item at that index"
                message = (
                    f"{label}: {path} {now}, but the generated overlays replace it with "
                    f"{identity}: the base list moved under the patch"
                    + (f", and {json.dumps(current)} would be overwritten" if exists else "")
                )
                found.setdefault(
                    (at.file, at.line, path),
                    diag(
                        "FG970",
                        message,
                        at,
                        hint=(
                            "keep the placeholders at the indices base/README.md gives; add "
                            "flags after them, or through a descriptor's runtime.extraArgs"
                        ),
                    ),
                )
    return [found[k] for k in sorted(found)]
