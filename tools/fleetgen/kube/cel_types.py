"""The CEL types the API server declares for a structural schema, with their size bounds.

A port of apiserver's ``cel/common/schemas.go`` (``SchemaDeclType``) and ``cel/types.go``:
each schema node becomes a type whose ``max_elements`` bounds a string's length (``maxLength``
times 4 bytes, the longest ``enum`` value, or what fits in a 3 MiB request), a list's items
(``maxItems``, or how many of its smallest items fit in a request) or a map's entries
(``maxProperties``, likewise), and whose ``min_size`` is the smallest JSON it serializes to.
The cost estimator reads these bounds where cel-go's reads ``DeclType.MaxElements``.
Works on raw and on converted (``crd_schema``) schemas: a converted node's type list
(``[string, null]``) is read as the API server reads the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgen.kube.cel_library import escape_field

__all__ = [
    "MAX_REQUEST_SIZE_BYTES",
    "CelType",
    "decl_type",
    "scalar",
]

# k8s.io/apiserver/pkg/apis/cel/config.go
MAX_REQUEST_SIZE_BYTES = 3 * 1024 * 1024
# k8s.io/apiserver/pkg/cel/limits.go
_MAX_DURATION_SIZE_JSON = 32
_MAX_DATETIME_SIZE_JSON = 32
_MIN_DURATION_SIZE_JSON = 3
_JSON_DATE_SIZE = 12
_MIN_DATETIME_SIZE_JSON = 21
_MIN_STRING_SIZE = 2
_MIN_BOOL_SIZE = 4
_MIN_NUMBER_SIZE = 1
_ACCESSIBLE_FIELD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")


@dataclass(frozen=True, slots=True, eq=False)
class CelType:
    """``kind``: bool, int, uint, double, string, bytes, duration, timestamp, null, list, map,
    object, dyn, type, or a library type (quantity, url, ip, cidr, semver, format, optional)."""

    kind: str
    max_elements: int = 0  # DeclType.MaxElements (0 for scalars and objects, as upstream)
    min_size: int = 0  # DeclType.MinSerializedSize
    elem: CelType | None = None  # list items, map values
    key: CelType | None = None  # map keys
    fields: Mapping[str, CelType] = field(default_factory=dict)  # escaped names
    from_schema: bool = False  # sizes known from a schema node (cel-go's path-based lookup)


def scalar(kind: str) -> CelType:
    return _SCALARS.get(kind) or CelType(kind)


_SCALARS = {
    "bool": CelType("bool", min_size=_MIN_BOOL_SIZE),
    "int": CelType("int", min_size=_MIN_NUMBER_SIZE),
    "uint": CelType("uint", min_size=_MIN_NUMBER_SIZE),
    "double": CelType("double", min_size=_MIN_NUMBER_SIZE),
    "string": CelType("string", min_size=_MIN_STRING_SIZE),
    "bytes": CelType("bytes", min_size=_MIN_STRING_SIZE),
    "null": CelType("null"),
    "dyn": CelType("dyn"),
    "type": CelType("type"),
}


def _types(schema: Mapping[str, Any]) -> list[str]:
    raw = schema.get("type")
    names = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []
    return [n for n in names if n != "null"]


def _int_or_string(schema: Mapping[str, Any]) -> bool:
    return schema.get("x-kubernetes-int-or-string") is True or sorted(_types(schema)) == [
        "integer",
        "string",
    ]


def _non_negative(value: Any) -> int | None:
    return max(0, value) if isinstance(value, int) and not isinstance(value, bool) else None


def _with_type_and_object_meta(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``WithTypeAndObjectMeta``: the root (and an embedded resource) always show kind,
    apiVersion and metadata.name/generateName."""
    properties = schema.get("properties")
    props = dict(properties) if isinstance(properties, Mapping) else {}

    def is_type(name: str, kind: str, within: Mapping[str, Any]) -> bool:
        sub = within.get(name)
        return isinstance(sub, Mapping) and kind in _types(sub)

    meta = props.get("metadata")
    meta_props = meta.get("properties") if isinstance(meta, Mapping) else None
    if (
        is_type("kind", "string", props)
        and is_type("apiVersion", "string", props)
        and is_type("metadata", "object", props)
        and isinstance(meta_props, Mapping)
        and is_type("name", "string", meta_props)
        and is_type("generateName", "string", meta_props)
    ):
        return schema
    string = {"type": "string"}
    props["kind"] = string
    props["apiVersion"] = string
    props["metadata"] = {
        "type": "object",
        "properties": {"name": string, "generateName": string},
    }
    return {**schema, "properties": props}


def decl_type(schema: Any, *, root: bool) -> CelType | None:
    """The type a rule sees for ``schema`` (None: the node is hidden from CEL)."""
    if not isinstance(schema, Mapping):
        return None
    if _int_or_string(schema):
        max_length = _non_negative(schema.get("maxLength"))
        bound = max_length * 4 if max_length is not None else MAX_REQUEST_SIZE_BYTES - 2
        return CelType("dyn", bound, 1, from_schema=True)
    if root:
        schema = _with_type_and_object_meta(schema)
    types = _types(schema)
    kind = types[0] if len(types) == 1 else None
    if kind == "array":
        items = decl_type(schema.get("items"), root=_embedded(schema.get("items")))
        if items is None:
            return None
        max_items = _non_negative(schema.get("maxItems"))
        if max_items is None:
            max_items = (MAX_REQUEST_SIZE_BYTES - 2) // (items.min_size + 1)
        return CelType("list", max_items, 2, elem=items, from_schema=True)
    if kind == "object":
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            values = decl_type(additional, root=_embedded(additional))
            if values is None:
                return None
            max_props = _non_negative(schema.get("maxProperties"))
            if max_props is None:
                max_props = (MAX_REQUEST_SIZE_BYTES - 2) // (values.min_size + 6)
            key = CelType("string", 0, _MIN_STRING_SIZE, from_schema=True)  # StringType: 0
            return CelType("map", max_props, 2, elem=values, key=key, from_schema=True)
        return _object(schema)
    if kind == "string":
        return _string(schema)
    if kind == "boolean":
        return CelType("bool", 0, _MIN_BOOL_SIZE, from_schema=True)
    if kind == "number":
        return CelType("double", 0, _MIN_NUMBER_SIZE, from_schema=True)
    if kind == "integer":
        return CelType("int", 0, _MIN_NUMBER_SIZE, from_schema=True)
    return None


def _embedded(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("x-kubernetes-embedded-resource") is True


def _object(schema: Mapping[str, Any]) -> CelType:
    properties = schema.get("properties")
    required = set(schema.get("required") or [])
    fields: dict[str, CelType] = {}
    min_size = 2  # {}
    for name, sub in (properties or {}).items():
        if not isinstance(sub, Mapping):
            continue
        field_type = decl_type(sub, root=_embedded(sub))
        if field_type is None:
            continue
        if set(name) <= _ACCESSIBLE_FIELD and not name[:1].isdigit():
            fields[escape_field(name)] = field_type
        if name in required and sub.get("default") is None:
            min_size += len(name) + field_type.min_size + 4
    return CelType("object", 0, min_size, fields=fields, from_schema=True)


def _string(schema: Mapping[str, Any]) -> CelType:
    fmt = schema.get("format")
    max_length = _non_negative(schema.get("maxLength"))
    if fmt == "byte":
        bound = max_length if max_length is not None else MAX_REQUEST_SIZE_BYTES - 2
        return CelType("bytes", bound, _MIN_STRING_SIZE, from_schema=True)
    if fmt == "duration":
        return CelType(
            "duration", _MAX_DURATION_SIZE_JSON, _MIN_DURATION_SIZE_JSON, from_schema=True
        )
    if fmt == "date":
        return CelType("timestamp", _JSON_DATE_SIZE, _JSON_DATE_SIZE, from_schema=True)
    if fmt == "date-time":
        return CelType(
            "timestamp", _MAX_DATETIME_SIZE_JSON, _MIN_DATETIME_SIZE_JSON, from_schema=True
        )
    if max_length is not None:
        bound = max_length * 4
    elif schema.get("enum"):
        bound = max((len(v) for v in schema["enum"] if isinstance(v, str)), default=0)
    else:
        bound = MAX_REQUEST_SIZE_BYTES - 2
    return CelType("string", bound, _MIN_STRING_SIZE, from_schema=True)
