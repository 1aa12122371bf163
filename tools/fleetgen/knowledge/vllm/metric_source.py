"""Every ``vllm:`` metric a release defines, read from its prometheus_client constructor calls.

A metric is a call of ``Counter``/``Gauge``/``Histogram``/``Summary``/``Info`` (or a stat
logger's ``_counter_cls``-style alias of one) whose name is a ``vllm:`` string. Its label
names come from ``labelnames``; label values where a loop in the same function labels the
metric with each element of something enumerable (a list, a module constant, an Enum).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from fleetgen.knowledge.vllm.resolve import Resolver, Scope
from fleetgen.knowledge.vllm.sources import SourceTree

_CONSTRUCTORS = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "info": "info",
}
# ``self._counter_cls(...)``, ``Counter(...)``, ``prometheus_client.Gauge(...)``.
_CALLEE = re.compile(r"^_?(?:ray_?)?(counter|gauge|histogram|summary|info)(?:_cls)?$", re.I)
# A metric announced for removal says so in its help text, naming what to use instead.
_DEPRECATED = re.compile(r"deprecat", re.I)
_INSTEAD = re.compile(r"[Uu]se (vllm:[a-z0-9_:]+)")
# The V0 engine's loggers (gone since 0.11); the V1 engine, default from 0.8, never uses them.
V0_MODULES = ("vllm/engine/metrics.py", "vllm/engine/metrics_types.py")


@dataclass(slots=True)
class MetricDef:
    name: str
    type: str
    labels: list[str]
    module: str
    label_values: dict[str, list[str]] = field(default_factory=dict)
    hidden: bool = False
    deprecated: bool = False
    replacement: str | None = None
    conditions: list[str] = field(default_factory=list)
    # True when labelnames was a parameter: the caller passes the stat logger's base labels.
    inherited_labels: bool = False


def _callee_type(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    match = _CALLEE.match(name or "")
    return _CONSTRUCTORS[match.group(1).lower()] if match else None


def _argument(call: ast.Call, keyword: str, position: int) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _local_scope(function: ast.AST | None, before: int) -> Scope:
    """Simple assignments in ``function`` before line ``before`` (the last one wins).

    ``self.x = ...`` is kept as ``"self.x"`` so attribute label names resolve too.
    """
    scope: Scope = {}
    if function is None:
        return scope
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and node.lineno < before:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope[target.id] = node.value
                elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    scope[f"{target.value.id}.{target.attr}"] = node.value
    return scope


def _all_assignments(function: ast.AST | None, name: str) -> list[ast.expr]:
    if function is None:
        return []
    return [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def _names_from_loop(
    resolver: Resolver,
    path: str,
    name_node: ast.expr | None,
    function: ast.AST | None,
    parents: dict[ast.AST, ast.AST],
    call: ast.Call,
) -> list[str]:
    """``for name, doc in specs: Counter(name=name, ...)``: the names in ``specs``."""
    if not isinstance(name_node, ast.Name):
        return []
    node: ast.AST = call
    while node in parents:
        node = parents[node]
        generators = (
            node.generators
            if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.DictComp)
            else [node]
            if isinstance(node, ast.For)
            else []
        )
        for generator in generators:
            target, iterable = generator.target, generator.iter
            if isinstance(target, ast.Tuple):
                positions = [
                    i
                    for i, elt in enumerate(target.elts)
                    if isinstance(elt, ast.Name) and elt.id == name_node.id
                ]
            elif isinstance(target, ast.Name) and target.id == name_node.id:
                positions = [-1]
            else:
                continue
            sources = (
                _all_assignments(function, iterable.id)
                if isinstance(iterable, ast.Name)
                else [iterable]
            )
            names: list[str] = []
            for source in sources:
                if not isinstance(source, ast.List | ast.Tuple):
                    continue
                for element in source.elts:
                    picked = element
                    if positions[0] >= 0:
                        if not isinstance(element, ast.Tuple) or len(element.elts) <= positions[0]:
                            continue
                        picked = element.elts[positions[0]]
                    names.extend(resolver.strings(path, picked) or [])
            return names
    return []


def _parameters(function: ast.AST | None) -> set[str]:
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return set()
    args = function.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}


def _assigned_name(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> str | None:
    """The variable (or ``self.x`` attribute) the constructed metric is stored in."""
    parent = parents.get(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            return target.attr
    if isinstance(parent, ast.AnnAssign):
        target = parent.target
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            return target.attr
    return None


def _refers(node: ast.AST, name: str) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id == name)
        or (isinstance(n, ast.Attribute) and n.attr == name)
        for n in ast.walk(node)
    )


def _loops(function: ast.AST) -> Iterator[tuple[ast.expr, ast.expr, ast.AST]]:
    """(loop variable, iterable, body) of every for-loop and comprehension in ``function``."""
    for node in ast.walk(function):
        if isinstance(node, ast.For):
            yield node.target, node.iter, ast.Module(body=node.body, type_ignores=[])
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            element: ast.AST = (
                ast.Tuple(elts=[node.key, node.value])
                if isinstance(node, ast.DictComp)
                else node.elt
            )
            for generator in node.generators:
                yield generator.target, generator.iter, element


def _label_of_loop(body: ast.AST, variable: str, extra: list[str]) -> str | None:
    """Which label the loop variable fills: a keyword of ``.labels()``, else the one extra label."""
    for node in ast.walk(body):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "labels"
        ):
            for kw in node.keywords:
                if kw.arg and _refers(kw.value, variable):
                    return kw.arg
    return extra[0] if len(extra) == 1 else None


def _values(
    resolver: Resolver,
    path: str,
    function: ast.AST | None,
    metric_var: str | None,
    labels: list[str],
    base: list[str],
) -> dict[str, list[str]]:
    if function is None or metric_var is None:
        return {}
    extra = [label for label in labels if label not in base]
    found: dict[str, list[str]] = {}
    for target, iterable, body in _loops(function):
        if not isinstance(target, ast.Name):
            continue
        if not (_refers(body, metric_var) or _refers(body, "labels")):
            continue
        if not _refers(body, target.id) or not _refers(body, metric_var):
            continue
        label = _label_of_loop(body, target.id, extra)
        if label is None:
            continue
        local = _local_scope(function, getattr(iterable, "lineno", 10**9))
        values = resolver.strings(path, iterable, local)
        if values is not None:
            found[label] = sorted(set(found.get(label, [])) | set(values))
    return found


def _base_labels(resolver: Resolver, tree: SourceTree) -> list[str]:
    """The stat logger's own ``labelnames = [...]``, which it hands to its sub-loggers."""
    path = "vllm/v1/metrics/loggers.py"
    module = tree.module(path)
    if module is None:
        return []
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "labelnames" for t in node.targets
        ):
            values = resolver.strings(path, node.value)
            if values:
                return values
    return []


def extract_metrics(tree: SourceTree, resolver: Resolver) -> list[MetricDef]:
    base = _base_labels(resolver, tree)
    found: dict[str, MetricDef] = {}
    for path in tree.paths(containing="vllm:"):
        module = tree.module(path)
        if module is None:
            continue
        parents = _parents(module)
        for call in (n for n in ast.walk(module) if isinstance(n, ast.Call)):
            kind = _callee_type(call)
            if kind is None:
                continue
            name_node = _argument(call, "name", 0)
            function, hidden, conditions = None, False, []
            node: ast.AST = call
            while node in parents:
                node = parents[node]
                if isinstance(node, ast.If):
                    test = ast.unparse(node.test)
                    if "show_hidden_metrics" in test and not test.startswith("not "):
                        hidden = True
                    else:
                        conditions.append(test)
                if function is None and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    function = node
            names = resolver.strings(path, name_node)
            if names is None:
                names = _names_from_loop(resolver, path, name_node, function, parents, call)
            names = [n for n in names if n.startswith("vllm:")]
            if not names:
                continue
            labels_node = _argument(call, "labelnames", 2)
            local = _local_scope(function, call.lineno)
            labels = resolver.strings(path, labels_node, local) if labels_node else []
            inherited = False
            if labels is None and base:
                # A labelnames parameter: the stat logger hands every sub-logger its base labels.
                bound = dict(local)
                for parameter in _parameters(function):
                    if "label" in parameter and parameter not in local:
                        bound[parameter] = ast.List(elts=[ast.Constant(v) for v in base])
                labels = resolver.strings(path, labels_node, bound)
                inherited = labels is not None
            labels = labels or []
            doc = " ".join(resolver.strings(path, _argument(call, "documentation", 1), local) or [])
            for name in names:
                metric = _define(
                    resolver,
                    path,
                    function,
                    call,
                    parents,
                    base,
                    name,
                    kind,
                    labels,
                    doc,
                    hidden,
                    conditions,
                    inherited,
                )
                previous = found.get(metric.name)
                found[metric.name] = _merge(previous, metric) if previous else metric
    return [found[name] for name in sorted(found)]


def _define(
    resolver: Resolver,
    path: str,
    function: ast.AST | None,
    call: ast.Call,
    parents: dict[ast.AST, ast.AST],
    base: list[str],
    name: str,
    kind: str,
    labels: list[str],
    doc: str,
    hidden: bool,
    conditions: list[str],
    inherited: bool,
) -> MetricDef:
    metric = MetricDef(
        name=name,
        type=kind,
        labels=sorted(set(labels)),
        module=path,
        hidden=hidden,
        deprecated=bool(_DEPRECATED.search(doc)),
        conditions=sorted(set(conditions)),
        inherited_labels=inherited,
    )
    replacement = _INSTEAD.search(doc)
    if metric.deprecated and replacement:
        metric.replacement = replacement.group(1).rstrip(".")
    metric.label_values = _values(
        resolver, path, function, _assigned_name(call, parents), metric.labels, base
    )
    return metric


def _merge(a: MetricDef, b: MetricDef) -> MetricDef:
    """One name defined in two places (e.g. V0 and V1 loggers): keep both sides' facts."""
    primary, other = (b, a) if a.module in V0_MODULES and b.module not in V0_MODULES else (a, b)
    if other.module in V0_MODULES and primary.module not in V0_MODULES:
        return primary
    primary.labels = sorted(set(primary.labels) | set(other.labels))
    for label, values in other.label_values.items():
        primary.label_values[label] = sorted(set(primary.label_values.get(label, [])) | set(values))
    primary.hidden = primary.hidden and other.hidden
    return primary
