"""Where each value of a parsed document sits in its file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PathPart = str | int
JsonPath = tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """1-based line and column of a value, and of its key when it sits in a mapping."""

    line: int
    column: int
    key_line: int
    key_column: int


@dataclass(frozen=True, slots=True)
class Positions:
    """JSON path -> Mark, recorded once at load time.

    A path not in the index (a missing key, a defaulted value) falls back to its nearest
    recorded ancestor, so every diagnostic still points at a real line.
    """

    marks: dict[JsonPath, Mark] = field(default_factory=dict)

    def _nearest(self, path: Sequence[PathPart]) -> tuple[Mark, bool]:
        key = tuple(path)
        while key:
            mark = self.marks.get(key)
            if mark is not None:
                return mark, True
            key = key[:-1]
        return self.marks.get((), Mark(1, 1, 1, 1)), False

    def value(self, path: Sequence[PathPart]) -> tuple[int, int]:
        """Position of the value at `path` (or of the closest enclosing value)."""
        mark, _ = self._nearest(path)
        return mark.line, mark.column

    def key(self, path: Sequence[PathPart]) -> tuple[int, int]:
        """Position of the key that holds `path` (or of the closest enclosing key)."""
        mark, _ = self._nearest(path)
        return mark.key_line, mark.key_column


def dotted(path: Sequence[PathPart]) -> str:
    """A readable breadcrumb: spec.resources.gpuPool, spec.gateway.tenants[1].name."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"
