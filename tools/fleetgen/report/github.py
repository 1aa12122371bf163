"""GitHub Actions workflow commands: one `::error`/`::warning` annotation per diagnostic.

Escaping follows the Actions runner (`@actions/core` `escapeData` / `escapeProperty`): in the
message `%`, CR and LF are percent-encoded; in properties `:` and `,` are encoded as well, since
they separate the properties. `%` is encoded first so an encoded sequence is never re-encoded.
"""

from __future__ import annotations

from fleetgen.codes import CODES
from fleetgen.core.diagnostics import Diagnostic, Report, Severity

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def escape_data(value: str) -> str:
    """Escape the message part of a workflow command (after the `::`)."""
    for raw, encoded in _DATA_ESCAPES:
        value = value.replace(raw, encoded)
    return value


def escape_property(value: str) -> str:
    """Escape a property value of a workflow command (`file=`, `title=`, ...)."""
    for raw, encoded in _PROPERTY_ESCAPES:
        value = value.replace(raw, encoded)
    return value


def title(code: str) -> str:
    """`FG101 unknown-key`: the code and its slug (the code alone if it is not in the table)."""
    known = CODES.get(code)
    return f"{code} {known.slug}" if known else code


def annotation(d: Diagnostic) -> str:
    """One workflow command line (without the newline) for a diagnostic."""
    command = "error" if d.severity is Severity.ERROR else "warning"
    loc = d.location
    properties = ",".join(
        f"{key}={escape_property(value)}"
        for key, value in (
            ("file", loc.file),
            ("line", str(loc.line)),
            ("col", str(loc.column)),
            ("title", title(d.code)),
        )
    )
    message = d.message if not d.hint else f"{d.message}\nhint: {d.hint}"
    return f"::{command} {properties}::{escape_data(message)}"


def github(report: Report) -> str:
    """Every diagnostic as an annotation; empty output for an empty report."""
    return "".join(annotation(d) + "\n" for d in report.diagnostics)
