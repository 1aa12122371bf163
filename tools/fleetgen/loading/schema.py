"""Validate parsed documents against the packaged JSON Schemas, with file:line:col.

Each jsonschema error becomes a diagnostic with a stable code (FG1xx) placed at the key or
value it concerns; unknown keys and enum values get a did-you-mean.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.core.positions import JsonPath, dotted
from fleetgen.loading.yaml_source import ParsedFile

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

    from fleetgen.kube.fast_check import FastCheck

SchemaName = Literal["descriptor", "environment"]
SCHEMA_NAMES: tuple[SchemaName, ...] = ("descriptor", "environment")

# Keys Argo CD's git files generator writes after copying a file's content (argocd.md §1).
ARGOCD_RESERVED = frozenset({"path", "values"})
_NAME_HINT = "lower-case letters, digits and '-', starting with a letter, at most 63"
_RANGE = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
}


def schema_text(name: SchemaName) -> str:
    """The schema as shipped (JSON text)."""
    return (
        resources.files("fleetgen")
        .joinpath("schemas", f"{name}.schema.json")
        .read_text(encoding="utf-8")
    )


@cache
def schema(name: SchemaName) -> dict[str, Any]:
    """The parsed schema (cached: loaded once per process)."""
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`pattern` as JSON Schema means it (ECMA-262): `$` is the end of the string. Python's
    `re.search` also lets `$` match before a final newline, which would let "name\n" pass."""
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, str):
        return
    if not re.search(pattern, instance) or (pattern.endswith("$") and instance.endswith("\n")):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator(name: SchemaName) -> Draft202012Validator:
    # Imported here: most files pass the pre-check, and jsonschema takes ~70 ms to import.
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]
    strict: Draft202012Validator = extended(schema(name))
    return strict


@cache
def _pre_check(name: SchemaName) -> FastCheck | None:
    """A compiled yes/no check in front of jsonschema (see kube.fast_check): a file it passes
    is valid; any other goes to jsonschema, which owns every message."""
    from fleetgen.kube.fast_check import FastCheckCompiler

    return FastCheckCompiler().compile(schema(name))


def did_you_mean(word: str, choices: object) -> str | None:
    """A close match from `choices`, phrased as a hint."""
    if not isinstance(choices, list | tuple | set | frozenset | dict):
        return None
    texts = [str(c) for c in choices]
    match = difflib.get_close_matches(str(word), texts, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping"


class _Mapper:
    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed

    def key_at(self, path: JsonPath) -> Location:
        line, column = self.parsed.positions.key(path)
        return Location(self.parsed.path, line, column)

    def value_at(self, path: JsonPath) -> Location:
        line, column = self.parsed.positions.value(path)
        return Location(self.parsed.path, line, column)

    def convert(self, error: ValidationError) -> Iterator[Diagnostic]:
        path: JsonPath = tuple(error.absolute_path)
        where = dotted(path)
        kind = error.validator
        sub: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
        if kind == "additionalProperties" and isinstance(error.instance, dict):
            known = list(sub.get("properties", {}))
            for key in sorted(set(error.instance) - set(known)):
                if not path and key in ARGOCD_RESERVED:
                    yield diag(
                        "FG604",
                        f"top-level key {key!r} is overwritten by Argo CD's git files generator",
                        self.key_at((key,)),
                        hint="remove it; fleetgen derives every application parameter itself",
                    )
                    continue
                yield diag(
                    "FG101",
                    f"unknown key {key!r} in {where}",
                    self.key_at((*path, key)),
                    hint=did_you_mean(key, known) or f"allowed keys: {', '.join(known)}",
                )
        elif kind == "required" and isinstance(error.instance, dict):
            required: list[str] = list(sub.get("required", ()))
            for key in required:
                if key not in error.instance:
                    yield diag(
                        "FG104",
                        f"missing required key {key!r} in {where}",
                        self.key_at(path) if path else self.value_at(path),
                    )
        elif kind == "type":
            yield diag(
                "FG102",
                f"{where}: expected {error.validator_value}, got {_type_name(error.instance)}",
                self.value_at(path),
            )
        elif kind in ("enum", "const"):
            yield self._choice(error, path, where)
        elif "propertyNames" in error.absolute_schema_path:
            # jsonschema reports a bad key with the mapping's path and the key as instance.
            code = "FG105" if sub.get("x-fleetgen-name") else "FG107"
            yield diag(
                code,
                f"{where}: key {error.instance!r} is not a valid name",
                self.key_at((*path, str(error.instance))),
                hint=_NAME_HINT if code == "FG105" else error.message,
            )
        elif sub.get("x-fleetgen-name") and kind in ("pattern", "maxLength", "minLength"):
            yield diag(
                "FG105",
                f"{where}: {error.instance!r} is not a DNS-1123 label",
                self.value_at(path),
                hint=_NAME_HINT,
            )
        elif kind in _RANGE:
            yield diag("FG106", f"{where}: {error.message}", self.value_at(path))
        elif kind == "uniqueItems":
            yield diag("FG304", f"{where}: list items must be unique", self.value_at(path))
        else:
            yield diag("FG107", f"{where}: {error.message}", self.value_at(path))

    def _choice(self, error: ValidationError, path: JsonPath, where: str) -> Diagnostic:
        allowed: Any = error.validator_value
        choices: list[Any] = list(allowed) if error.validator == "enum" else [allowed]
        code = "FG108" if path in (("apiVersion",), ("kind",)) else "FG103"
        return diag(
            code,
            f"{where}: {error.instance!r} is not one of {', '.join(map(repr, choices))}",
            self.value_at(path),
            hint=did_you_mean(str(error.instance), choices),
        )


def prepare(name: SchemaName) -> None:
    """Build the compiled pre-check now (before forking workers, so each inherits it)."""
    _pre_check(name)


def validate(parsed: ParsedFile, name: SchemaName) -> list[Diagnostic]:
    """All schema diagnostics of one parsed file (empty when it is valid)."""
    check = _pre_check(name)
    if check is not None and check(parsed.data):
        return []
    mapper = _Mapper(parsed)
    # jsonschema reports one `required` error per missing key, each carrying the whole list.
    out: dict[tuple[str, Location, str], Diagnostic] = {}
    for error in _validator(name).iter_errors(parsed.data):
        for found in mapper.convert(error):
            out.setdefault((found.code, found.location, found.message), found)
    return list(out.values())


def apply_defaults(name: SchemaName, data: dict[str, Any]) -> dict[str, Any]:
    """A copy of valid `data` with every schema default filled in where the key is absent.

    Defaults live only in the schema, so the documentation, editors and the model agree.
    """
    root = schema(name)
    filled: dict[str, Any] = _fill(root, root, data)
    return filled


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target: Mapping[str, Any] = root["$defs"][ref.removeprefix("#/$defs/")]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _fill(root: Mapping[str, Any], node: Mapping[str, Any], value: Any) -> Any:
    node = _resolve(root, node)
    if isinstance(value, dict):
        props: Mapping[str, Any] = node.get("properties", {})
        extra = node.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, sub in props.items():
            sub = _resolve(root, sub)
            if key in value:
                out[key] = _fill(root, sub, value[key])
            elif "default" in sub:
                out[key] = sub["default"]
            elif sub.get("type") == "object" and "properties" in sub and not sub.get("required"):
                # Absent optional sections still get their defaults, so the model never
                # has to know them; sections with required keys stay absent.
                out[key] = _fill(root, sub, {})
        for key, item in value.items():
            if key not in props:
                out[key] = _fill(root, extra, item) if isinstance(extra, Mapping) else item
        return out
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [_fill(root, node["items"], item) for item in value]
    return value
