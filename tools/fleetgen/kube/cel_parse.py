"""A CEL parser producing the expression tree cel-go's cost estimator walks.

The ``cel`` package evaluates rules but shows no syntax tree, and the API server's cost limits
are defined on that tree: macros (``has``, ``all``, ``exists``, ``exists_one``, ``map``,
``filter``, ``cel.bind``) are expanded into comprehensions exactly as cel-go's parser expands
them (``parser/macro.go``), because their loop condition, step and result each carry a cost.
Only parsing: type checking and evaluation happen elsewhere. A rule this parser cannot read
raises ``CelSyntaxError`` (the caller then makes no cost claim about it).

Long module: a lexer, a recursive-descent parser and the macro expansions of one grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = [
    "ACCU",
    "Call",
    "CelSyntaxError",
    "Comprehension",
    "CreateList",
    "CreateMap",
    "Expr",
    "Ident",
    "Literal",
    "Select",
    "parse",
]

ACCU = "@result"  # cel-go's parser.AccumulatorName


class CelSyntaxError(ValueError):
    """The rule is not CEL this parser reads."""


@dataclass(frozen=True, slots=True, eq=False)
class Literal:
    value: Any  # bool, int, float, str, bytes, None; UInt for 1u
    kind: str  # "bool" | "int" | "uint" | "double" | "string" | "bytes" | "null"


@dataclass(frozen=True, slots=True, eq=False)
class Ident:
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Select:
    operand: Expr
    field: str
    test_only: bool = False  # has(a.b)


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    function: str  # operators as cel-go names them: _&&_, _==_, _[_], !_, -_, @in, ...
    args: tuple[Expr, ...]
    target: Expr | None = None  # the receiver of a member call (s.startsWith(x))


@dataclass(frozen=True, slots=True, eq=False)
class CreateList:
    elements: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class CreateMap:
    entries: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Comprehension:
    iter_var: str
    iter_range: Expr
    accu_var: str
    accu_init: Expr
    loop_condition: Expr
    loop_step: Expr
    result: Expr


Expr = Literal | Ident | Select | Call | CreateList | CreateMap | Comprehension

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>(?:[bB][rR]?|[rR][bB]?)?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"
                |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|\.\?|\[\?|[-+*/%!<>?:.,()\[\]{}])
    """,
    re.VERBOSE,
)
_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}  # fmt: skip
_RELATIONS = {"<": "_<_", "<=": "_<=_", ">": "_>_", ">=": "_>=_", "==": "_==_", "!=": "_!=_"}
_ADDITIVE = {"+": "_+_", "-": "_-_"}
_MULTIPLICATIVE = {"*": "_*_", "/": "_/_", "%": "_%_"}
_RESERVED = frozenset({"in", "as", "break", "const", "continue", "else", "for", "function", "if"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise CelSyntaxError(f"unexpected character {source[pos]!r} at {pos}")
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(), pos))
        pos = match.end()
    out.append(_Token("end", "", len(source)))
    return out


@cache
def parse(source: str) -> Expr:
    """The expression tree of ``source`` (macros expanded); cached per text."""
    return _Parser(_tokens(source)).expression_end()


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self, offset: int = 0) -> _Token:
        return self._tokens[min(self._pos + offset, len(self._tokens) - 1)]

    def _take(self, text: str | None = None) -> _Token:
        token = self._peek()
        if text is not None and token.text != text:
            raise CelSyntaxError(f"expected {text!r} at {token.at}, found {token.text!r}")
        self._pos += 1
        return token

    def _accept(self, text: str) -> bool:
        if self._peek().text == text and self._peek().kind in ("op", "ident"):
            self._pos += 1
            return True
        return False

    def expression_end(self) -> Expr:
        expr = self._expression()
        if self._peek().kind != "end":
            raise CelSyntaxError(f"unexpected {self._peek().text!r} at {self._peek().at}")
        return expr

    def _expression(self) -> Expr:
        condition = self._or()
        if self._accept("?"):
            truthy = self._or()
            self._take(":")
            falsy = self._expression()
            return Call("_?_:_", (condition, truthy, falsy))
        return condition

    def _or(self) -> Expr:
        expr = self._and()
        while self._accept("||"):
            expr = Call("_||_", (expr, self._and()))
        return expr

    def _and(self) -> Expr:
        expr = self._relation()
        while self._accept("&&"):
            expr = Call("_&&_", (expr, self._relation()))
        return expr

    def _relation(self) -> Expr:
        expr = self._binary(_ADDITIVE, self._multiplicative)
        while True:
            token = self._peek()
            if token.kind == "op" and token.text in _RELATIONS:
                self._pos += 1
                expr = Call(
                    _RELATIONS[token.text], (expr, self._binary(_ADDITIVE, self._multiplicative))
                )
            elif token.kind == "ident" and token.text == "in":
                self._pos += 1
                expr = Call("@in", (expr, self._binary(_ADDITIVE, self._multiplicative)))
            else:
                return expr

    def _multiplicative(self) -> Expr:
        return self._binary(_MULTIPLICATIVE, self._unary)

    def _binary(self, operators: dict[str, str], operand: Any) -> Expr:
        expr: Expr = operand()
        while self._peek().kind == "op" and self._peek().text in operators:
            name = operators[self._take().text]
            expr = Call(name, (expr, operand()))
        return expr

    def _unary(self) -> Expr:
        token = self._peek()
        if token.kind == "op" and token.text in ("!", "-"):
            count = 0
            while self._peek().kind == "op" and self._peek().text == token.text:
                self._pos += 1
                count += 1
            operand = self._member()
            negative = token.text == "-" and count == 1 and isinstance(operand, Literal)
            if negative and isinstance(operand, Literal) and operand.kind in ("int", "double"):
                return Literal(-operand.value, operand.kind)
            name = "!_" if token.text == "!" else "-_"
            for _ in range(count):
                operand = Call(name, (operand,))
            return operand
        return self._member()

    def _member(self) -> Expr:
        expr = self._primary()
        while True:
            if self._accept("."):
                name = self._name()
                if self._peek().text == "(":
                    self._take("(")
                    args = self._arguments(")")
                    expr = _member_macro(expr, name, args) or Call(name, args, expr)
                else:
                    expr = Select(expr, name)
            elif self._accept(".?"):
                name = self._name()
                expr = Call("_?._", (expr, Literal(name, "string")))
            elif self._accept("["):
                index = self._expression()
                self._take("]")
                expr = Call("_[_]", (expr, index))
            elif self._accept("[?"):
                index = self._expression()
                self._take("]")
                expr = Call("_[?_]", (expr, index))
            else:
                return expr

    def _name(self) -> str:
        token = self._take()
        if token.kind != "ident":
            raise CelSyntaxError(f"expected a field name at {token.at}, found {token.text!r}")
        return token.text

    def _arguments(self, close: str) -> tuple[Expr, ...]:
        args: list[Expr] = []
        while not self._accept(close):
            args.append(self._expression())
            if not self._accept(","):
                self._take(close)
                break
        return tuple(args)

    def _primary(self) -> Expr:
        token = self._take()
        if token.kind == "number":
            return _number(token.text)
        if token.kind == "string":
            return _string(token.text)
        if token.kind == "ident":
            if token.text in ("true", "false"):
                return Literal(token.text == "true", "bool")
            if token.text == "null":
                return Literal(None, "null")
            if token.text in _RESERVED:
                raise CelSyntaxError(f"reserved word {token.text!r} at {token.at}")
            if self._peek().text == "(":
                self._take("(")
                args = self._arguments(")")
                return _global_macro(token.text, args) or Call(token.text, args)
            return Ident(token.text)
        if token.text == ".":  # a leading dot: the root namespace
            return self._primary()
        if token.text == "(":
            expr = self._expression()
            self._take(")")
            return expr
        if token.text == "[":
            return CreateList(self._arguments("]"))
        if token.text == "{":
            entries: list[tuple[Expr, Expr]] = []
            while not self._accept("}"):
                key = self._expression()
                self._take(":")
                entries.append((key, self._expression()))
                if not self._accept(","):
                    self._take("}")
                    break
            return CreateMap(tuple(entries))
        raise CelSyntaxError(f"unexpected {token.text!r} at {token.at}")


def _number(text: str) -> Literal:
    unsigned = text[-1] in "uU"
    body = text[:-1] if unsigned else text
    if body[:2] in ("0x", "0X"):
        value = int(body, 16)
    elif any(c in body for c in ".eE"):
        if unsigned:
            raise CelSyntaxError(f"bad number {text!r}")
        return Literal(float(body), "double")
    else:
        value = int(body)
    return Literal(value, "uint" if unsigned else "int")


def _string(text: str) -> Literal:
    prefix = ""
    while text[0] in "bBrR":
        prefix += text[0].lower()
        text = text[1:]
    quote = 3 if text[:3] in ("'''", '"""') else 1
    body = text[quote:-quote]
    if "r" not in prefix:
        body = re.sub(
            r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)",
            lambda m: _unescape(m.group(1)),
            body,
            flags=re.DOTALL,
        )
    if "b" in prefix:
        return Literal(body.encode("utf-8", "surrogateescape"), "bytes")
    return Literal(body, "string")


def _unescape(code: str) -> str:
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    if code[0].isdigit() and len(code) == 3:
        return chr(int(code, 8))
    if code in _ESCAPES:
        return _ESCAPES[code]
    raise CelSyntaxError(f"bad escape \\{code}")


# -- macros, as cel-go's parser/macro.go expands them ----------------------------------------


def _not_strictly_false(expr: Expr) -> Expr:
    return Call("@not_strictly_false", (expr,))


def _global_macro(name: str, args: tuple[Expr, ...]) -> Expr | None:
    if name == "has" and len(args) == 1:
        operand = args[0]
        if not isinstance(operand, Select):
            raise CelSyntaxError("has() needs a field selection")
        return Select(operand.operand, operand.field, test_only=True)
    return None


def _iter_var(expr: Expr) -> str:
    if not isinstance(expr, Ident):
        raise CelSyntaxError("a macro's variable must be a simple name")
    return expr.name


def _member_macro(target: Expr, name: str, args: tuple[Expr, ...]) -> Expr | None:
    accu = Ident(ACCU)
    if name == "bind" and isinstance(target, Ident) and target.name == "cel" and len(args) == 3:
        # cel.bind(v, init, result): a comprehension over [] that never loops (ext/bindings.go)
        var = _iter_var(args[0])
        return Comprehension(
            "#unused", CreateList(()), var, args[1], Literal(False, "bool"), Ident(var), args[2]
        )
    if name in ("all", "exists", "exists_one", "filter") and len(args) == 2:
        var, predicate = _iter_var(args[0]), args[1]
        init: Expr
        condition: Expr
        if name == "all":
            init, condition = Literal(True, "bool"), _not_strictly_false(accu)
            step: Expr = Call("_&&_", (accu, predicate))
            result: Expr = accu
        elif name == "exists":
            init = Literal(False, "bool")
            condition = _not_strictly_false(Call("!_", (accu,)))
            step, result = Call("_||_", (accu, predicate)), accu
        elif name == "exists_one":
            init, condition = Literal(0, "int"), Literal(True, "bool")
            one = Call("_+_", (accu, Literal(1, "int")))
            step = Call("_?_:_", (predicate, one, accu))
            result = Call("_==_", (accu, Literal(1, "int")))
        else:  # filter
            init, condition = CreateList(()), Literal(True, "bool")
            grown = Call("_+_", (accu, CreateList((Ident(var),))))
            step, result = Call("_?_:_", (predicate, grown, accu)), accu
        return Comprehension(var, target, ACCU, init, condition, step, result)
    if name == "map" and len(args) in (2, 3):
        var = _iter_var(args[0])
        grown = Call("_+_", (accu, CreateList((args[-1],))))
        step = Call("_?_:_", (args[1], grown, accu)) if len(args) == 3 else grown
        return Comprehension(var, target, ACCU, CreateList(()), Literal(True, "bool"), step, accu)
    return None
