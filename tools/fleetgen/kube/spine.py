"""What a structural schema node holds on its spine below it, computed once per node.

Defaulting, the list-type check and the embedded-resource check each walk a document along
its schema's structural spine (``properties``, ``additionalProperties``, ``items``). Most
subtrees of a large CRD hold nothing any of them acts on; knowing that up front lets each
walk skip them, which keeps the three from costing a full walk of every object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULTS", "EMBEDDED", "LIST_TYPES", "property_defaults", "spine"]

DEFAULTS = 1  # a default at or below the node
LIST_TYPES = 2  # an x-kubernetes-list-type set or map at or below
EMBEDDED = 4  # an x-kubernetes-embedded-resource strictly below
# id(node) -> (node, bits); holding the node keeps its id from being reused.
_MEMO: dict[int, tuple[Mapping[str, Any], int]] = {}


def spine(schema: Any) -> int:
    """The bits above for ``schema`` (0 for anything that is not a schema node)."""
    if not isinstance(schema, dict):  # dict, not Mapping: an ABC check costs more here
        return 0
    bits = DEFAULTS if "default" in schema else 0
    if schema.get("x-kubernetes-list-type") in ("set", "map"):
        bits |= LIST_TYPES
    properties = schema.get("properties")
    if properties is None and "items" not in schema and "additionalProperties" not in schema:
        return bits  # a leaf: as cheap to look at again as to remember
    found = _MEMO.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    subs = list(properties.values()) if isinstance(properties, dict) else []
    subs.extend(schema.get(k) for k in ("additionalProperties", "items"))
    for sub in subs:
        if isinstance(sub, dict):
            below = spine(sub)
            bits |= below & (DEFAULTS | LIST_TYPES)
            if below & EMBEDDED or sub.get("x-kubernetes-embedded-resource") is True:
                bits |= EMBEDDED
    _MEMO[id(schema)] = (schema, bits)
    return bits


_DEFAULTS_MEMO: dict[int, tuple[Mapping[str, Any], tuple[tuple[str, Any, bool], ...]]] = {}


def property_defaults(schema: Mapping[str, Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, default, nullable) of every property of ``schema`` with a non-null default."""
    found = _DEFAULTS_MEMO.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    properties = schema.get("properties")
    out = tuple(
        (name, sub["default"], sub.get("nullable") is True)
        for name, sub in (properties.items() if isinstance(properties, Mapping) else ())
        if isinstance(sub, Mapping) and sub.get("default") is not None
    )
    _DEFAULTS_MEMO[id(schema)] = (schema, out)
    return out
