"""The one table of diagnostic codes: id -> slug, default severity, title.

Codes are stable and never reused. Families: 0xx loading, 1xx schema, 2xx references,
3xx uniqueness and names, 4xx parallelism, memory and capacity, 5xx autoscaling and runtime
contract, 6xx policy, 7xx rendered manifests, 8xx change guard. Each code has a doc page
`FGnnn.md` beside this file (What / Why / Example / How to fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from fleetgen.diagnostics import Diagnostic, Location, Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Code:
    """One diagnostic code."""

    id: str
    slug: str
    severity: Severity
    title: str


_TABLE: tuple[tuple[str, str, Severity, str], ...] = (
    # 0xx: reading files
    ("FG001", "yaml-syntax", E, "The file is not well-formed YAML"),
    ("FG002", "duplicate-key", E, "A mapping repeats a key"),
    ("FG003", "not-a-mapping", E, "The file is empty or its document is not a mapping"),
    ("FG004", "multi-document", E, "The file holds more than one YAML document"),
    ("FG005", "alias-expansion", E, "Anchors, aliases or merge keys are abused"),
    ("FG006", "encoding", E, "The file is not valid UTF-8"),
    ("FG007", "file-too-large", E, "The file exceeds the size cap"),
    ("FG008", "path-escape", E, "A symlink or path leaves the repository"),
    ("FG009", "nesting-too-deep", E, "The document nests deeper than the cap"),
    ("FG010", "too-many-files", E, "The repository holds more files than the cap"),
    ("FG011", "unsupported-tag", E, "A YAML tag other than the core schema's is used"),
    ("FG012", "name-mismatch", E, "metadata.name does not match the file or directory name"),
    # 1xx: schema
    ("FG101", "unknown-key", E, "A key the schema does not define"),
    ("FG102", "wrong-type", E, "A value has the wrong type"),
    ("FG103", "unknown-enum", E, "A value is not one of the allowed choices"),
    ("FG104", "missing-key", E, "A required key is missing"),
    ("FG105", "invalid-name", E, "A name is not a DNS-1123 label"),
    ("FG106", "out-of-range", E, "A number or list length is outside its allowed range"),
    ("FG107", "invalid-format", E, "A string does not have the required format"),
    ("FG108", "unsupported-kind", E, "apiVersion or kind is not one fleetgen reads"),
)

CODES: dict[str, Code] = {cid: Code(cid, slug, sev, title) for cid, slug, sev, title in _TABLE}


def doc(code_id: str) -> str:
    """The doc page of a code (What / Why / Example / How to fix)."""
    return resources.files(__package__).joinpath(f"{code_id}.md").read_text(encoding="utf-8")


def diag(
    code_id: str,
    message: str,
    at: Location,
    *,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    """A diagnostic with the code's default severity unless a rule overrides it."""
    return Diagnostic(code_id, severity or CODES[code_id].severity, message, at, hint)
