"""The subset of Go's text/template that ApplicationSet templates use, with its semantics.

Argo CD renders every string field of a template with ``text/template`` (plus Sprig) when
``goTemplate: true`` (argo-cd applicationset/utils/utils.go, ``Render.Replace``). This module
implements actions that print a pipeline: field chains (``.a.b``, ``$.a``), literals,
parenthesized pipelines, ``|`` chaining, trim markers and comments, and a few functions
(``index``, ``len``, ``not``, ``eq``, ``ne``, ``and``, ``or``, ``printf`` with %s/%d/%v, and the
Sprig or Argo CD helpers ``lower``, ``upper``, ``trim``, ``trimPrefix``, ``trimSuffix``,
``replace``, ``default``, ``quote``, ``toJson``, ``normalize``, ``trunc``).

Errors Argo CD would raise too (a missing key under ``missingkey=error``, a field of a
string, a parse error) raise TemplateError; constructs outside the subset (``if``, ``range``,
``with``, ``define``, other functions) raise Unsupported, so a template is never guessed at.
Values print as Go's fmt does: JSON numbers are float64 (``1e+06``), nil is ``<no value>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Options", "TemplateError", "Unsupported", "go_print", "render", "sanitize_name"]

NO_VALUE = "<no value>"
_LAX = ("default", "invalid", "zero")


class TemplateError(Exception):
    """The template fails in Argo CD as well."""


class Unsupported(Exception):
    """The template uses a construct this subset does not implement."""


@dataclass(frozen=True, slots=True)
class Options:
    missing_key_error: bool = False

    @classmethod
    def parse(cls, options: Sequence[str]) -> Options:
        missing = False  # the last missingkey option wins, as in Go
        for option in options:
            if option not in ("missingkey=error", *(f"missingkey={v}" for v in _LAX)):
                raise TemplateError(f"unrecognized option: {option}")
            missing = option == "missingkey=error"
        return cls(missing_key_error=missing)


class _Missing:
    """Go's invalid reflect.Value: what a missing map key yields without missingkey=error."""


MISSING = _Missing()


def sanitize_name(name: str) -> str:
    """Argo CD's SanitizeName (applicationset/utils/template_functions.go)."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def _go_float(value: float) -> str:
    """fmt's %v of a float64: strconv 'g' with the shortest digits, exponent from 1e6 up."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    point = len(text) + exponent  # where the decimal point sits in the digits
    x = point - 1
    prefix = "-" if sign else ""
    # strconv.FormatFloat(f, 'g', -1, 64): "if precision was the shortest possible, use
    # precision 6 for this decision" (exponent form below 1e-4 and from 1e6 up).
    if x < -4 or x >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def go_print(value: Any) -> str:
    """How text/template prints a value (fmt.Fprint of the underlying Go value)."""
    if value is None or value is MISSING:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{_nested(value[k])}" for k in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_nested(v) for v in value) + "]"
    return str(value)


def _nested(value: Any) -> str:
    return "<nil>" if value is None or value is MISSING else go_print(value)


# --- lexing and parsing ----------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<field>(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$[A-Za-z0-9_]*|\.)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[|()])
      | (?P<chain>\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise TemplateError(f"unexpected {text[pos:].strip()[:20]!r} in command")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        # A field chain glued to a closing parenthesis: (pipeline).field
        if kind == "punct" and match.group(kind) == ")" and text[pos : pos + 1] == ".":
            chained = re.match(r"(\.[A-Za-z_][A-Za-z0-9_]*)+", text[pos:])
            if chained:
                out.append(("chain", chained.group(0)))
                pos += chained.end()
    return out


Node = tuple[str, Any]  # ("str"|"num"|"field"|"ident"|"pipe"|"chain", payload)


def _parse_pipeline(tokens: list[tuple[str, str]], pos: int) -> tuple[list[list[Node]], int]:
    commands: list[list[Node]] = [[]]
    while pos < len(tokens):
        kind, text = tokens[pos]
        if kind == "punct" and text == ")":
            break
        if kind == "punct" and text == "|":
            if not commands[-1]:
                raise TemplateError("missing command before |")
            commands.append([])
            pos += 1
            continue
        if kind == "punct" and text == "(":
            inner, pos = _parse_pipeline(tokens, pos + 1)
            if pos >= len(tokens) or tokens[pos] != ("punct", ")"):
                raise TemplateError("unclosed left paren")
            commands[-1].append(("pipe", inner))
            pos += 1
            continue
        if kind == "chain":
            if not commands[-1]:
                raise TemplateError(f"unexpected {text}")
            target = commands[-1].pop()
            commands[-1].append(("chain", (target, text[1:].split("."))))
            pos += 1
            continue
        if kind == "ident" and text in _KEYWORDS:
            raise Unsupported(f"{{{{{text}}}}} actions")
        commands[-1].append((kind, text))
        pos += 1
    if not commands[-1]:
        raise TemplateError("missing value for command")
    return commands, pos


# --- evaluation --------------------------------------------------------------------------


class _Eval:
    def __init__(self, data: Any, options: Options) -> None:
        self.data = data
        self.options = options

    def field(self, receiver: Any, names: Sequence[str]) -> Any:
        for name in names:
            if receiver is MISSING or receiver is None:
                if self.options.missing_key_error:
                    raise TemplateError(f"nil data; no entry for key {name!r}")
                return MISSING
            if isinstance(receiver, Mapping):
                if name in receiver:
                    receiver = receiver[name]
                elif self.options.missing_key_error:
                    raise TemplateError(f"map has no entry for key {name!r}")
                else:
                    receiver = MISSING
            else:
                raise TemplateError(f"can't evaluate field {name} in type {_go_type(receiver)}")
        return receiver

    def operand(self, node: Node) -> Any:
        kind, payload = node
        if kind == "str":
            text = str(payload)
            return text[1:-1] if text.startswith("`") else json.loads(text)
        if kind == "num":
            text = str(payload)
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "field":
            text = str(payload)
            if text == ".":
                return self.data
            if text.startswith("$"):
                head, _, rest = text.partition(".")
                if head != "$":
                    raise Unsupported(f"template variables ({head})")
                return self.field(self.data, rest.split(".")) if rest else self.data
            return self.field(self.data, text[1:].split("."))
        if kind == "pipe":
            return self.pipeline(payload)
        if kind == "chain":
            target, names = payload
            return self.field(self.operand(target), names)
        if kind == "ident":
            if payload in ("true", "false"):
                return payload == "true"
            if payload == "nil":
                raise TemplateError("nil is not a command")
        raise TemplateError(f"unexpected {payload!r}")

    def command(self, command: list[Node], piped: list[Any]) -> Any:
        head = command[0]
        if head[0] == "ident" and head[1] not in ("true", "false", "nil"):
            function = FUNCTIONS.get(str(head[1]))
            if function is None:
                raise Unsupported(f"function {head[1]!r}")
            args = [self.operand(node) for node in command[1:]] + piped
            return function(*args)
        if len(command) > 1 or piped:
            raise TemplateError(f"can't give argument to non-function {head[1]}")
        return self.operand(head)

    def pipeline(self, commands: list[list[Node]]) -> Any:
        value: list[Any] = []
        for command in commands:
            value = [self.command(command, value)]
        return value[0]


def _go_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, list):
        return "[]interface {}"
    return "interface {}"


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, Mapping):
            item = item.get(key)
        elif isinstance(item, list | str):
            if isinstance(key, bool) or not isinstance(key, int | float) or key != int(key):
                raise TemplateError(f"cannot index slice/array with type {_go_type(key)}")
            if not 0 <= int(key) < len(item):
                raise TemplateError(f"error calling index: index out of range: {int(key)}")
            item = item[int(key)]
        elif item is None or item is MISSING:
            raise TemplateError("error calling index: index of untyped nil")
        else:
            raise TemplateError(f"can't index item of type {_go_type(item)}")
    return item


def _truthy(value: Any) -> bool:
    return not (value is None or value is MISSING or value in ("", 0, False) or value == [])


def _printf(fmt: Any, *args: Any) -> str:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            return f"%!{match.group(1)}(MISSING)"
        if match.group(1) == "d" and isinstance(value, int | float) and value == int(value):
            return str(int(value))
        if match.group(1) in ("s", "v", "d"):
            return go_print(value)
        raise Unsupported(f"printf verb %{match.group(1)}")

    return re.sub(r"%%|%([a-z])", one, str(fmt))


def _str(value: Any) -> str:
    return go_print(value) if value is not MISSING else ""


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "index": _index,
    "len": lambda v: len(v) if isinstance(v, Mapping | list | str) else _len_error(v),
    "not": lambda v: not _truthy(v),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "and": lambda *v: next((x for x in v if not _truthy(x)), v[-1]),
    "or": lambda *v: next((x for x in v if _truthy(x)), v[-1]),
    "printf": _printf,
    "lower": lambda v: _str(v).lower(),
    "upper": lambda v: _str(v).upper(),
    "trim": lambda v: _str(v).strip(),
    "trimPrefix": lambda p, v: _str(v).removeprefix(_str(p)),
    "trimSuffix": lambda s, v: _str(v).removesuffix(_str(s)),
    "replace": lambda old, new, v: _str(v).replace(_str(old), _str(new)),
    "default": lambda d, *v: v[0] if v and _truthy(v[0]) else d,
    "quote": lambda *v: " ".join(json.dumps(_str(x)) for x in v if x is not None),
    "toJson": lambda v: json.dumps(None if v is MISSING else v, separators=(",", ":")),
    "normalize": lambda v: sanitize_name(_str(v)),
    "trunc": lambda n, v: _str(v)[: int(n)] if n >= 0 else _str(v)[int(n) :],
}


def _len_error(value: Any) -> int:
    raise TemplateError(f"error calling len: len of type {_go_type(value)}")


def render(template: str, data: Mapping[str, Any], options: Options) -> str:
    """One string field rendered as text/template would (raises TemplateError/Unsupported)."""
    if "{{" not in template:
        return template
    out: list[str] = []
    pos = 0
    evaluator = _Eval(data, options)
    for match in _ACTION.finditer(template):
        text = template[pos : match.start()]
        if match.group(1):
            text = text.rstrip()
        if out and out[-1] == "\0trim":
            out.pop()
            text = text.lstrip()
        out.append(text)
        pos = match.end()
        body = match.group(2).strip()
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("unclosed comment")
        elif re.match(r"\$\w*\s*:?=", body):
            raise Unsupported("template variables")
        else:
            tokens = _tokens(body)
            if not tokens:
                raise TemplateError("missing value for command")
            commands, end = _parse_pipeline(tokens, 0)
            if end != len(tokens):
                raise TemplateError(f"unexpected {tokens[end][1]!r} in operand")
            out.append(go_print(evaluator.pipeline(commands)))
        if match.group(3):
            out.append("\0trim")
    rest = template[pos:]
    if out and out[-1] == "\0trim":
        out.pop()
        rest = rest.lstrip()
    if "{{" in rest:
        raise TemplateError("unclosed action")
    out.append(rest)
    return "".join(out)
