"""A small, side-effect-free evaluator for the subset of Helm's Go templates that chart
Service and helper templates use (if/else/with, variables, include/template, printf, default,
the sprig string functions). It renders a template against values without helm, so that the
bill of materials is derived from the chart sources. Anything outside the subset raises
`Unsupported`: the extractor then records the fact as not derived instead of guessing.

The release is symbolic: `.Release.Name` and `.Release.Namespace` render as `<release>` and
`<namespace>`; a helper recognised as Helm's standard fullname rule renders as
`<fullname:DEFINE>` and is recorded as a `FullnameRule` that fleetgen applies at check time.

Long module: one evaluator (lexer, parser, evaluation and the sprig function table) whose
parts only make sense together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

RELEASE = "<release>"
NAMESPACE = "<namespace>"
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])'
    r"|(?P<decl>:=|=)|(?P<op>[()|,])|(?P<field>(?:\$[\w]*|)(?:\.[\w]+)+|\$[\w]*|\.)"
    r"|(?P<ident>[A-Za-z_]\w*))"
)


class Unsupported(Exception):
    """The template uses a construct this evaluator does not implement."""


@dataclass(frozen=True, slots=True)
class FullnameRule:
    """Helm's standard `<chart>.fullname` helper: the override value if set, else the release
    name when it contains the chart name, else `<release>-<chart>`; truncated, no trailing -."""

    override: str  # values path, e.g. "fullnameOverride"
    name_override: str  # values path, e.g. "nameOverride"
    truncate: int
    default_name: str | None = None  # the name before nameOverride, when not .Chart.Name

    def apply(self, release: str, chart: str, values: Mapping[str, Any]) -> str:
        override = lookup(values, self.override)
        if override:
            name = str(override)
        else:
            base = str(lookup(values, self.name_override) or self.default_name or chart)
            name = release if base in release else f"{release}-{base}"
        return name[: self.truncate].rstrip("-")


def lookup(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


# ---- parsing -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    kind: str  # text, action, if, with, range, define
    text: str = ""
    branches: list[tuple[str | None, list[_Node]]] = field(default_factory=list)


def _actions(source: str) -> Iterator[tuple[int, int, bool, str, bool]]:
    """(start, end, trim left, content, trim right) of every {{ }}; quotes inside an action
    may hold braces (`contains "{{" .value`)."""
    pos = 0
    while (open_at := source.find("{{", pos)) != -1:
        i = open_at + 2
        trim_left = source.startswith("-", i) and source[i + 1 : i + 2].isspace()
        i += 1 if trim_left else 0
        if source[i:].lstrip().startswith("/*"):  # a comment may hold {{ }} in examples
            close = source.find("*/", i)
            close = source.find("}}", close if close != -1 else i)
        else:
            close, quote = i, ""
            while close < len(source):
                char = source[close]
                if quote:
                    if char == "\\" and quote == '"':
                        close += 1
                    elif char == quote:
                        quote = ""
                elif char in '"`':
                    quote = char
                elif source.startswith("}}", close):
                    break
                close += 1
        if close == -1 or close >= len(source):
            raise Unsupported("unclosed action")
        content = source[i:close]
        trim_right = content.endswith("-") and content[-2:-1].isspace()
        if trim_right:
            content = content[:-1]
        yield open_at, close + 2, trim_left, content.strip(), trim_right
        pos = close + 2


def _lex(source: str) -> Iterator[tuple[str, str]]:
    """(text|action, content) with Go's {{- -}} whitespace trimming applied."""
    pos, pending_trim = 0, False
    for start, end, trim_left, body, trim_right in _actions(source):
        text = source[pos:start]
        if pending_trim:
            text = text.lstrip()
        if trim_left:
            text = text.rstrip()
        if text:
            yield "text", text
        if not (body.startswith("/*") and body.endswith("*/")):
            yield "action", body
        pending_trim = trim_right
        pos = end
    tail = source[pos:]
    if pending_trim:
        tail = tail.lstrip()
    if tail:
        yield "text", tail


def parse(source: str) -> tuple[list[_Node], dict[str, list[_Node]]]:
    """The top-level nodes and every `define` block."""
    defines: dict[str, list[_Node]] = {}
    stack: list[_Node] = [_Node("root", branches=[(None, [])])]
    for kind, content in _lex(source):
        current = stack[-1].branches[-1][1]
        if kind == "text":
            current.append(_Node("text", content))
            continue
        word = content.split(None, 1)[0] if content else ""
        rest = content[len(word) :].strip()
        if word in ("if", "with", "range", "define", "block"):
            node = _Node(word, branches=[(rest, [])])
            current.append(node)
            stack.append(node)
        elif word == "else":
            if len(stack) < 2:
                raise Unsupported("else without if")
            cond = rest[3:].strip() if rest.startswith("if ") else (rest or None)
            stack[-1].branches.append((cond, []))
        elif word == "end":
            if len(stack) < 2:
                raise Unsupported("end without block")
            node = stack.pop()
            if node.kind == "define":
                name = _unquote((node.branches[0][0] or "").strip())
                defines[name] = node.branches[0][1]
                stack[-1].branches[-1][1].remove(node)
        else:
            current.append(_Node("action", content))
    if len(stack) != 1:
        raise Unsupported("unclosed block")
    return stack[0].branches[0][1], defines


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"'):
        return bytes(token[1:-1], "utf-8").decode("unicode_escape")
    if token.startswith("`") and token.endswith("`"):
        return token[1:-1]
    return token


def _tokens(expr: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if match is None or match.end() == pos:
            raise Unsupported(f"cannot read {expr[pos:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


# ---- evaluation --------------------------------------------------------------------------


@dataclass(slots=True)
class Chart:
    """What a chart's templates see: its name, defines and values."""

    name: str
    version: str
    app_version: str
    defines: dict[str, list[_Node]]
    fullnames: dict[str, FullnameRule] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)  # .Values paths read, in order
    marking: bool = False  # render one-path scalar actions as markers (see extract)
    kube_version: str = "v1.32.0"  # what .Capabilities.KubeVersion reports


MARK = "__value__"


def _is_fullname(name: str, body: list[_Node]) -> FullnameRule | None:
    """Recognise Helm's standard fullname helper by its shape."""
    text = " ".join(n.text if n.kind == "action" else "" for n in _walk(body))
    conds = " ".join(c or "" for n in _walk(body) for c, _ in n.branches)
    override = re.search(r"\.Values\.([\w.]*fullnameOverride)", conds + " " + text)
    if not name.endswith("fullname") or override is None or "contains" not in conds:
        return None
    name_override = re.search(r"\.Values\.([\w.]*nameOverride)\b", text.replace(override[0], ""))
    truncate = re.search(r"trunc (\d+)", text)
    literal = re.search(r'default\s+"([^"]+)"\s+\.Values\.[\w.]*nameOverride', text)
    return FullnameRule(
        override[1],
        name_override[1] if name_override else "nameOverride",
        int(truncate[1]) if truncate else 63,
        literal[1] if literal else None,
    )


def _walk(nodes: list[_Node]) -> Iterator[_Node]:
    for node in nodes:
        yield node
        for _, branch in node.branches:
            yield from _walk(branch)


@dataclass(slots=True)
class _Scope:
    chart: Chart
    values: Mapping[str, Any]
    dot: Any
    variables: dict[str, Any]


def render(chart: Chart, nodes: list[_Node], values: Mapping[str, Any]) -> str:
    root = _root(chart, values)
    return _render(nodes, _Scope(chart, values, root, {"$": root}))


def render_guarded(
    chart: Chart,
    prelude: list[_Node],
    guard: str | None,
    body: list[_Node],
    values: Mapping[str, Any],
) -> str:
    """The body rendered whatever the guard says (the guard is still read, for the values it
    depends on), after the file's top-level variable assignments."""
    root = _root(chart, values)
    scope = _Scope(chart, values, root, {"$": root})
    _render(prelude, scope)
    if guard is not None:
        _pipeline(_tokens(guard), scope)
    return _render(body, scope)


def evaluate(chart: Chart, expr: str, values: Mapping[str, Any]) -> Any:
    """The value of one pipeline (an `if` condition, say) against values."""
    root = _root(chart, values)
    return _pipeline(_tokens(expr), _Scope(chart, values, root, {"$": root}))


def _root(chart: Chart, values: Mapping[str, Any]) -> dict[str, Any]:
    major, minor, _ = (chart.kube_version.lstrip("v") + ".0.0").split(".", 2)
    return {
        "Values": values,
        "Release": {"Name": RELEASE, "Namespace": NAMESPACE, "Service": "Helm"},
        "Chart": {"Name": chart.name, "Version": chart.version, "AppVersion": chart.app_version},
        "Capabilities": {
            # Rendered as for a cluster that serves no optional API (no ServiceMonitor CRD).
            "APIVersions": {"Has": lambda _api: False},
            "KubeVersion": {
                "GitVersion": chart.kube_version,
                "Version": chart.kube_version,
                "Major": major,
                "Minor": minor,
            },
        },
    }


def _render(nodes: list[_Node], scope: _Scope) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "action":
            out.append(_action(node.text, scope))
        elif node.kind == "if":
            for cond, body in node.branches:
                if cond is None or _truthy(_pipeline(_tokens(cond), scope)):
                    out.append(_render(body, scope))
                    break
        elif node.kind == "with":
            cond, body = node.branches[0]
            value = _pipeline(_tokens(cond or ""), scope)
            if _truthy(value):
                out.append(_render(body, _Scope(scope.chart, scope.values, value, scope.variables)))
            elif len(node.branches) > 1:
                out.append(_render(node.branches[1][1], scope))
        elif node.kind == "range":
            out.append(_range(node, scope))
        else:
            raise Unsupported(f"{node.kind} blocks")
    return "".join(out)


def _range(node: _Node, scope: _Scope) -> str:
    """`range X`, `range $v := X`, `range $k, $v := X` over a list or a mapping."""
    header = node.branches[0][0] or ""
    names: list[str] = []
    declared = re.match(r"^(\$\w+)(?:\s*,\s*(\$\w+))?\s*:=\s*(.*)$", header, re.S)
    if declared:
        names = [n for n in declared.groups()[:2] if n]
        header = declared.group(3)
    collection = _pipeline(_tokens(header), scope)
    if isinstance(collection, Mapping):
        items: list[tuple[Any, Any]] = sorted(collection.items(), key=lambda kv: str(kv[0]))
    elif isinstance(collection, list):
        items = list(enumerate(collection))
    elif not collection:
        items = []
    else:
        raise Unsupported("range over a value that is not a list or a mapping")
    out: list[str] = []
    for key, value in items:
        variables = dict(scope.variables)
        if len(names) == 2:
            variables[names[0]], variables[names[1]] = key, value
        elif names:
            variables[names[0]] = value
        inner = _Scope(scope.chart, scope.values, value, variables)
        out.append(_render(node.branches[0][1], inner))
        scope.variables.update({k: v for k, v in variables.items() if k in scope.variables})
    if not items and len(node.branches) > 1:
        out.append(_render(node.branches[1][1], scope))
    return "".join(out)


def _action(content: str, scope: _Scope) -> str:
    tokens = _tokens(content)
    if len(tokens) >= 2 and tokens[0][0] == "field" and tokens[1][0] == "decl":
        scope.variables[tokens[0][1]] = _pipeline(tokens[2:], scope)
        return ""
    value = _pipeline(tokens, scope)
    # `{{ .Values.a.b }}`, maybe piped on (`| default 80`, `| quote`): a value a user can set.
    direct = tokens[0][1].startswith(".Values.") and (len(tokens) == 1 or tokens[1][1] == "|")
    scalar = isinstance(value, int) or (isinstance(value, str) and "\n" not in value)
    if scope.chart.marking and direct and scalar:
        return f"{MARK}{tokens[0][1].removeprefix('.Values.')}"
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _to_yaml(value)
    return str(value)


def _truthy(value: Any) -> bool:
    return bool(value) and value != 0


def _pipeline(tokens: list[tuple[str, str]], scope: _Scope) -> Any:
    commands: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for token in tokens:
        if token == ("op", "(") or token == ("op", ")"):
            depth += 1 if token[1] == "(" else -1
        if token == ("op", "|") and depth == 0:
            commands.append([])
        else:
            commands[-1].append(token)
    value: Any = _NOTHING
    for command in commands:
        value = _command(command, scope, value)
    return None if value is _NOTHING else value


_NOTHING = object()


def _command(tokens: list[tuple[str, str]], scope: _Scope, piped: Any) -> Any:
    args: list[Any] = []
    i = 0
    head: str | None = None
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "op" and text == "(":
            depth, j = 1, i + 1
            while depth:
                if j >= len(tokens):
                    raise Unsupported("unbalanced parentheses")
                depth += {"(": 1, ")": -1}.get(tokens[j][1], 0) if tokens[j][0] == "op" else 0
                j += 1
            args.append(_pipeline(tokens[i + 1 : j - 1], scope))
            i = j
            continue
        if kind == "ident" and i == 0 and text not in ("true", "false", "nil"):
            head = text
        elif kind == "ident":
            args.append({"true": True, "false": False, "nil": None}.get(text, text))
        elif kind in ("str", "raw"):
            args.append(_unquote(text))
        elif kind == "num":
            args.append(float(text) if "." in text else int(text))
        elif kind == "field":
            args.append(_field(text, scope))
        else:
            raise Unsupported(f"token {text!r}")
        i += 1
    if piped is not _NOTHING:
        args.append(piped)
    if head is None and args and callable(args[0]):  # a method: .Capabilities.APIVersions.Has
        return args[0](*args[1:])
    if head is None:
        if len(args) != 1:
            raise Unsupported("a command without a function takes one operand")
        return args[0]
    return _call(head, args, scope)


def _field(text: str, scope: _Scope) -> Any:
    if text == ".":
        return scope.dot
    parts = text.split(".")
    base: Any
    if parts[0].startswith("$"):
        if parts[0] not in scope.variables:
            raise Unsupported(f"variable {parts[0]}")
        base = scope.variables[parts[0]]
    else:
        base = scope.dot
    path = [p for p in parts[1:] if p]
    if base is scope.variables.get("$") and path[:1] == ["Values"] and len(path) > 1:
        scope.chart.reads.append(".".join(path[1:]))
    if path[:1] == ["Files"] or (
        path[:1] == ["Capabilities"] and path[1:2] not in (["KubeVersion"], ["APIVersions"])
    ):
        raise Unsupported(f"{text} is only known to a cluster or a packaged chart")
    node = base
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _include(name: Any, dot: Any, scope: _Scope) -> str:
    chart = scope.chart
    if name not in chart.defines:
        raise Unsupported(f"helper {name!r} is not defined in the chart")
    rule = chart.fullnames.get(name)
    if rule is None:
        rule = _is_fullname(str(name), chart.defines[name])
        if rule is not None:
            chart.fullnames[name] = rule
    if rule is not None:  # applied at check time, with the release's name and values
        return f"<fullname:{name}>"
    marking, chart.marking = chart.marking, False  # a helper's text is an input, not output
    try:
        return _render(chart.defines[name], _Scope(chart, scope.values, dot, {"$": dot}))
    finally:
        chart.marking = marking


def _printf(fmt: Any, *args: Any) -> str:
    values = iter(args)
    return re.sub(r"%[sdvq]", lambda m: _text(next(values, "")), str(fmt))


def _default(fallback: Any, value: Any = None) -> Any:
    return value if _truthy(value) else fallback


def _to_yaml(value: Any) -> str:
    import yaml  # local: only toYaml needs it

    return str(yaml.safe_dump(value, default_flow_style=False, sort_keys=False)).rstrip("\n")


def _from_yaml(text: str) -> Any:
    import yaml

    return yaml.safe_load(text) or {}


def _indent(n: int, text: Any) -> str:
    return "\n".join(" " * int(n) + line for line in str(text).split("\n"))


def _call(name: str, args: list[Any], scope: _Scope) -> Any:
    if name in ("include", "template"):
        return _include(args[0], args[1] if len(args) > 1 else None, scope)
    if name == "tpl":  # a value that is itself a template, rendered against a context
        nodes, _ = parse(_text(args[0]))
        return _render(nodes, _Scope(scope.chart, scope.values, args[1], {"$": args[1]}))
    function = _FUNCTIONS.get(name)
    if function is None:
        raise Unsupported(f"function {name}")
    return function(*args)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _and(*values: Any) -> Any:
    for value in values:
        if not _truthy(value):
            return value
    return values[-1]


def _or(*values: Any) -> Any:
    for value in values:
        if _truthy(value):
            return value
    return values[-1]


def _version(text: str) -> tuple[int, ...]:
    core = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if core is None:
        raise Unsupported(f"version {text!r}")
    return tuple(int(part or 0) for part in core.groups())


def _semver_compare(constraint: Any, version: Any) -> bool:
    """Sprig's semverCompare for one comparison (">= 1.21-0"), the form charts use."""
    match = re.fullmatch(r"\s*(>=|<=|>|<|=|!=)?\s*(\S+)\s*", str(constraint))
    if match is None:
        raise Unsupported(f"semver constraint {constraint!r}")
    op, wanted = match.group(1) or "=", _version(match.group(2))
    have = _version(str(version))
    return {
        ">=": have >= wanted,
        "<=": have <= wanted,
        ">": have > wanted,
        "<": have < wanted,
        "=": have == wanted,
        "!=": have != wanted,
    }[op]


def _index(collection: Any, *keys: Any) -> Any:
    node = collection
    for key in keys:
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def _set(target: Any, key: Any, value: Any) -> Any:
    if isinstance(target, dict):
        target[key] = value
    return target


def _merge(target: Any, *sources: Any) -> Any:
    """Sprig's merge: keys the target lacks are taken from the sources."""
    if not isinstance(target, dict):
        return target
    for source in sources:
        if not isinstance(source, Mapping):
            raise Unsupported("merge of a value that is not a mapping")
        for key, value in source.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                _merge(target[key], value)
            else:
                target.setdefault(key, value)
    return target


def _merge_overwrite(target: Any, *sources: Any) -> Any:
    if not isinstance(target, dict):
        return target
    for source in sources:
        if not isinstance(source, Mapping):
            raise Unsupported("merge of a value that is not a mapping")
        for key, value in source.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                _merge_overwrite(target[key], value)
            else:
                target[key] = value
    return target


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "set": _set,
    "add": lambda *n: sum(_int(x) for x in n),
    "sub": lambda a, b: _int(a) - _int(b),
    "mul": lambda a, b: _int(a) * _int(b),
    "pick": lambda d, *keys: {k: v for k, v in (d or {}).items() if k in keys},
    "omit": lambda d, *keys: {k: v for k, v in (d or {}).items() if k not in keys},
    # What the cluster already holds: rendered as for a first install, where it holds nothing.
    "lookup": lambda *_args: {},
    "len": lambda value: len(value or ()),
    "typeIs": lambda kind, value: {
        "string": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float64": isinstance(value, float),
        "map[string]interface {}": isinstance(value, Mapping),
        "[]interface {}": isinstance(value, list),
    }.get(str(kind), False),
    "toJson": lambda value: json.dumps(value, separators=(",", ":")),
    "cat": lambda *parts: " ".join(_text(p) for p in parts if p is not None),
    "until": lambda n: list(range(int(n))),
    "merge": _merge,
    "mustMerge": _merge,
    "has": lambda item, items: item in (items or []),
    "keys": lambda *maps: [k for m in maps for k in (m or {})],
    "fromYaml": lambda text: _from_yaml(_text(text)),
    "mustMergeOverwrite": _merge_overwrite,
    "mergeOverwrite": _merge_overwrite,
    "regexReplaceAll": lambda rx, s, new: re.sub(rx, new.replace("$", "\\"), _text(s)),
    "regexReplaceAllLiteral": lambda rx, s, new: re.sub(rx, lambda _m: new, _text(s)),
    "regexMatch": lambda rx, s: re.search(rx, _text(s)) is not None,
    "semverCompare": _semver_compare,
    "kindIs": lambda kind, value: {
        "string": isinstance(value, str),
        "map": isinstance(value, Mapping),
        "slice": isinstance(value, list),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float64": isinstance(value, float),
        "invalid": value is None,
    }.get(str(kind), False),
    "index": _index,
    "printf": _printf,
    "print": lambda *a: "".join(_text(x) for x in a),
    "default": _default,
    "quote": lambda *a: " ".join(f'"{_text(x)}"' for x in a),
    "squote": lambda *a: " ".join(f"'{_text(x)}'" for x in a),
    "trunc": lambda n, s: _text(s)[: int(n)],
    "trimSuffix": lambda suffix, s: _text(s).removesuffix(suffix),
    "trimPrefix": lambda prefix, s: _text(s).removeprefix(prefix),
    "trim": lambda s: _text(s).strip(),
    "lower": lambda s: _text(s).lower(),
    "upper": lambda s: _text(s).upper(),
    "toString": _text,
    "int": _int,
    "int64": _int,
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
    "le": lambda a, b: a <= b,
    "not": lambda a: not _truthy(a),
    "and": _and,
    "or": _or,
    "empty": lambda a=None: not _truthy(a),
    "contains": lambda sub, s: _text(sub) in _text(s),
    "hasKey": lambda d, k: isinstance(d, Mapping) and k in d,
    "coalesce": lambda *a: next((x for x in a if _truthy(x)), None),
    "ternary": lambda yes, no, cond: yes if _truthy(cond) else no,
    "toYaml": _to_yaml,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "indent": _indent,
    "list": lambda *a: list(a),
    "dict": lambda *a: dict(zip(a[::2], a[1::2], strict=False)),
    "required": lambda _message, value: value,
    "replace": lambda old, new, s: _text(s).replace(old, new),
}
