"""Convert CustomResourceDefinition schemas to strict JSON Schemas (kubeconform semantics).

The rules follow kubeconform's ``openapi2jsonschema.py`` (datreeio CRDs-catalog flavour), with
fixes where that script is known to be wrong:

* ``additionalProperties: false`` on every *structural* object (one with ``properties`` or
  ``type: object``) without an explicit ``additionalProperties``, including the root (so
  ``sepc:`` is an error): the API server prunes every undeclared field, and strict field
  validation refuses it; ``apiVersion``/``kind``/``metadata`` of the root and of embedded
  resources are never pruned (``metadata`` is checked as ObjectMeta instead);
* ``x-kubernetes-preserve-unknown-fields: true`` keeps that object open (kubeconform#224);
* nothing is added inside ``anyOf``/``oneOf``/``allOf``/``not`` branches: in a structural schema
  those only constrain fields declared next to them, so closing a branch rejects valid objects
  (Gateway API's ``spec.addresses[]`` oneOf would reject every Hostname address);
* ``format: int-or-string`` and ``x-kubernetes-int-or-string: true`` accept integer or string
  (the latter whatever ``anyOf``/``allOf`` it carries, as the API server types it);
* ``nullable: true`` adds ``null`` to the type (and to an ``enum``);
* ``x-kubernetes-embedded-resource: true`` implies ``apiVersion``/``kind``/``metadata``;
* ``x-kubernetes-validations`` (CEL) and other ``x-`` keywords are kept untouched: JSON Schema
  validators ignore them, and a CEL evaluator can read them later.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CRDFormatError",
    "ConvertedSchema",
    "compile_crd_pattern",
    "convert_crd",
    "convert_openapi_schema",
    "parse_schema_filename",
    "scan_crd_kinds",
    "schema_filename",
    "write_catalog",
]

_BRANCH_KEYWORDS = ("anyOf", "oneOf", "allOf")
_INT_OR_STRING = ["integer", "string"]
# An object with x-kubernetes-embedded-resource carries these even if the schema omits them.
_EMBEDDED_FIELDS: dict[str, Any] = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
}


class CRDFormatError(ValueError):
    """The document is not a usable apiextensions.k8s.io CustomResourceDefinition."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass(frozen=True, slots=True)
class ConvertedSchema:
    group: str
    version: str
    kind: str
    schema: dict[str, Any]


def schema_filename(group: str, kind: str, version: str) -> str:
    """Path of a converted schema in the datreeio CRDs-catalog layout."""
    return f"{group}/{kind.lower()}_{version}.json"


def parse_schema_filename(path: Path) -> tuple[str, str, str] | None:
    """``(group, version, lower-case kind)`` from ``{group}/{kind}_{version}.json``."""
    kind, sep, version = path.stem.rpartition("_")
    group = path.parent.name
    if path.suffix != ".json" or not sep or not kind or "." not in group:
        return None  # CRD groups always contain a dot
    return group, version, kind.lower()


def convert_crd(crd: Mapping[str, Any], *, source: str = "<crd>") -> list[ConvertedSchema]:
    """One strict JSON Schema per *served* version of ``crd``."""
    if crd.get("kind") != "CustomResourceDefinition":
        raise CRDFormatError(source, f"kind is {crd.get('kind')!r}, not CustomResourceDefinition")
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        raise CRDFormatError(source, "spec is missing")
    group, names = spec.get("group"), spec.get("names")
    kind = names.get("kind") if isinstance(names, Mapping) else None
    if not isinstance(group, str) or not isinstance(kind, str):
        raise CRDFormatError(source, "spec.group or spec.names.kind is missing")
    # apiextensions v1beta1 (removed in Kubernetes 1.22) kept one schema for all versions.
    legacy = spec.get("validation")
    shared = legacy.get("openAPIV3Schema") if isinstance(legacy, Mapping) else None
    out: list[ConvertedSchema] = []
    for version in spec.get("versions") or []:
        if not isinstance(version, Mapping) or not version.get("served", True):
            continue
        name = version.get("name")
        schema_holder = version.get("schema")
        openapi = (
            schema_holder.get("openAPIV3Schema") if isinstance(schema_holder, Mapping) else shared
        )
        if not isinstance(name, str) or not isinstance(openapi, Mapping):
            raise CRDFormatError(source, f"{kind} version {name!r} has no openAPIV3Schema")
        out.append(ConvertedSchema(group, name, kind, convert_openapi_schema(openapi)))
    return out


def convert_openapi_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Convert one ``openAPIV3Schema`` (the input is not modified)."""
    converted = _convert(copy.deepcopy(dict(schema)), structural=True, resource=True)
    assert isinstance(converted, dict)
    return converted


def _convert(node: Any, *, structural: bool, resource: bool = False) -> Any:
    """``resource``: the node is the resource root or an embedded resource, whose
    ``apiVersion``/``kind``/``metadata`` the API server never prunes."""
    if not isinstance(node, dict):
        return node
    embedded = node.get("x-kubernetes-embedded-resource") is True
    if node.get("format") == "int-or-string":
        del node["format"]
        node["type"] = list(_INT_OR_STRING)
    if node.get("x-kubernetes-int-or-string") is True:
        # The API server types the node integer-or-string whatever branches it has.
        node["type"] = list(_INT_OR_STRING)
    if node.get("nullable") is True:
        _allow_null(node)
    if structural and embedded and "properties" in node:
        for field, field_schema in _EMBEDDED_FIELDS.items():
            node["properties"].setdefault(field, dict(field_schema))

    props = node.get("properties")
    meta_open = structural and (resource or embedded)
    if isinstance(props, dict):
        for key, value in props.items():
            converted = _convert(value, structural=structural)
            if meta_open and key == "metadata" and isinstance(converted, dict):
                converted.pop("additionalProperties", None)  # ObjectMeta is checked apart
            props[key] = converted
    items = node.get("items")
    if isinstance(items, list):
        node["items"] = [_convert(i, structural=structural) for i in items]
    elif isinstance(items, dict):
        node["items"] = _convert(items, structural=structural)
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        node["additionalProperties"] = _convert(additional, structural=structural)
    for keyword in _BRANCH_KEYWORDS:
        branches = node.get(keyword)
        if isinstance(branches, list):
            node[keyword] = [_convert(b, structural=False) for b in branches]
    if isinstance(node.get("not"), dict):
        node["not"] = _convert(node["not"], structural=False)

    if (
        structural
        and _is_object(node)
        and "additionalProperties" not in node
        and node.get("x-kubernetes-preserve-unknown-fields") is not True
    ):
        # The API server prunes (strict field validation: refuses) every field a
        # structural object does not declare, an object without properties included.
        node["additionalProperties"] = False
        if meta_open:
            properties = node.setdefault("properties", {})
            for field in _EMBEDDED_FIELDS:
                properties.setdefault(field, {})
    return node


def _is_object(node: Mapping[str, Any]) -> bool:
    node_type = node.get("type")
    return (
        "properties" in node
        or node_type == "object"
        or (isinstance(node_type, list) and "object" in node_type)
    )


def _allow_null(node: dict[str, Any]) -> None:
    node_type = node.get("type")
    if isinstance(node_type, str):
        node["type"] = [node_type, "null"]
    elif isinstance(node_type, list) and "null" not in node_type:
        node["type"] = [*node_type, "null"]
    elif node_type is None:
        for keyword in ("anyOf", "oneOf"):
            if isinstance(node.get(keyword), list):
                node[keyword] = [*node[keyword], {"type": "null"}]
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]


@lru_cache(maxsize=4096)
def compile_crd_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a CRD ``pattern`` (Go RE2 syntax) with Python's ``re``; None if impossible.

    RE2 allows a flag group such as ``(?i)`` anywhere (Prometheus Operator uses
    ``^(?i)(abort|warn)?$``); Python only at the start, so such groups are hoisted.
    """
    flag_group = r"\(\?[imsx]+\)"
    hoisted = "".join(re.findall(flag_group, pattern)) + re.sub(flag_group, "", pattern)
    # dict.fromkeys: unique candidates, in order; RE2's \z is Python's \Z.
    for candidate in dict.fromkeys([pattern, hoisted, hoisted.replace(r"\z", r"\Z")]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # FutureWarning on POSIX-like [[:alpha:]]
                return re.compile(candidate)
        except re.error:
            continue
    return None


def write_catalog(schemas: Iterable[ConvertedSchema], directory: Path) -> list[Path]:
    """Write converted schemas as ``{group}/{kind}_{version}.json`` (a cache SchemaStore reads
    without parsing multi-megabyte CRD YAML)."""
    written: list[Path] = []
    for item in schemas:
        path = directory / schema_filename(item.group, item.kind, item.version)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Each file whole or not at all: a killed import never leaves a truncated schema.
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(item.schema, separators=(",", ":")), encoding="utf-8")
        partial.replace(path)
        written.append(path)
    return written


# A document marker is only one at column 0 (inside a scalar it would be a syntax error).
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)", re.MULTILINE)
_WANTED = {("kind",): "kind", ("spec", "group"): "group", ("spec", "names", "kind"): "crd_kind"}


def scan_crd_kinds(text: str) -> list[tuple[str, str]]:
    """``(group, kind)`` of every CRD document in ``text``, from parser events only.

    Building Python objects for the 1.9 MB InferenceService CRD takes over a second; its
    header comes first, so the scan stops there unless another document follows.
    """
    # Lines, not offsets: libyaml's mark index may count bytes rather than characters.
    marker_lines: list[int] = []
    line, pos = 0, 0
    for match in _DOC_MARKER.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        marker_lines.append(line)
    found: list[tuple[str, str]] = []
    frames: list[list[Any]] = []  # [is_mapping, current_key, expecting_key]
    doc: dict[str, str] = {}
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            doc, frames = {}, []
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            _after_value(frames)
            frames.append([isinstance(event, yaml.MappingStartEvent), None, True])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frames.pop()
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            value = event.value if isinstance(event, yaml.ScalarEvent) else None
            if frames and frames[-1][0] and frames[-1][2]:
                frames[-1][1], frames[-1][2] = value, False
                continue
            path = tuple(f[1] if f[0] else "[]" for f in frames)
            if path in _WANTED and isinstance(value, str):
                doc[_WANTED[path]] = value
            _after_value(frames)
            end_line = event.end_mark.line if event.end_mark is not None else 0
            if len(doc) == len(_WANTED) and not any(n >= end_line for n in marker_lines):
                break  # header complete and no further document in the file
        elif isinstance(event, yaml.DocumentEndEvent):
            _record(doc, found)
            doc = {}
    _record(doc, found)
    return found


def _after_value(frames: list[list[Any]]) -> None:
    if frames and frames[-1][0]:
        frames[-1][2] = True  # the next scalar in this mapping is a key again


def _record(doc: dict[str, str], found: list[tuple[str, str]]) -> None:
    if doc.get("kind") == "CustomResourceDefinition" and "group" in doc and "crd_kind" in doc:
        pair = (doc["group"], doc["crd_kind"])
        if pair not in found:
            found.append(pair)
