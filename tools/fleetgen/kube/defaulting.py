"""Structural-schema defaulting, in the order and with the rules of the API server.

Before a custom resource is validated, the API server decodes it (pruning non-nullable
nulls that have no default: ``PruneNonNullableNullsWithoutDefaults``) and defaults it
(``structuraldefaulting.Default``), so a schema check, a list-type check and a CEL rule all
see the defaulted object. Both walks follow only the structural spine (``properties``,
``additionalProperties``, ``items``; never ``allOf``/``anyOf``/``oneOf``, where structural
schemas forbid defaults):

* a field absent, or ``null`` where the field is not ``nullable``, takes its ``default``
  (deep-copied; a default of ``null`` is no default);
* a ``null`` map value or list item that is not ``nullable`` takes the value or item
  schema's default (``null`` again when it has none, and then fails validation);
* defaults nest: a defaulted object is walked and defaulted in turn.

The input is never modified: changed nodes are copied, unchanged ones shared. Every path a
default was written to is returned, so a violation inside a defaulted value can be reported
at the user's own field instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgen.kube.spine import DEFAULTS, property_defaults, spine

__all__ = ["Defaulted", "apply_defaults", "user_path"]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Defaulted:
    value: Any
    paths: frozenset[Path] = field(default_factory=frozenset)  # where a default was written


def apply_defaults(doc: Any, schema: Mapping[str, Any] | None) -> Defaulted:
    """``doc`` as the API server stores it: non-nullable nulls pruned, defaults applied."""
    if not isinstance(schema, dict):
        return Defaulted(doc)
    written: set[Path] = set()
    pruned = _prune_nulls(doc, schema) if _may_hold_null(doc) else doc
    return Defaulted(_default(pruned, schema, (), written), frozenset(written))


def user_path(path: Path, defaulted: frozenset[Path]) -> tuple[Path, Path | None]:
    """(where to report, the defaulted field or None): a path inside a defaulted value is
    reported at the nearest field the user wrote, the object the default was added to."""
    if not defaulted:
        return path, None
    # Compared as text: a pointer parsed back cannot tell the list index 0 from the key "0".
    written = {tuple(str(part) for part in p) for p in defaulted}
    text = tuple(str(part) for part in path)
    for depth in range(1, len(path) + 1):
        if text[:depth] in written:
            return path[: depth - 1], path[:depth]
    return path, None


def _value_schema(schema: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if schema is None:
        return None
    properties = schema.get("properties")
    if isinstance(properties, dict) and key in properties:
        sub = properties[key]
        return sub if isinstance(sub, dict) else None
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, dict) else None


def _items_schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    items = schema.get("items") if schema is not None else None
    return items if isinstance(items, dict) else None


def _nullable(schema: Mapping[str, Any]) -> bool:
    return schema.get("nullable") is True


def _default_of(schema: Mapping[str, Any] | None) -> Any:
    return None if schema is None else schema.get("default")


def _copy(value: Any) -> Any:
    """A JSON value's deep copy (``copy.deepcopy`` costs several times more)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _may_hold_null(value: Any) -> bool:
    """False only when ``value`` holds no null (the C encoder beats a Python walk)."""
    try:
        return "null" in json.dumps(value, default=str)
    except (TypeError, ValueError):
        return True


def _prune_nulls(value: Any, schema: Mapping[str, Any] | None) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for key, item in value.items():
            sub = _value_schema(schema, key)
            if item is None and sub is not None and not _nullable(sub) and _default_of(sub) is None:
                out = dict(value) if out is None else out
                del out[key]
                continue
            new = _prune_nulls(item, sub)
            if new is not item:
                out = dict(value) if out is None else out
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = _items_schema(schema)
        new_items = [_prune_nulls(item, items) for item in value]
        changed = any(a is not b for a, b in zip(new_items, value, strict=True))
        return new_items if changed else value
    return value


def _default(value: Any, schema: Mapping[str, Any] | None, path: Path, written: set[Path]) -> Any:
    if schema is None or not spine(schema) & DEFAULTS:
        return value  # no default anywhere below: nothing to write
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        properties = schema.get("properties")
        for key, default, nullable in property_defaults(schema):
            if key not in value or (value[key] is None and not nullable):
                out = dict(value) if out is None else out
                out[key] = _copy(default)
                written.add((*path, key))
        current = value if out is None else out
        additional = schema.get("additionalProperties")
        for key, item in list(current.items()):
            if isinstance(properties, dict) and key in properties:
                sub = properties[key]
                new = _default(item, sub if isinstance(sub, dict) else None, (*path, key), written)
            elif isinstance(additional, dict):
                new = item
                if item is None and not _nullable(additional):
                    new = _copy(_default_of(additional))
                    if new is not None:
                        written.add((*path, key))
                new = _default(new, additional, (*path, key), written)
            else:
                continue
            if new is not item:
                out = dict(value) if out is None else out
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = _items_schema(schema)
        if items is None:
            return value
        new_items = []
        for index, item in enumerate(value):
            new = item
            if item is None and not _nullable(items):
                new = _copy(_default_of(items))
                if new is not None:
                    written.add((*path, index))
            new_items.append(_default(new, items, (*path, index), written))
        changed = any(a is not b for a, b in zip(new_items, value, strict=True))
        return new_items if changed else value
    return value
