"""The actual cost of one rule evaluation, as cel-go's cost tracker charges it in the API server.

The ``cel`` package evaluates rules but reports no cost, and the API server rejects an object
whose evaluation passes ``PerCallLimit`` or whose evaluations together pass
``RuntimeCELCostBudget`` (``cel_limits``). This module evaluates a rule again over the same
value, on the parsed tree (``cel_parse``), charging each step what cel-go's
``interpreter/runtimecost.go`` observer charges with Kubernetes' ``library/cost.go``
``CallCost`` and the API server's options (presence tests free, ``OptOptimize``):

* a literal 0, a variable 1, each field selection or index 1, ``has()`` nothing more than its
  operand; a list 10 and a map 30 to create, nothing when every element is a constant (the
  optimizer builds it once); a type conversion of a constant nothing (folded);
* ``x in [constants]`` nothing more than ``x`` (a set lookup); ``x in list`` the list's size;
* a call 1, except: equality and string/bytes ordering 0.1 per element or character of the
  smaller side, string concatenation 0.1 per character of both, ``matches`` and ``find``
  (0.1 × (1 + subject length)) × (0.25 × pattern length), ``contains`` the product of both
  lengths × 0.1, ``startsWith``/``endsWith`` 0.1 per character of the prefix, ``lowerAscii``,
  ``upperAscii``, ``trim``, ``substring``, ``url`` 0.1 per character of the subject,
  ``replace``/``split`` 0.2 per character, ``join`` 0.2 per character of the result, list
  scans (``indexOf``, ``isSorted``, ``sum``, ``min``, ``max``) 0.1 per byte of what they walk;
* ``&&``, ``||`` and ``?:`` nothing themselves, and only what they evaluate (short circuits);
  a branch of ``?:`` that is a plain variable or field path is resolved without the
  variable's own charge;
* a comprehension its range and init, then per element its loop condition and, while that
  holds, its step, then its result (``all`` stops at the first false, ``exists`` at the
  first true).

Checked number for number against the API server's ``celcoststability_test.go``. What this
port does not evaluate (a library type such as ``quantity``, a function it does not know)
makes ``actual_cost`` return None: no claim is made then. Evaluation stops as soon as the
cost passes the limit it is given, so a rule the API server cancels costs little here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgen.kube.cel_parse import (
    Call,
    CelSyntaxError,
    Comprehension,
    CreateList,
    CreateMap,
    Expr,
    Ident,
    Literal,
    Select,
    parse,
)
from fleetgen.kube.cel_values import (
    CONVERSIONS,
    FUNCTIONS,
    ORDERING,
    TYPE_NAMES,
    Error,
    TypeValue,
    Unsupported,
    convert,
    equal,
    member_of,
    primitive,
    select_index,
)

__all__ = ["actual_cost"]

_STRING_FACTOR = 0.1  # common.StringTraversalCostFactor
_REGEX_FACTOR = 0.25  # common.RegexStringLengthCostFactor
_LIST_CREATE, _MAP_CREATE = 10, 30  # common.ListCreateBaseCost, MapCreateBaseCost
_PROTO_TYPES = {"google.protobuf.Duration": "duration", "google.protobuf.Timestamp": "timestamp"}


class _Exceeded(Exception):
    """The cost passed the limit: the API server cancels the evaluation here."""


@dataclass(slots=True)
class _Tracker:
    limit: int
    cost: int = 0

    def charge(self, units: int) -> None:
        self.cost += units
        if self.cost > self.limit:
            raise _Exceeded


def actual_cost(rule: str, self_value: Any, limit: int) -> int | None:
    """What evaluating ``rule`` with ``self`` bound to ``self_value`` (as CEL sees it) costs;
    a number above ``limit`` means the evaluation passed it (counting stopped there); None
    when this port cannot evaluate the rule."""
    try:
        expr = parse(rule)
    except (CelSyntaxError, RecursionError):
        return None
    tracker = _Tracker(limit)
    try:
        _Evaluator(tracker).eval(expr, {"self": self_value})
    except _Exceeded:
        return tracker.cost
    except (Unsupported, RecursionError):
        return None
    return tracker.cost


# -- constants the optimizer folds --------------------------------------------------------


def _is_constant(expr: Expr) -> bool:
    if isinstance(expr, Literal):
        return True
    if isinstance(expr, CreateList):
        return all(_is_constant(e) for e in expr.elements)
    if isinstance(expr, CreateMap):
        return all(_is_constant(k) and _is_constant(v) for k, v in expr.entries)
    if isinstance(expr, Call) and expr.target is None and expr.function in CONVERSIONS:
        return len(expr.args) == 1 and _is_constant(expr.args[0])
    return False


def _is_attribute(expr: Expr) -> bool:
    """cel-go plans these as attributes: a ``?:`` branch resolves them unobserved."""
    if isinstance(expr, Ident):
        return expr.name not in TYPE_NAMES
    if isinstance(expr, Select):
        return not expr.test_only
    return isinstance(expr, Call) and expr.function == "_[_]"


# -- values -------------------------------------------------------------------------------


def _size(value: Any) -> int:
    """cel-go's ``actualSize``: the length of a string (code points), bytes, list or map."""
    if isinstance(value, str | bytes | list | dict):
        return len(value)
    return 1


def _truthy(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _ceil(units: float) -> int:
    return math.ceil(units)


def _traversal(value: Any) -> int:
    """library.traversalCost: 0.1 per byte of every string walked, 1 per other leaf."""
    if isinstance(value, str):
        return int(len(value.encode("utf-8")) * _STRING_FACTOR)
    if isinstance(value, bytes):
        return int(len(value) * _STRING_FACTOR)
    if isinstance(value, list):
        return sum(_traversal(v) for v in value)
    if isinstance(value, dict):
        return sum(_traversal(k) + _traversal(v) for k, v in value.items())
    return 1


@dataclass(slots=True)
class _Evaluator:
    tracker: _Tracker
    scopes: list[dict[str, Any]] = field(default_factory=list)

    def lookup(self, name: str, env: Mapping[str, Any]) -> tuple[bool, Any]:
        if name in env:
            return True, env[name]
        return False, None

    def eval(self, expr: Expr, env: Mapping[str, Any]) -> Any:
        charge = self.tracker.charge
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Ident):
            found, value = self.lookup(expr.name, env)
            if found:
                charge(1)
                return value
            if expr.name in TYPE_NAMES:
                return TypeValue(expr.name)
            raise Unsupported(expr.name)
        if isinstance(expr, Select):
            dotted = _dotted(expr)
            if dotted in _PROTO_TYPES:
                return TypeValue(_PROTO_TYPES[dotted])
            operand = self.eval(expr.operand, env)
            if expr.test_only:  # PresenceTestHasCost(false)
                if isinstance(operand, dict):
                    return expr.field in operand
                return operand if isinstance(operand, Error) else Error("no such overload")
            charge(1)
            if isinstance(operand, dict):
                return operand[expr.field] if expr.field in operand else Error("no such key")
            return operand if isinstance(operand, Error) else Error("no such overload")
        if isinstance(expr, CreateList):
            if _is_constant(expr):
                return [self.eval(e, env) for e in expr.elements]
            items = [self.eval(e, env) for e in expr.elements]
            charge(_LIST_CREATE)
            return next((i for i in items if isinstance(i, Error)), items)
        if isinstance(expr, CreateMap):
            constant = _is_constant(expr)
            entries = [(self.eval(k, env), self.eval(v, env)) for k, v in expr.entries]
            if not constant:
                charge(_MAP_CREATE)
            for k, v in entries:
                if isinstance(k, Error) or isinstance(v, Error):
                    return k if isinstance(k, Error) else v
            try:
                return dict(entries)
            except TypeError as exc:
                raise Unsupported("map key") from exc
        if isinstance(expr, Comprehension):
            return self._fold(expr, env)
        return self._call(expr, env)

    def _fold(self, expr: Comprehension, env: Mapping[str, Any]) -> Any:
        iter_range = self.eval(expr.iter_range, env)
        accu = self.eval(expr.accu_init, env)
        if isinstance(iter_range, Error):
            return iter_range
        if isinstance(iter_range, dict):
            elements: list[Any] = list(iter_range)
        elif isinstance(iter_range, list):
            elements = iter_range
        else:
            return Error("expected iterable type")
        scope = dict(env)
        for element in elements:
            scope[expr.iter_var] = element
            scope[expr.accu_var] = accu
            condition = self.eval(expr.loop_condition, scope)
            if isinstance(condition, bool) and not condition:
                break
            accu = self.eval(expr.loop_step, scope)
        scope.pop(expr.iter_var, None)
        scope[expr.accu_var] = accu
        return self.eval(expr.result, scope)

    def _call(self, expr: Call, env: Mapping[str, Any]) -> Any:
        fn = expr.function
        if fn in ("_&&_", "_||_"):
            return self._logical(fn == "_&&_", expr.args, env)
        if fn == "_?_:_":
            condition = self.eval(expr.args[0], env)
            if not isinstance(condition, bool):
                return condition if isinstance(condition, Error) else Error("no such overload")
            return self._unobserved(expr.args[1] if condition else expr.args[2], env)
        if fn in CONVERSIONS and expr.target is None and _is_constant(expr):
            return convert(fn, self.eval(expr.args[0], env))
        if fn == "@in" and len(expr.args) == 2 and _is_constant(expr.args[1]):
            needle = self.eval(expr.args[0], env)
            haystack = self.eval(expr.args[1], env)
            if isinstance(needle, Error):
                return needle
            if isinstance(haystack, list) and all(primitive(h) for h in haystack):
                return any(equal(needle, h) for h in haystack)  # a set lookup: no charge
            self.tracker.charge(_size(haystack) if isinstance(haystack, list) else 1)
            return member_of(needle, haystack)
        if fn == "_[_]":
            container = self.eval(expr.args[0], env)
            index = self._unobserved(expr.args[1], env)
            self.tracker.charge(1)  # a qualifier
            return select_index(container, index)
        args: list[Any] = []
        if expr.target is not None:
            args.append(self.eval(expr.target, env))
        args.extend(self.eval(a, env) for a in expr.args)
        member = expr.target is not None
        error = next((a for a in args if isinstance(a, Error)), None)
        if error is not None and fn != "@not_strictly_false":
            self.tracker.charge(1)
            return error
        implementation = FUNCTIONS.get((fn, member))
        if implementation is None:
            raise Unsupported(fn)
        result = implementation(args)
        self.tracker.charge(_call_cost(fn, member, args, result))
        return result

    def _unobserved(self, expr: Expr, env: Mapping[str, Any]) -> Any:
        """A ``?:`` branch or an index that is itself an attribute is resolved inside the
        enclosing attribute: its own observation (1) is not charged, its qualifiers are."""
        before = self.tracker.cost
        value = self.eval(expr, env)
        if _is_attribute(expr) and self.tracker.cost > before:
            self.tracker.cost -= 1
        return value

    def _logical(self, conjunction: bool, args: tuple[Expr, ...], env: Mapping[str, Any]) -> Any:
        decisive = not conjunction  # && stops at false, || at true
        error: Any = None
        for term in args:
            value = self.eval(term, env)
            if value is decisive:
                return decisive
            if not isinstance(value, bool):
                error = value if isinstance(value, Error) else Error("no such overload")
        return error if error is not None else not decisive


def _dotted(expr: Expr) -> str | None:
    if isinstance(expr, Ident):
        return expr.name
    if isinstance(expr, Select) and not expr.test_only:
        head = _dotted(expr.operand)
        return None if head is None else f"{head}.{expr.field}"
    return None


# -- functions and their prices -----------------------------------------------------------


def _call_cost(fn: str, member: bool, args: list[Any], result: Any) -> int:
    """cel-go's ``costCall`` after Kubernetes' ``CallCost``, for the functions evaluated here."""
    if fn in ("lowerAscii", "upperAscii", "substring", "trim") and args:
        return _ceil(_size(args[0]) * _STRING_FACTOR)
    if fn in ("replace", "split") and args:
        return _ceil(_size(args[0]) * 2 * _STRING_FACTOR)
    if fn == "join" and args:
        return _ceil(_size(result) * 2 * _STRING_FACTOR)
    if fn in ("isSorted", "sum", "max", "min", "indexOf", "lastIndexOf") and member and args:
        return _traversal(args[0])
    if fn in ("startsWith", "endsWith") and len(args) == 2:
        return _ceil(_size(args[1]) * _STRING_FACTOR)
    if fn == "@in" and len(args) == 2 and isinstance(args[1], list):
        return _size(args[1])
    if fn in ("_==_", "_!=_") or (fn in ORDERING and _stringlike(args)):
        return _ceil(min(_size(args[0]), _size(args[1])) * _STRING_FACTOR)
    if fn == "_+_" and _stringlike(args):
        return _ceil((_size(args[0]) + _size(args[1])) * _STRING_FACTOR)
    if fn in ("matches", "find", "findAll") and len(args) >= 2:
        subject = _ceil((1.0 + _size(args[0])) * _STRING_FACTOR)
        return subject * _ceil(_size(args[1]) * _REGEX_FACTOR)
    if fn == "contains" and len(args) == 2:
        return _ceil(_size(args[0]) * _STRING_FACTOR) * _ceil(_size(args[1]) * _STRING_FACTOR)
    return 1


def _stringlike(args: list[Any]) -> bool:
    return len(args) == 2 and all(isinstance(a, str | bytes) for a in args)
