"""cel-go's static cost estimate of a rule, as the API server computes it for a CRD.

A port of ``checker/cost.go`` (cel-go) with Kubernetes' size estimator
(``apiextensions-apiserver/pkg/apiserver/schema/cel/compilation.go``) and library costs
(``apiserver/pkg/cel/library/cost.go``). Each node costs: a literal 0, an identifier 1, a
field selection 1 more on an object or map (``has()`` nothing more: the API server turns
presence-test cost off), a call its arguments plus its own price (1 for O(1) functions;
string traversals 0.1 per byte; ``matches`` string times pattern; equality of strings the
shorter one), a list 10 and a map 30 to create, and a comprehension its range, init and
result plus its range's size times its loop condition and step. Sizes come from the schema
types (``cel_types``); a size nothing bounds is 2^64-1, as upstream.

Approximated (documented, and the reason no finding is made without the exact number):
types are inferred here rather than by cel-go's checker, so a call whose overload cannot be
told apart (a ``dyn`` operand) is priced as the cheapest O(1) overload; functions this port
does not know are priced 1 plus their arguments, as cel-go prices any function it has no
estimate for. ``estimate`` returns None for a rule it cannot parse.

Long module: one port of one upstream file (cost.go with the library's estimates); split, the
price of each node kind would sit apart from the size bookkeeping it depends on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
from fleetgen.kube.cel_types import CelType, scalar

__all__ = ["MAX", "Estimate", "estimate"]

MAX = 2**64 - 1
_STRING_FACTOR = 0.1  # common.StringTraversalCostFactor
_REGEX_FACTOR = 0.25  # common.RegexStringLengthCostFactor
_LIST_CREATE, _MAP_CREATE = 10, 30
_UNKNOWN = (0, MAX)
_SCALAR_KINDS = frozenset({"bool", "double", "duration", "int", "timestamp", "uint"})
_BOOL_RESULT = frozenset(
    {
        "_&&_", "_||_", "!_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in",
        "@not_strictly_false", "startsWith", "endsWith", "contains", "matches", "isSorted",
        "isURL", "isQuantity", "isIP", "isCIDR", "isSemver", "isInteger", "isGreaterThan",
        "isLessThan", "isLoopback", "isUnspecified", "containsIP", "containsCIDR",
        "isCanonical", "ip.isCanonical", "includes",
    }
)  # fmt: skip
_STRING_RESULT = frozenset(
    {
        "lowerAscii", "upperAscii", "trim", "replace", "substring", "charAt", "join", "format",
        "string", "getScheme", "getHostname", "getHost", "getPort", "getEscapedPath", "find",
        "jsonpatch.escapeKey", "quote",
    }
)  # fmt: skip
_INT_RESULT = frozenset(
    {
        "size", "int", "indexOf", "lastIndexOf", "getDate", "getDayOfMonth", "getDayOfWeek",
        "getDayOfYear", "getFullYear", "getHours", "getMilliseconds", "getMinutes",
        "getMonth", "getSeconds", "sign", "asInteger", "compareTo", "major", "minor", "patch",
        "prefixLength", "family",
    }
)  # fmt: skip
_NOMINAL = frozenset(
    {
        "sign", "asInteger", "isInteger", "asApproximateFloat", "isGreaterThan", "isLessThan",
        "compareTo", "add", "sub", "major", "minor", "patch", "getScheme", "getHostname",
        "getHost", "getPort", "getEscapedPath", "getQuery", "masked", "prefixLength", "family",
        "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast",
        "isGlobalUnicast", "format.named",
    }
)  # fmt: skip
_PARSERS = frozenset({"quantity", "isQuantity", "semver", "isSemver", "cidr", "isIP", "isCIDR"})
_LIST_SCANS = frozenset({"isSorted", "sum", "max", "min", "indexOf", "lastIndexOf", "includes"})
_ORDERINGS = frozenset({"_<_", "_<=_", "_>_", "_>=_"})


@dataclass(frozen=True, slots=True)
class Estimate:
    min: int
    max: int


def _add(a: int, b: int) -> int:
    return min(a + b, MAX)


def _mul(a: int, b: int) -> int:
    return min(a * b, MAX)


def _factor(x: int, f: float) -> int:
    if x >= MAX / f:
        return MAX
    result = math.ceil(x * f)
    return MAX if result >= 2**64 else result


Range = tuple[int, int]


def _radd(a: Range, b: Range) -> Range:
    return _add(a[0], b[0]), _add(a[1], b[1])


def _rmul(a: Range, b: Range) -> Range:
    return _mul(a[0], b[0]), _mul(a[1], b[1])


def _rfactor(a: Range, f: float) -> Range:
    return _factor(a[0], f), _factor(a[1], f)


def _union(a: Range, b: Range) -> Range:
    return min(a[0], b[0]), max(a[1], b[1])


@dataclass(slots=True)
class _Var:
    type: CelType
    size: Range | None
    entry: Range | None = None  # size of a list's items / map's values, when known
    path: bool = False  # its value sits at a schema path (sizes from the schema apply)


@dataclass(slots=True)
class _Node:
    """What the estimator knows of one evaluated sub-expression."""

    type: CelType
    size: Range | None  # the computed size (cel-go's computeSize), None: unknown
    entry: Range | None = None
    # A field path the size estimator can follow (self.a[0].b): only through object fields,
    # list items and map values by index; a field selected on a map has none.
    path: bool = False


@dataclass(slots=True)
class _Coster:
    scopes: list[dict[str, _Var]] = field(default_factory=list)

    def lookup(self, name: str) -> _Var | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def cost(self, expr: Expr) -> tuple[Range, _Node]:
        if isinstance(expr, Literal):
            return (0, 0), _Node(scalar(expr.kind), _literal_size(expr))
        if isinstance(expr, Ident):
            var = self.lookup(expr.name)
            if var is None:
                return (1, 1), _Node(scalar("dyn"), None)
            return (1, 1), _Node(var.type, var.size, var.entry, var.path)
        if isinstance(expr, Select):
            operand_cost, operand = self.cost(expr.operand)
            target = operand.type
            if expr.test_only:  # PresenceTestHasCost(false)
                return operand_cost, _Node(scalar("bool"), (1, 1))
            extra = (1, 1) if target.kind in ("object", "map") else (0, 0)
            path = operand.path and target.kind == "object" and expr.field in target.fields
            if target.kind == "object":
                child = target.fields.get(expr.field, scalar("dyn"))
            elif target.kind == "map" and target.elem is not None:
                child = target.elem
            else:
                child = scalar("dyn")
            return _radd(operand_cost, extra), _Node(child, _type_size(child, path), path=path)
        if isinstance(expr, CreateList):
            total: Range = (_LIST_CREATE, _LIST_CREATE)
            item_size: Range = (0, 0) if not expr.elements else (MAX, 0)
            elem = scalar("dyn")
            for element in expr.elements:
                c, node = self.cost(element)
                total = _radd(total, c)
                item_size = _union(item_size, node.size or _UNKNOWN)
                elem = node.type
            n = len(expr.elements)
            return total, _Node(CelType("list", elem=elem), (n, n), item_size)
        if isinstance(expr, CreateMap):
            total = (_MAP_CREATE, _MAP_CREATE)
            value_size: Range = (0, 0) if not expr.entries else (MAX, 0)
            value = scalar("dyn")
            for key, val in expr.entries:
                kc, _ = self.cost(key)
                vc, node = self.cost(val)
                total = _radd(_radd(total, kc), vc)
                value_size = _union(value_size, node.size or _UNKNOWN)
                value = node.type
            n = len(expr.entries)
            kind = CelType("map", elem=value, key=scalar("string"))
            return total, _Node(kind, (n, n), value_size)
        if isinstance(expr, Comprehension):
            return self._comprehension(expr)
        return self._call(expr)

    def _comprehension(self, expr: Comprehension) -> tuple[Range, _Node]:
        range_cost, range_node = self.cost(expr.iter_range)
        init_cost, init = self.cost(expr.accu_init)
        total = _radd(range_cost, init_cost)
        accu = _Var(init.type, init.size, init.entry)
        rtype = range_node.type
        if rtype.kind == "list":
            item = rtype.elem or scalar("dyn")
        elif rtype.kind == "map":
            item = rtype.key or scalar("string")
        else:
            item = scalar("dyn")
        item_size = range_node.entry if rtype.kind == "list" and range_node.entry else None
        path = range_node.path and rtype.kind in ("list", "map")
        item_var = _Var(item, item_size or _type_size(item, path), path=path)
        self.scopes.append({expr.accu_var: accu, expr.iter_var: item_var})
        loop_cost, _ = self.cost(expr.loop_condition)
        step_cost, step = self.cost(expr.loop_step)
        del self.scopes[-1][expr.iter_var]
        result_cost, result = self.cost(expr.result)
        self.scopes.pop()
        total = _radd(total, result_cost)
        count = range_node.size or _UNKNOWN
        total = _radd(total, _rmul(count, _radd(step_cost, loop_cost)))
        if isinstance(expr.accu_init, Literal):
            node = _Node(result.type, _literal_size(expr.accu_init))
        elif isinstance(expr.accu_init, CreateList | CreateMap):
            node = _Node(step.type if step.type.kind == "list" else result.type, count, step.entry)
        else:
            node = _Node(result.type, result.size, result.entry)
        if expr.iter_var == "#unused":  # cel.bind: only the init, once, and the result
            return _radd(_radd(range_cost, init_cost), result_cost), result
        return total, node

    def _call(self, expr: Call) -> tuple[Range, _Node]:
        fn = expr.function
        if fn == "dyn" and len(expr.args) == 1:
            c, node = self.cost(expr.args[0])
            return _radd((1, 1), c), _Node(scalar("dyn"), node.size, node.entry)
        costs: list[Range] = []
        args: list[_Node] = []
        for arg in expr.args:
            c, node = self.cost(arg)
            costs.append(c)
            args.append(node)
        total: Range = (0, 0)
        target: _Node | None = None
        if expr.target is not None:
            total, target = self.cost(expr.target)
        arg_sum: Range = (0, 0)
        for c in costs:
            arg_sum = _radd(arg_sum, c)
        own, result = self._function(fn, target, args, costs, expr)
        if own is None:
            own = _radd((1, 1), arg_sum)
        else:
            own = _radd(own, arg_sum) if fn not in ("_&&_", "_||_", "_?_:_") else own
        return _radd(total, own), result

    def _function(
        self,
        fn: str,
        target: _Node | None,
        args: list[_Node],
        costs: list[Range],
        expr: Call,
    ) -> tuple[Range | None, _Node]:
        """(own cost or None for the O(1) default, the result)."""
        size = _size_or_unknown
        if fn in ("_&&_", "_||_"):
            lhs, rhs = costs
            return (lhs[0], _radd(lhs, rhs)[1]), _Node(scalar("bool"), (1, 1))
        if fn == "_?_:_":
            cond, yes, no = costs
            out = args[1] if args[1].type.kind != "dyn" else args[2]
            merged = _union(size(args[1]), size(args[2]))
            return _radd(cond, _union(yes, no)), _Node(out.type, merged, out.entry)
        if fn == "_[_]" and len(args) == 2:
            container = args[0].type
            elem = scalar("dyn")
            if container.kind in ("list", "map"):
                elem = container.elem or elem
            entry, path = args[0].entry, args[0].path and container.kind in ("list", "map")
            known = entry if entry is not None else _type_size(elem, path)
            return None, _Node(elem, known, path=path)
        if target is not None:
            found = self._member(fn, target, args, expr)
            if found is not None:
                return found
        kind = _result_kind(fn, target, args)
        if fn in _PARSERS and args:
            return _rfactor(size(args[0]), _STRING_FACTOR), _Node(kind, _type_size(kind))
        if fn == "url" and args:
            return _rfactor(size(args[0]), _STRING_FACTOR), _Node(kind, size(args[0]))
        if fn in _NOMINAL:
            return (1, 1), _Node(kind, _type_size(kind))
        if fn == "@in" and len(args) == 2 and args[1].type.kind != "map":
            return _rfactor(size(args[1]), 1), _Node(kind, (1, 1))
        if fn in ("_==_", "_!=_") or (fn in _ORDERINGS and _stringlike(args)):
            lhs, rhs = size(args[0]), size(args[1])
            smallest = min(lhs[1], rhs[1])
            return _rfactor((1 if smallest > 0 else 0, smallest), _STRING_FACTOR), _Node(
                kind, (1, 1)
            )
        if fn == "_+_" and len(args) == 2:
            lk, rk = args[0].type.kind, args[1].type.kind
            if "list" in (lk, rk) or "string" in (lk, rk) or "bytes" in (lk, rk):
                total = _radd(size(args[0]), size(args[1]))
                entry = None
                if args[0].entry is not None or args[1].entry is not None:
                    entry = _union(args[0].entry or (MAX, 0), args[1].entry or (MAX, 0))
                typ = args[0].type if lk != "dyn" else args[1].type
                if "list" in (lk, rk):
                    return (1, 1), _Node(typ, total, entry)
                return _rfactor(total, _STRING_FACTOR), _Node(typ, total)
        if fn in ("bytes", "string") and args and args[0].type.kind in ("string", "bytes"):
            text = size(args[0])
            length = (text[0], _mul(text[1], 4)) if fn == "bytes" else (text[0] // 4, text[1])
            return _rfactor(text, _STRING_FACTOR), _Node(kind, length)
        return None, _Node(kind, _type_size(kind))

    def _member(
        self, fn: str, target: _Node, args: list[_Node], expr: Call
    ) -> tuple[Range | None, _Node] | None:
        size = _size_or_unknown
        t = size(target)
        string = scalar("string")
        if fn in ("lowerAscii", "upperAscii", "substring", "trim"):
            return _rfactor(t, _STRING_FACTOR), _Node(string, t)
        if fn in ("startsWith", "endsWith") and len(args) == 1:
            return _rfactor(size(args[0]), _STRING_FACTOR), _Node(scalar("bool"), (1, 1))
        if fn == "matches" and len(args) == 1:
            subject = _rfactor(_radd(t, (1, 1)), _STRING_FACTOR)
            pattern = _rfactor(size(args[0]), _REGEX_FACTOR)
            return _rmul(subject, pattern), _Node(scalar("bool"), (1, 1))
        if fn in ("find", "findAll") and args:
            subject = _rfactor(_radd(t, (1, 1)), _STRING_FACTOR)
            pattern = _rfactor(size(args[0]), _REGEX_FACTOR)
            out = string if fn == "find" else CelType("list", elem=string)
            return _rmul(subject, pattern), _Node(out, (0, t[1]))
        if fn == "contains" and len(args) == 1:
            cost = _rmul(_rfactor(t, _STRING_FACTOR), _rfactor(size(args[0]), _STRING_FACTOR))
            return cost, _Node(scalar("bool"), (1, 1))
        if fn == "replace" and len(args) >= 2:
            return _rfactor(t, 2 * _STRING_FACTOR), _Node(string, _replace_size(t, args))
        if fn == "split":
            top = t[1]
            limit = expr.args[1] if len(expr.args) > 1 else None
            if isinstance(limit, Literal) and limit.kind == "int":
                top = max(0, limit.value)
            return _rfactor(t, 2 * _STRING_FACTOR), _Node(CelType("list", elem=string), (0, top))
        if fn == "join" and target.type.kind == "list":
            item = target.type.elem or scalar("dyn")
            elem = target.entry or _type_size(item, target.path) or _UNKNOWN
            joined = _rmul(t, elem)
            if args:
                seps = (max(t[0] - 1, 0), max(t[1] - 1, 0))
                joined = _radd(joined, _rmul(size(args[0]), seps))
            return _rfactor(joined, _STRING_FACTOR), _Node(string, joined)
        if fn in _LIST_SCANS:
            if target.type.kind == "list":
                elem_type = target.type.elem or scalar("dyn")
                per: Range = (1, 1)
                if elem_type.kind in ("string", "bytes"):
                    elem = target.entry or _type_size(elem_type, target.path) or _UNKNOWN
                    per = _radd(per, _rfactor(elem, _STRING_FACTOR))
                return _rmul(t, per), _Node(_result_kind(fn, target, args), (1, 1))
            if target.type.kind in ("string", "dyn") and fn in ("indexOf", "lastIndexOf"):
                return _rfactor(t, _STRING_FACTOR), _Node(scalar("int"), (1, 1))
        if fn == "format" and target.type.kind == "string":
            return _rfactor(t, _STRING_FACTOR), _Node(string, None)
        return None


def _stringlike(args: list[_Node]) -> bool:
    return any(a.type.kind in ("string", "bytes") for a in args)


def _replace_size(t: Range, args: list[_Node]) -> Range:
    old, new = _size_or_unknown(args[0]), _size_or_unknown(args[1])
    if old[0] == 0:
        count_max, kept_max = (t[1] + 1 if t[1] < MAX else t[1]), t[1]
    elif new[1] <= old[0]:
        count_max, kept_max = 0, t[1]
    else:
        count_max, kept_max = math.ceil(t[1] / old[0]), 0
    if old[1] == 0:
        count_min, kept_min = (t[0] + 1 if t[0] < MAX else t[0]), t[0]
    elif old[1] <= new[0]:
        count_min, kept_min = 0, t[0]
    else:
        count_min, kept_min = math.ceil(t[0] / old[1]), 0
    return _radd(_rmul((count_min, count_max), new), (kept_min, kept_max))


def _result_kind(fn: str, target: _Node | None, args: list[_Node]) -> CelType:
    if fn in _BOOL_RESULT:
        return scalar("bool")
    if fn in _STRING_RESULT:
        return scalar("string")
    if fn in _INT_RESULT:
        return scalar("int")
    if fn in ("double", "asApproximateFloat"):
        return scalar("double")
    if fn in ("uint",):
        return scalar("uint")
    if fn == "bytes":
        return scalar("bytes")
    if fn in ("duration", "timestamp"):
        return CelType(fn)
    if fn == "type":
        return scalar("type")
    if fn == "split":
        return CelType("list", elem=scalar("string"))
    if fn in ("quantity", "url", "ip", "cidr", "semver"):
        return CelType(fn)
    if fn in ("_+_", "_-_", "_*_", "_/_", "_%_", "-_") and args:
        kinds = [a.type for a in args if a.type.kind != "dyn"]
        return CelType(kinds[0].kind, elem=kinds[0].elem) if kinds else scalar("dyn")
    return scalar("dyn")


def _literal_size(expr: Literal) -> Range:
    if expr.kind == "string":
        return (len(expr.value), len(expr.value))
    if expr.kind == "bytes":
        return (len(expr.value), len(expr.value))
    return (1, 1)


def _type_size(t: CelType, path: bool = False) -> Range | None:
    """cel-go's computeSize for an expression of a known type: the schema's bound (path-based
    estimator), else 1 for a scalar, else unknown."""
    if path and t.from_schema:
        return (0, t.max_elements)
    if t.kind in _SCALAR_KINDS:
        return (1, 1)
    return None


def _size_or_unknown(node: _Node) -> Range:
    return node.size if node.size is not None else _UNKNOWN


def estimate(rule: str, self_type: CelType) -> Estimate | None:
    """The estimated cost range of ``rule`` with ``self`` (and ``oldSelf``) of ``self_type``;
    None when the rule cannot be parsed here."""
    try:
        expr = parse(rule)
    except (CelSyntaxError, RecursionError):
        return None
    size = _type_size(self_type, path=True)
    root = {name: _Var(self_type, size, path=True) for name in ("self", "oldSelf")}
    cost, _ = _Coster([root]).cost(expr)
    return Estimate(cost[0], cost[1])
