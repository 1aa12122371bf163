"""CEL values as the runtime cost port evaluates them: equality, ordering, arithmetic,
conversions and the string and list functions, with CEL's error values.

Values are what ``cel._visit`` hands the ``cel`` package (JSON values, with ``datetime``,
``timedelta`` and ``bytes`` for formatted strings). Only the functions whose prices
``cel_runtime_cost`` knows are here; anything else makes that port give up, never guess.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "CONVERSIONS",
    "FUNCTIONS",
    "ORDERING",
    "TYPE_NAMES",
    "Error",
    "TypeValue",
    "Unsupported",
    "convert",
    "equal",
    "is_number",
    "member_of",
    "primitive",
    "select_index",
]

CONVERSIONS = frozenset({"int", "uint", "double", "string", "bytes", "bool", "duration",
                          "timestamp", "dyn", "type"})  # fmt: skip
TYPE_NAMES = frozenset({"int", "uint", "double", "string", "bytes", "bool", "list", "map",
                         "null_type", "type", "dyn"})  # fmt: skip


class Unsupported(Exception):
    """The rule uses what the port does not evaluate."""


@dataclass(frozen=True, slots=True)
class Error:
    """A CEL runtime error value (``no such key``, ``no such overload``): errors are values
    in CEL, absorbed by ``&&``/``||`` when the other side decides."""

    message: str


@dataclass(frozen=True, slots=True)
class TypeValue:
    name: str


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and bool(a == b)
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return bool(a == b)


def primitive(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def member_of(needle: Any, haystack: Any) -> Any:
    if isinstance(haystack, list):
        return any(equal(needle, h) for h in haystack)
    if isinstance(haystack, dict):
        return needle in haystack if isinstance(needle, str | int) else False
    return Error("no such overload")


def select_index(container: Any, index: Any) -> Any:
    if isinstance(container, Error):
        return container
    if isinstance(index, Error):
        return index
    if isinstance(container, list):
        if is_number(index) and float(index).is_integer():
            position = int(index)
            if 0 <= position < len(container):
                return container[position]
            return Error("index out of bounds")
        return Error("no such overload")
    if isinstance(container, dict):
        try:
            return container[index] if index in container else Error("no such key")
        except TypeError:
            return Error("no such key")
    return Error("no such overload")


ORDERING = frozenset({"_<_", "_<=_", "_>_", "_>=_"})


def _overload_error() -> Error:
    return Error("no such overload")


def _compare(op: str) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        a, b = args
        comparable = (is_number(a) and is_number(b)) or (
            type(a) is type(b) and isinstance(a, str | bytes | bool | datetime | timedelta)
        )
        if not comparable:
            return _overload_error()
        if op == "_<_":
            return a < b
        if op == "_<=_":
            return a <= b
        if op == "_>_":
            return a > b
        return a >= b

    return run


def _add(args: list[Any]) -> Any:
    a, b = args
    if is_number(a) and is_number(b) and type(a) is type(b):
        return a + b
    if type(a) is type(b) and isinstance(a, str | bytes | list):
        return a + b
    if isinstance(a, datetime | timedelta) and isinstance(b, timedelta):
        return a + b
    if isinstance(a, timedelta) and isinstance(b, datetime):
        return b + a
    return _overload_error()


def _arith(op: str) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        a, b = args
        if op == "_-_" and isinstance(a, datetime | timedelta) and isinstance(b, timedelta):
            return a - b
        if not (is_number(a) and is_number(b) and type(a) is type(b)):
            return _overload_error()
        if op == "_-_":
            return a - b
        if op == "_*_":
            return a * b
        if b == 0 and isinstance(a, int):
            return Error("division by zero" if op == "_/_" else "modulus by zero")
        if op == "_/_":
            return a / b if isinstance(a, float) else int(a / b)
        return math.fmod(a, b) if isinstance(a, float) else int(math.fmod(a, b))

    return run


def _size_fn(args: list[Any]) -> Any:
    value = args[0]
    return len(value) if isinstance(value, str | bytes | list | dict) else _overload_error()


def convert(fn: str, value: Any) -> Any:
    if isinstance(value, Error):
        return value
    if fn == "dyn":
        return value
    if fn == "type":
        return TypeValue(_type_name(value))
    if fn == "int" and is_number(value):
        return int(value)
    if fn == "int" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return Error("cannot convert")
    if fn == "double" and (is_number(value) or isinstance(value, str)):
        try:
            return float(value)
        except ValueError:
            return Error("cannot convert")
    if fn == "string" and isinstance(value, str):
        return value
    if fn == "string" and is_number(value):
        return str(value)
    if fn == "bool" and isinstance(value, bool):
        return value
    if fn == "bytes" and isinstance(value, str):
        return value.encode("utf-8")
    raise Unsupported(f"{fn}({type(value).__name__})")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, timedelta):
        return "duration"
    if isinstance(value, datetime):
        return "timestamp"
    if value is None:
        return "null_type"
    return "dyn"


def _string_fn(name: str) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        if not all(isinstance(a, str | int) and not isinstance(a, bool) for a in args):
            return _overload_error()
        if not isinstance(args[0], str):
            return _overload_error()
        text, rest = args[0], args[1:]
        try:
            return _STRING_OPS[name](text, *rest)
        except (TypeError, ValueError, IndexError, re.error):
            return Error(f"{name} failed")

    return run


def _substring(text: str, start: int, end: int | None = None) -> Any:
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        return Error("index out of range")
    return text[start:end]


def _char_at(text: str, index: int) -> Any:
    if not 0 <= index <= len(text):
        return Error("index out of range")
    return text[index : index + 1]


def _index_of(text: str, sub: str, start: int = 0) -> Any:
    if not 0 <= start <= len(text):
        return Error("index out of range")
    return text.find(sub, start)


def _split(text: str, sep: str, limit: int = -1) -> Any:
    if limit == 0:
        return []
    if limit < 0:
        return text.split(sep) if sep else list(text)
    return text.split(sep, limit - 1) if sep else [*text[: limit - 1], text[limit - 1 :]]


def _replace(text: str, old: str, new: str, count: int = -1) -> Any:
    return text.replace(old, new, count)


_STRING_OPS: dict[str, Callable[..., Any]] = {
    "startsWith": lambda t, p: t.startswith(p),
    "endsWith": lambda t, p: t.endswith(p),
    "contains": lambda t, s: s in t,
    "matches": lambda t, p: re.search(p, t) is not None,
    "lowerAscii": lambda t: "".join(c.lower() if c.isascii() else c for c in t),
    "upperAscii": lambda t: "".join(c.upper() if c.isascii() else c for c in t),
    "trim": lambda t: t.strip(),
    "substring": _substring,
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": lambda t, s: t.rfind(s),
    "split": _split,
    "replace": _replace,
}


def _join(args: list[Any]) -> Any:
    items, sep = args[0], args[1] if len(args) > 1 else ""
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return _overload_error()
    return str(sep).join(items)


def _list_fn(name: str) -> Callable[[list[Any]], Any]:
    def run(args: list[Any]) -> Any:
        target = args[0]
        if isinstance(target, str) and name in ("indexOf", "lastIndexOf"):
            return _string_fn(name)(args)
        if not isinstance(target, list):
            return _overload_error()
        try:
            if name == "isSorted":
                return all(a <= b for a, b in itertools.pairwise(target))
            if name == "sum":
                return sum(target)
            if name in ("min", "max"):
                if not target:
                    return Error("empty list")
                return min(target) if name == "min" else max(target)
            needle = args[1]
            hits = [i for i, v in enumerate(target) if equal(v, needle)]
            if not hits:
                return -1
            return hits[0] if name == "indexOf" else hits[-1]
        except TypeError:
            return _overload_error()

    return run


def _negate(args: list[Any]) -> Any:
    value = args[0]
    return -value if is_number(value) else _overload_error()


def _not(args: list[Any]) -> Any:
    value = args[0]
    return (not value) if isinstance(value, bool) else _overload_error()


def _not_strictly_false(args: list[Any]) -> Any:
    value = args[0]
    return value if isinstance(value, bool) else True


FUNCTIONS: dict[tuple[str, bool], Callable[[list[Any]], Any]] = {
    ("_==_", False): lambda a: equal(a[0], a[1]),
    ("_!=_", False): lambda a: not equal(a[0], a[1]),
    **{(op, False): _compare(op) for op in ORDERING},
    ("_+_", False): _add,
    **{(op, False): _arith(op) for op in ("_-_", "_*_", "_/_", "_%_")},
    ("-_", False): _negate,
    ("!_", False): _not,
    ("@not_strictly_false", False): _not_strictly_false,
    ("@in", False): lambda a: member_of(a[0], a[1]),
    ("size", False): _size_fn,
    ("size", True): _size_fn,
    **{(fn, False): (lambda name: lambda a: convert(name, a[0]))(fn) for fn in CONVERSIONS},
    **{(name, True): _string_fn(name) for name in _STRING_OPS},
    ("matches", False): _string_fn("matches"),
    ("join", True): _join,
    **{(name, True): _list_fn(name) for name in ("isSorted", "sum", "min", "max")},
    ("indexOf", True): _list_fn("indexOf"),
    ("lastIndexOf", True): _list_fn("lastIndexOf"),
}
