"""A compiled yes/no pre-check in front of the jsonschema validators.

Almost every rendered object is valid, and jsonschema walks a schema interpretively: on a
fleet it dominates rendered validation. fastjsonschema compiles a schema into Python code
that answers "valid?" many times faster, but stops at the first error and implements fewer
keywords. So it only ever says "valid": on "invalid" the jsonschema validator runs and owns
every message. To keep "valid" trustworthy, a schema is translated only when every keyword
in it is one whose fastjsonschema semantics are at least as strict as jsonschema's here;
anything else (an unknown keyword, a non-string enum, a remote reference) means no
pre-check for that kind, never a weaker one. A differential test holds the two to the same
verdicts.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any
from urllib.parse import urljoin

import fastjsonschema

from fleetgen.core.cache_files import cache_dir, write_cache_file
from fleetgen.kube.crd_schema import compile_crd_pattern
from fleetgen.kube.formats import FORMAT_CHECKS, format_check

__all__ = ["FastCheck", "FastCheckCompiler"]

FastCheck = Callable[[Any], bool]

# Keywords whose subschemas sit in a mapping, a single schema, or a list.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_SCHEMA_ONE = frozenset({"additionalProperties", "items", "not", "propertyNames"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
# Assertions fastjsonschema evaluates like jsonschema (given the translations below).
_ASSERTIONS = frozenset(
    {
        "type",
        "required",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "$ref",
        "uniqueItems",  # fastjsonschema keeps booleans apart from numbers, as jsonschema does
    }
)
# Annotations: no effect on validity in jsonschema (formats are not asserted there either).
_ANNOTATIONS = frozenset(
    {"description", "default", "example", "examples", "title", "nullable", "$comment"}
)
# A format fleetgen checks becomes this private name (fastjsonschema's own regex formats
# must never apply); with ``formats=False`` each accepts everything, as jsonschema then does.
_FORMAT_PREFIX = "fleetgen-"
_ASSERTED_FORMATS = {_FORMAT_PREFIX + name: check for name, check in FORMAT_CHECKS.items()}
_IGNORED_FORMATS = {name: (lambda _value: True) for name in _ASSERTED_FORMATS}


class _Unsupported(Exception):
    """The schema uses something the pre-check cannot mirror exactly."""


@dataclass(frozen=True, slots=True)
class _Scope:
    known: Mapping[str, Any]  # absolute URI -> referenced document
    base: str  # the enclosing document's $id: relative references resolve against it
    document: str | None  # set when preparing a referenced document: "#..." points into it


class FastCheckCompiler:
    """Compiles pre-checks against one set of referenced documents, prepared once.

    ``documents`` maps the absolute URIs a ``$ref`` may name (such as the core Kubernetes
    definitions) to their contents; nothing is ever fetched.
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._documents = dict(documents or {})
        self._prepared: dict[str, Any] | None = None
        self._documents_digest: str | None = None

    def compile(self, schema: Mapping[str, Any], *, formats: bool = False) -> FastCheck | None:
        """A function telling whether a document is valid against ``schema``, or None;
        with ``formats``, string formats are asserted as ``fleetgen.kube.formats`` does."""
        try:
            base = str(schema.get("$id", ""))
            prepared = _prepare(schema, _Scope(self._documents, base, None))
        except _Unsupported:
            return None
        resolved = self._resolved()

        def handler(uri: str) -> Any:
            base = uri.split("#", 1)[0]
            if base not in resolved:
                raise _Unsupported(uri)
            return resolved[base]

        custom = _ASSERTED_FORMATS if formats else _IGNORED_FORMATS
        key = self._key(prepared)
        code = _load_cached(key)
        if code is None:
            try:
                source = fastjsonschema.compile_to_code(
                    prepared,
                    handlers=dict.fromkeys(("http", "https", "file", "urn"), handler),
                    formats=custom,
                    use_default=False,
                    use_formats=True,
                    detailed_exceptions=False,
                )
                code = builtins.compile(source, "<fleetgen fast check>", "exec")
            except Exception:
                return None
            _store_cached(key, code)
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # our own generated code, from our own schema
        check = namespace["validate"]

        def valid(doc: Any) -> bool:
            try:
                check(doc, custom)
            except Exception:  # invalid, or odd input (a non-string key): jsonschema decides
                return False
            return True

        return valid

    def _key(self, prepared: Mapping[str, Any]) -> str:
        if self._documents_digest is None:
            text = json.dumps(self._resolved(), sort_keys=True)
            self._documents_digest = hashlib.sha256(text.encode()).hexdigest()
        head = f"{fastjsonschema.VERSION}\0{sys.implementation.cache_tag}\0{self._documents_digest}"
        body = json.dumps(prepared, sort_keys=True)
        return hashlib.sha256(f"{head}\0{body}".encode()).hexdigest()

    def _resolved(self) -> dict[str, Any]:
        if self._prepared is None:
            docs = self._documents
            try:
                self._prepared = {
                    uri: _prepare_document(uri, doc, docs) for uri, doc in docs.items()
                }
            except _Unsupported:
                self._prepared = {}  # every $ref into them then makes its schema unsupported
        return self._prepared


def _prepare_document(uri: str, doc: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """A referenced document: only its ``$defs``/``definitions``, every reference absolute."""
    scope = _Scope(known, str(doc.get("$id", uri)), uri)
    out: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        if key in doc:
            out[key] = {name: _prepare(sub, scope) for name, sub in doc[key].items()}
    return out


def _prepare(node: Any, scope: _Scope) -> Any:
    """A copy of a schema node that fastjsonschema evaluates exactly like jsonschema."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, Mapping):
        raise _Unsupported(repr(node)[:80])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _ANNOTATIONS or key in ("$schema", "$id"):
            continue  # $schema/$id: the draft is chosen here, refs are resolved by URI
        if key in _SCHEMA_MAPS:
            if key == "patternProperties":
                out[key] = {_pattern(p): _prepare(s, scope) for p, s in value.items()}
            else:
                out[key] = {name: _prepare(sub, scope) for name, sub in value.items()}
        elif key in _SCHEMA_ONE:
            if isinstance(value, list):
                raise _Unsupported(f"{key} as a list")  # tuple items differ across drafts
            out[key] = _prepare(value, scope)
        elif key in _SCHEMA_LISTS:
            out[key] = [_prepare(sub, scope) for sub in value]
        elif key == "const":
            # As a one-value enum: fastjsonschema's const does not compile without detailed
            # exceptions. Strings only: Python's == makes True equal 1.
            if type(value) is not str or "enum" in node:
                raise _Unsupported("const with a value that is not a string, or with an enum")
            out["enum"] = [value]
        elif key in _ASSERTIONS:
            out[key] = _assertion(key, value, scope)
        elif key == "format":
            if format_check(value) is not None:
                out[key] = _FORMAT_PREFIX + str(value).replace("-", "")
        else:
            raise _Unsupported(key)
    _merge_type_alternatives(out)
    if "pattern" in out and out["pattern"] is None:
        del out["pattern"]  # a pattern Python cannot compile is skipped by jsonschema too
    if "$ref" in out and len(out) > 1:
        # fastjsonschema ignores a $ref's siblings (draft-07); jsonschema applies them.
        ref = out.pop("$ref")
        return {"allOf": [{"$ref": ref}, _guard_numeric_enum(out)]}
    return _guard_numeric_enum(out)


def _merge_type_alternatives(schema: dict[str, Any]) -> None:
    """``anyOf: [{type: integer}, {type: string}]`` (int-or-string) as ``type: [...]``.

    The same verdicts; fastjsonschema implements anyOf by catching each failing branch's
    exception, which costs milliseconds in a large generated function.
    """
    branches = schema.get("anyOf")
    if (
        not isinstance(branches, list)
        or not branches
        or not all(isinstance(b, dict) and set(b) == {"type"} for b in branches)
    ):
        return
    types: list[str] = []
    for branch in branches:
        for name in branch["type"] if isinstance(branch["type"], list) else [branch["type"]]:
            if name not in types:
                types.append(name)
    if "type" in schema:
        # Both must hold: the types named in both (the API server types an int-or-string
        # node [integer, string] and keeps its anyOf). "number" also admits integers, so a
        # mix of the two is left to anyOf rather than intersected by name.
        own = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "number" in own + types and "integer" in own + types:
            return
        types = [name for name in own if name in types]
    del schema["anyOf"]
    schema["type"] = types


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | float) or type(value) is int


def _guard_numeric_enum(schema: dict[str, Any]) -> dict[str, Any]:
    """A numeric ``enum`` refuses booleans, as jsonschema does (1 == True here)."""
    if any(isinstance(v, int | float) for v in schema.get("enum", [])):
        return {"allOf": [schema, {"not": {"type": "boolean"}}]}
    return schema


def _assertion(key: str, value: Any, scope: _Scope) -> Any:
    if key == "enum":
        # Python's == makes True equal 1 (jsonschema keeps them apart), also inside lists.
        if not isinstance(value, list) or not all(_scalar(v) for v in value):
            raise _Unsupported("enum with boolean or structured values")
        return value
    if key == "pattern":
        compiled = compile_crd_pattern(str(value))
        return None if compiled is None else _literal_class_dollars(compiled.pattern)
    if key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
        raise _Unsupported(f"boolean {key}")  # draft-04 form
    if key == "$ref":
        ref = str(value)
        if ref.startswith("#"):
            return ref if scope.document is None else scope.document + ref
        absolute = urljoin(scope.base, ref)
        if absolute.split("#", 1)[0] not in scope.known:
            raise _Unsupported(f"$ref {ref}")
        return absolute
    return value


def _pattern(pattern: str) -> str:
    compiled = compile_crd_pattern(pattern)
    if compiled is None:
        raise _Unsupported(f"pattern {pattern}")
    return _literal_class_dollars(compiled.pattern)


def _literal_class_dollars(pattern: str) -> str:
    """Escape ``$`` inside ``[...]``: fastjsonschema turns every unescaped ``$`` into ``\\Z``,
    which is right for the anchor and a syntax error inside a character class."""
    out: list[str] = []
    in_class = escaped = False
    literal_close_at = -1  # "]" right after "[" or "[^" is a member, not the end
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif not in_class and char == "[":
            in_class = True
            literal_close_at = index + (2 if pattern[index + 1 : index + 2] == "^" else 1)
        elif in_class and char == "]" and index != literal_close_at:
            in_class = False
        elif in_class and char == "$":
            out.append("\\")
        out.append(char)
    return "".join(out)


# Generating and byte-compiling the code for a large CRD (KServe's InferenceService: ~19 MB
# of Python) takes seconds; loading it back with marshal takes milliseconds.
_CACHE_SUBDIR = "fast-check"


def _cache_path(key: str) -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / _CACHE_SUBDIR / f"{key}.marshal"


def _load_cached(key: str) -> CodeType | None:
    path = _cache_path(key)
    if path is None:
        return None
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _store_cached(key: str, code: CodeType) -> None:
    path = _cache_path(key)
    if path is not None:
        write_cache_file(path, marshal.dumps(code))
