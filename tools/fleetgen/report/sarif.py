"""SARIF 2.1.0 output (a contract, see docs/output-formats.md) for code-scanning uploads.

One run; `tool.driver.rules` is the whole code table in table order, so a rule's index is
stable across reports; results follow the report's sorted order. The output is
deterministic: the same report always gives the same bytes.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fleetgen import __version__
from fleetgen.codes import CODES, Code, doc
from fleetgen.core.diagnostics import Diagnostic, Report, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"

Json = dict[str, object]


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def what_section(page: str) -> str:
    """The body of a doc page's `## What` section, or "" if it has none."""
    lines = page.splitlines()
    try:
        start = lines.index("## What") + 1
    except ValueError:
        return ""
    body: list[str] = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        body.append(line)
    return "\n".join(body).strip()


def _rule(code: Code) -> Json:
    page = doc(code.id)
    return {
        "id": code.id,
        "name": code.slug,
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": what_section(page) or code.title},
        "help": {"text": page, "markdown": page},
        "defaultConfiguration": {"level": _level(code.severity)},
    }


def rules() -> tuple[Json, ...]:
    """Every code of the table as a SARIF reportingDescriptor, in table order."""
    return tuple(_rule(code) for code in CODES.values())


def _message(d: Diagnostic) -> str:
    return d.message if not d.hint else f"{d.message}\nhint: {d.hint}"


def _result(d: Diagnostic, index: dict[str, int]) -> Json:
    result: Json = {"ruleId": d.code}
    if d.code in index:
        result["ruleIndex"] = index[d.code]
    result["level"] = _level(d.severity)
    result["message"] = {"text": _message(d)}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": quote(d.location.file), "uriBaseId": SRCROOT},
                "region": {"startLine": d.location.line, "startColumn": d.location.column},
            }
        }
    ]
    return result


def sarif_log(report: Report) -> Json:
    """The SARIF log of a report as a JSON-ready dict."""
    table = rules()
    index = {str(rule["id"]): i for i, rule in enumerate(table)}
    driver: Json = {"name": "fleetgen", "version": __version__, "rules": list(table)}
    run: Json = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index) for d in report.diagnostics],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"
