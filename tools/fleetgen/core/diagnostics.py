"""Diagnostics: what every check and loader returns, and the report they end up in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a diagnostic is; errors fail `validate`, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A 1-based position in a repository file (POSIX path relative to the root)."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, where it is, and how to fix it."""

    code: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code, self.message)

    def as_dict(self) -> dict[str, object]:
        """The JSON contract of one diagnostic (documented in docs/output-formats.md)."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """A finished, sorted and de-duplicated set of diagnostics."""

    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()  # informational lines (what was checked), not diagnostics

    @classmethod
    def of(cls, diagnostics: Iterable[Diagnostic], notes: Iterable[str] = ()) -> Report:
        unique = {d.sort_key(): d for d in diagnostics}
        return cls(tuple(unique[k] for k in sorted(unique)), tuple(notes))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors
