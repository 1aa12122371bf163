"""Kubernetes' CEL extension functions, written in Python for the ``cel`` package.

cel-go's ``ext.Strings`` (version 2, as the API server uses), the ``lists`` and ``regex``
libraries, and a ``size()`` counting code points (the package counts a string's UTF-8 bytes;
``cel_library.rewrite`` sends ``size(`` calls here).

A function never raises into the package: its Rust layer would print the traceback to stderr.
A failure is recorded in a per-thread list instead, which the evaluator reads after each rule.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from fleetgen.kube.crd_schema import compile_crd_pattern

__all__ = ["FUNCTIONS", "SIZE", "EvaluationError", "take_failures"]

SIZE = "__fg_size__"


class EvaluationError(Exception):
    """A CEL runtime error (index out of range, ...): the API server rejects the object too."""


class _Failures(threading.local):
    def __init__(self) -> None:
        self.items: list[tuple[bool, str]] = []  # (is a runtime error, message)


_FAILURES = _Failures()


def take_failures() -> list[tuple[bool, str]]:
    """Failures since the last call, as ``(runtime_error, message)``; a failure that is not a
    runtime error means the function could not handle its arguments (not evaluated)."""
    items, _FAILURES.items = _FAILURES.items, []
    return items


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _in_range(index: int, size: int) -> int:
    if not 0 <= index <= size:
        raise EvaluationError(f"index out of range: {index}")
    return index


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}  # ASCII only, as cel-go
_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes, list, dict)):
        return len(value)
    raise TypeError(f"size() of {type(value).__name__}")


def _char_at(s: Any, i: Any) -> str:
    text = _string(s)
    index = _in_range(_int(i), len(text))
    return text[index : index + 1]


def _index_of(s: Any, item: Any, offset: Any = 0) -> int:
    if isinstance(s, list):  # the lists library
        return next((i for i, x in enumerate(s) if x == item), -1)
    text = _string(s)
    return text.find(_string(item), _in_range(_int(offset), len(text)))


def _last_index_of(s: Any, item: Any, offset: Any = None) -> int:
    if isinstance(s, list):
        return next((i for i in range(len(s) - 1, -1, -1) if s[i] == item), -1)
    text, sub = _string(s), _string(item)
    end = len(text) if offset is None else _in_range(_int(offset), len(text))
    return text.rfind(sub, 0, end + len(sub))  # a match starting at or before offset


def _replace(s: Any, old: Any, new: Any, n: Any = -1) -> str:
    return _string(s).replace(_string(old), _string(new), _int(n))


def _split(s: Any, sep: Any, n: Any = -1) -> list[str]:
    text, separator, limit = _string(s), _string(sep), _int(n)
    if limit == 0:
        return []
    if separator == "":  # Go splits into characters
        chars = list(text)
        if limit < 0 or limit >= len(chars):
            return chars
        return [*chars[: limit - 1], text[limit - 1 :]]
    return text.split(separator, limit - 1 if limit > 0 else -1)


def _substring(s: Any, start: Any, end: Any = None) -> str:
    text = _string(s)
    stop = len(text) if end is None else _in_range(_int(end), len(text))
    begin = _in_range(_int(start), len(text))
    if begin > stop:
        raise EvaluationError(f"invalid substring range: start {begin} > end {stop}")
    return text[begin:stop]


def _join(items: Any, sep: Any = "") -> str:
    return _string(sep).join(_string(item) for item in _list(items))


def _is_sorted(items: Any) -> bool:
    values = _list(items)
    return all(a <= b for a, b in itertools.pairwise(values))


def _extreme(items: Any, pick: Callable[[list[Any]], Any]) -> Any:
    values = _list(items)
    if not values:
        raise EvaluationError("min/max of an empty list")
    return pick(values)


def _slice(items: Any, start: Any, end: Any) -> list[Any]:
    values = _list(items)
    stop = _in_range(_int(end), len(values))
    return values[_in_range(_int(start), stop) : stop]


def _find_all(s: Any, pattern: Any, n: Any = -1) -> list[str]:
    compiled = compile_crd_pattern(_string(pattern))
    if compiled is None:
        raise TypeError(f"pattern {pattern!r} cannot be compiled")
    found = [m.group(0) for m in compiled.finditer(_string(s))]
    limit = _int(n)
    return found if limit < 0 else found[:limit]


def _find(s: Any, pattern: Any) -> str:
    return next(iter(_find_all(s, pattern, 1)), "")


def _guard(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except EvaluationError as exc:
            _FAILURES.items.append((True, f"{name}: {exc}"))
        except Exception as exc:  # anything else: unexpected arguments, not evaluated
            _FAILURES.items.append((False, f"{name}(): {type(exc).__name__}: {exc}"))
        return None

    return call


_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    SIZE: _size,
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: _string(s).translate(_LOWER),
    "upperAscii": lambda s: _string(s).translate(_UPPER),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": lambda s: _string(s).strip(),
    "join": _join,
    "isSorted": _is_sorted,
    "sum": lambda items: sum(_list(items)),
    "min": lambda items: _extreme(items, min),
    "max": lambda items: _extreme(items, max),
    "slice": _slice,
    "find": _find,
    "findAll": _find_all,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {k: _guard(k, f) for k, f in _IMPLEMENTATIONS.items()}
