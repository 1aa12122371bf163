"""``x-kubernetes-list-type`` invariants, checked as the API server checks them.

The API server (``structurallisttype.ValidateListSetsAndMaps``) walks the defaulted object
along the structural spine and refuses:

* in a ``set``, an element equal to an earlier one (scalars by value and type, objects and
  lists by their JSON encoding);
* in a ``map``, an element that is not an object (only the first such is reported), and an
  element whose ``x-kubernetes-list-map-keys`` values equal an earlier element's (a missing
  key is "unspecified", which differs from an explicit ``null``).

Each distinct duplicated value is reported once, at its second occurrence. ``atomic`` lists
and ``x-kubernetes-map-type`` (both only steer server-side apply merging) accept anything.
Integral floats compare as integers: the API server receives YAML as JSON, in which ``1.0``
and ``1`` are the same number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgen.kube.spine import LIST_TYPES, spine

__all__ = ["ListTypeViolation", "list_type_violations"]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ListTypeViolation:
    path: Path
    message: str


class _Unspecified:
    """A list-map key the element does not set (unlike an explicit null)."""

    def __repr__(self) -> str:
        return "{}"


_UNSPECIFIED = _Unspecified()


def list_type_violations(doc: Any, schema: Mapping[str, Any] | None) -> list[ListTypeViolation]:
    found: list[ListTypeViolation] = []
    if isinstance(schema, dict) and isinstance(doc, dict):
        _walk(doc, schema, (), found)
    return found


def _walk(
    value: Any, schema: Mapping[str, Any], path: Path, found: list[ListTypeViolation]
) -> None:
    if not spine(schema) & LIST_TYPES:
        return  # no set or map list at or below this node
    if isinstance(value, list):
        _walk_list(value, schema, path, found)
    elif isinstance(value, dict):
        _walk_map(value, schema, path, found)


def _walk_map(
    value: dict[str, Any], schema: Mapping[str, Any], path: Path, found: list[ListTypeViolation]
) -> None:
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        for key, item in value.items():
            _walk(item, additional, (*path, key), found)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, item in value.items():
            sub = properties.get(key)
            if isinstance(sub, dict):
                _walk(item, sub, (*path, key), found)


def _walk_list(
    value: list[Any], schema: Mapping[str, Any], path: Path, found: list[ListTypeViolation]
) -> None:
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        for index in _second_occurrences([_canonical(item) for item in value]):
            found.append(
                ListTypeViolation((*path, index), f"Duplicate value: {_show(value[index])}")
            )
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys")
        found.extend(_map_violations(value, keys if isinstance(keys, list) else [], path))
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _walk(item, items, (*path, index), found)


def _map_violations(value: list[Any], keys: Sequence[Any], path: Path) -> list[ListTypeViolation]:
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, dict):
            message = "Invalid value: must be an object for an array of list-type map"
            return [ListTypeViolation((*path, index), message)]
    if len(value) <= 1:
        return []
    entries: list[dict[str, Any]] = []
    for item in value:
        element = item if isinstance(item, dict) else {}
        entries.append({str(k): element[k] for k in keys if k in element})
    if len(keys) == 1:
        name = str(keys[0])
        singles = [e.get(name, _UNSPECIFIED) for e in entries]
        canon = [("unspecified",) if k is _UNSPECIFIED else _canonical(k) for k in singles]
        shown = [{} if k is _UNSPECIFIED else {name: k} for k in singles]
    else:
        canon = [_canonical(entry) for entry in entries]
        shown = entries
    return [
        ListTypeViolation((*path, index), f"Duplicate value: {_show(shown[index])}")
        for index in _second_occurrences(canon)
    ]


def _second_occurrences(keys: list[Any]) -> list[int]:
    seen: dict[Any, int] = {}
    out: list[int] = []
    for index, key in enumerate(keys):
        times = seen.get(key, 0)
        seen[key] = times + 1
        if times == 1:
            out.append(index)
    return out


def _canonical(value: Any) -> Any:
    """A hashable key equal exactly where the API server's comparison is."""
    if isinstance(value, dict | list):
        return ("json", json.dumps(_normalized(value), sort_keys=True, separators=(",", ":")))
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return ("bool", value)  # before int: True == 1 in Python, not in Go
    if isinstance(value, float) and value.is_integer():
        return ("int", int(value))
    if isinstance(value, int):
        return ("int", value)
    return (type(value).__name__, value)


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _show(value: Any) -> str:
    try:
        return json.dumps(_normalized(value), sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
