"""Formats of `validate` output (docs/output-formats.md).

json and sarif are documented contracts (fields may be added, never removed); text is for
people; github and junit follow what GitHub Actions and CI test-report views read.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fleetgen.core.diagnostics import Report
from fleetgen.report.github import github
from fleetgen.report.junit import junit
from fleetgen.report.sarif import sarif


def text(report: Report) -> str:
    lines: list[str] = []
    for d in report.diagnostics:
        lines.append(f"{d.location}: {d.severity.value} {d.code} {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def json_report(report: Report) -> str:
    return json.dumps([d.as_dict() for d in report.diagnostics], indent=2) + "\n"


def summary(report: Report) -> str:
    """The closing lines for a terminal (stderr): what was checked, and the verdict."""
    lines = [f"fleetgen: {note}" for note in report.notes]
    errors, warnings = len(report.errors), len(report.warnings)
    if not errors and not warnings:
        lines.append("fleetgen: no problems found")
    else:
        lines.append(f"fleetgen: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": text,
    "json": json_report,
    "github": github,
    "sarif": sarif,
    "junit": junit,
}
