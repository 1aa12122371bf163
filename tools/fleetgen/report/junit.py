"""JUnit XML output for CI test-report views (Jenkins, GitLab, Azure Pipelines, ...).

One testcase per diagnostic: an error is a `<failure>`, a warning a `<skipped>` (warnings do
not fail `validate`, yet a skipped test is listed with its message and counted, where a
passing test's output is usually hidden). JUnit's `errors` count means "the test could not
run"; fleetgen has no such case in a report (a crash is exit code 2 with no report), so it is
always 0. When the report has no errors, one passing testcase `fleetgen validate` is added,
so a clean run shows as "1 passed" rather than as no tests at all.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fleetgen.core.diagnostics import Diagnostic, Report, Severity

SUITE_NAME = "fleetgen"
PASSING_CLASSNAME = "fleetgen"
PASSING_NAME = "validate"

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(value: str) -> str:
    """`value` with characters XML 1.0 forbids replaced by U+FFFD (ElementTree keeps them)."""
    return _NOT_XML.sub("\ufffd", value)


def _details(d: Diagnostic) -> str:
    line = f"{d.location}: {d.severity.value} {d.code} {d.message}"
    return xml_safe(line if not d.hint else f"{line}\nhint: {d.hint}")


def _testcase(parent: ET.Element, d: Diagnostic) -> None:
    loc = d.location
    case = ET.SubElement(
        parent,
        "testcase",
        classname=xml_safe(loc.file),
        name=xml_safe(f"{d.code} {loc.line}:{loc.column}"),
    )
    if d.severity is Severity.ERROR:
        failure = ET.SubElement(case, "failure", type=xml_safe(d.code), message=xml_safe(d.message))
        failure.text = _details(d)
    else:
        skipped = ET.SubElement(case, "skipped", message=xml_safe(f"warning {d.code}: {d.message}"))
        skipped.text = _details(d)


def junit_tree(report: Report) -> ET.Element:
    """The `<testsuites>` element of a report."""
    failures, skipped = len(report.errors), len(report.warnings)
    tests = len(report.diagnostics) + (0 if failures else 1)
    counts = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
    }
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE_NAME, **counts})
    for d in report.diagnostics:
        _testcase(suite, d)
    if not failures:
        ET.SubElement(suite, "testcase", classname=PASSING_CLASSNAME, name=PASSING_NAME)
    return root


def junit(report: Report) -> str:
    """The report as a JUnit XML document (UTF-8, with an XML declaration)."""
    root = junit_tree(report)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
