"""Where each vLLM metric sits in a PromQL expression: its matchers and enclosing calls.

Not a PromQL parser: a scan that tracks the function or aggregation each parenthesis
opens, which is all the metric-semantics checks need (is a counter inside ``rate()``, what
is the outermost aggregation of a scaler query, which label values a selector names).
Syntax itself is promtool's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"|(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"|(?P<open>\()|(?P<close>\))|(?P<brace>\{[^}]*\})|(?P<other>.)",
    re.S,
)
_MATCHER = re.compile(r"""([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)\"""")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
)


@dataclass(frozen=True, slots=True)
class MetricUse:
    name: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)
    calls: tuple[str, ...]  # enclosing functions/aggregations, innermost first


def metric_uses(expr: str, prefix: str = "vllm:") -> list[MetricUse]:
    uses: list[MetricUse] = []
    stack: list[str] = []
    pending: str | None = None  # an identifier that may name the next call
    previous: str | None = None  # the identifier before ``by``/``without``
    tokens = list(_TOKEN.finditer(expr))
    for index, token in enumerate(tokens):
        kind, text = token.lastgroup, token.group()
        if kind == "ident":
            if text in ("by", "without"):
                previous, pending = pending, text
                continue
            pending = text
            if text.startswith(prefix):
                nxt = tokens[index + 1] if index + 1 < len(tokens) else None
                braces = nxt.group() if nxt is not None and nxt.lastgroup == "brace" else ""
                matchers = tuple(_MATCHER.findall(braces))
                calls = tuple(reversed([s for s in stack if s and not s.startswith("#")]))
                uses.append(MetricUse(text, matchers, calls))
                pending = None
        elif kind == "open":
            if pending in ("by", "without"):
                # ``sum by (le) (x)``: the label list is no call; the next ( is sum's.
                stack.append(f"#{previous or ''}")
            elif pending and pending not in _KEYWORDS and not pending.startswith(prefix):
                stack.append(pending)
            else:
                stack.append("")
            pending = None
        elif kind == "close":
            top = stack.pop() if stack else ""
            pending = top[1:] or None if top.startswith("#") else None
        elif kind != "brace" and text.strip():
            pending = None
    return uses


def outermost_call(expr: str) -> str | None:
    """The function or aggregation that wraps the whole expression, if one does."""
    stripped = expr.strip()
    match = re.match(r"^([a-zA-Z_]+)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(", stripped)
    if match is None or not stripped.endswith(")"):
        return None
    depth = 0
    start = stripped.index("(", match.end() - 1)
    for position in range(start, len(stripped)):
        depth += {"(": 1, ")": -1}.get(stripped[position], 0)
        if depth == 0:
            return match.group(1) if position == len(stripped) - 1 else None
    return None
