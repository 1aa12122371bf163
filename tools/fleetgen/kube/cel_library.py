"""How Kubernetes presents rules and values to CEL, mapped onto the ``cel`` package.

* which functions the package evaluates as cel-go does, so a rule needing anything else is
  reported as not evaluated instead of failing or passing by accident;
* a rewrite of ``size(`` calls to the code-point-counting one in ``cel_functions``;
* the schema's types (``number`` is a double, ``date-time`` a timestamp, ...), and the escaping of
  property names (``namespace`` is ``__namespace__`` in CEL);
* JSON pointers for reports, including a rule's ``fieldPath``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fleetgen.kube.cel_functions import FUNCTIONS, SIZE

__all__ = [
    "convert_scalar",
    "escape_field",
    "field_pointer",
    "parse_duration",
    "parse_failure_reason",
    "pointer",
    "rewrite",
    "scalar_kind",
    "unsupported_reason",
]

# Evaluated by the package as cel-go does (each checked); operators are the names that do not
# start with a letter (_+_, !_, @in, ...); has/all/exists/... are macros, not functions.
_BUILTINS = frozenset(
    {
        "bytes", "contains", "double", "duration", "dyn", "endsWith", "getDate", "getDayOfMonth",
        "getDayOfWeek", "getDayOfYear", "getFullYear", "getHours", "getMilliseconds",
        "getMinutes", "getMonth", "getSeconds", "int", "matches", "startsWith", "string",
        "timestamp", "type", "uint",
    }
)  # fmt: skip
# Identifiers naming Kubernetes libraries rather than variables (sets.contains(...)).
_NAMESPACES = frozenset(
    {"authorizer", "base64", "format", "jsonpatch", "lists", "math", "optional", "sets", "strings"}
)
# String literals (raw, bytes, triple-quoted) are copied unchanged; a size( call is renamed.
_TOKENS = re.compile(
    r"""(?P<literal>(?:[bB]?[rR]|[rR][bB])(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")"""
    r"""|[bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""""
    r"""|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))"""
    r"""|\bsize\b(?=\s*\()""",
    re.DOTALL,
)
_RESERVED = frozenset(
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
        "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
        "void", "while",
    }
)  # fmt: skip
_ACCESSIBLE = re.compile(r"^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$")
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_MICROSECONDS = {"ns": 1e-3, "us": 1, "µs": 1, "μs": 1, "ms": 1e3, "s": 1e6, "m": 6e7, "h": 3.6e9}
_FIELD_PATH = re.compile(r"\.([A-Za-z0-9_\-]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def rewrite(source: str) -> str:
    """The rule as given to the package."""
    return _TOKENS.sub(lambda m: m.group(0) if m.group("literal") else SIZE, source)


def unsupported_reason(variables: Sequence[str], functions: Sequence[str]) -> str | None:
    """Why a compiled rule cannot be evaluated here, or None when it can."""
    missing = [f"{name}.*" for name in sorted(set(variables) & _NAMESPACES)]
    missing += [
        f"{name}()"
        for name in sorted(set(functions))
        if name[:1].isalpha() and name not in _BUILTINS and name not in FUNCTIONS
    ]
    return f"not available here: {', '.join(missing)}" if missing else None


def parse_failure_reason(source: str, error: Exception) -> str:
    if ".?" in source or "[?" in source:
        return "optional field syntax (.? / [?]) is not supported by the CEL library"
    lines = str(error).splitlines()
    return f"cannot parse: {(lines[0] if lines else type(error).__name__)[:160]}"


def escape_field(name: str) -> str:
    """A property's name inside CEL (apiextensions' escaping rules)."""
    if name in _RESERVED:
        return f"__{name}__"
    if not _ACCESSIBLE.match(name):
        return name  # not reachable as an identifier; kept for map-style iteration
    return (
        name.replace("__", "__underscores__")
        .replace(".", "__dot__")
        .replace("-", "__dash__")
        .replace("/", "__slash__")
    )


def parse_duration(text: str) -> timedelta:
    """A Go ``time.ParseDuration`` string (``1h30m``, ``-1.5s``, ``0``)."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body == "0":
        return timedelta(0)
    parts = _DURATION_PART.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    return timedelta(microseconds=sign * sum(float(n) * _MICROSECONDS[u] for n, u in parts))


def scalar_kind(schema: Mapping[str, Any]) -> str | None:
    """The CEL type a schema gives a scalar when it is not what JSON would give."""
    types = schema.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    if "number" in kinds:
        return "double"
    if "string" in kinds and "integer" not in kinds:  # int-or-string stays dynamic
        fmt = schema.get("format")
        if fmt in ("date-time", "date"):
            return "timestamp"
        if fmt in ("byte", "duration"):
            return str(fmt)
    return None


def convert_scalar(kind: str, value: Any) -> Any:
    try:
        if kind == "double" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and kind == "timestamp":
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(value, str) and kind == "bytes":
            return base64.b64decode(value, validate=True)
        if isinstance(value, str) and kind == "duration":
            return parse_duration(value)
    except ValueError:
        pass  # malformed: the schema check reports it; CEL sees the raw string
    return value


def pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def field_pointer(field_path: str | None) -> str:
    """A rule's ``fieldPath`` (``.spec.items[0]['a.b']``) as a JSON pointer suffix; empty when
    absent or not understood (the violation is then reported at the rule's node)."""
    if not field_path:
        return ""
    parts: list[str] = []
    pos = 0
    for match in _FIELD_PATH.finditer(field_path):
        if match.start() != pos:
            return ""
        parts.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return pointer(parts) if pos == len(field_path) else ""
