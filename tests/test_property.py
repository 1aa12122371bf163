"""Property tests (issue 9): the loader, validate and the generator never crash.

Every property is derandomized (same examples on every run) with a bounded example count.
A longer run, e.g. before a release:

    FLEETGEN_HYPOTHESIS_EXAMPLES=5000 .venv/bin/pytest -q tests/test_property.py \
        --hypothesis-show-statistics

(see tests/strategies.py for how the count is split between the properties).

Bugs these properties found (fixed in cfe88c0), each kept as a regression test below; the
properties themselves tolerate no exception at all:

* yaml_source._Builder.scalar called PyYAML's SafeConstructor on core-tagged scalars without
  catching its errors (`a: 0b_`, `a: !!int x`, `a: !!bool x`, `a: !!int`)
  -> test_core_tag_scalars_are_diagnostics_not_crashes.
* schema range checks let NaN through and unbounded numbers overflowed the memory sizing
  (`gpuMemoryUtilization: .nan`, `params: 1e308`)
  -> test_non_finite_and_huge_numbers_are_diagnostics_not_crashes.
* the schema allowed token budgets above Envoy Gateway's uint32 (found by the rendered
  property) -> test_token_budget_above_uint32_is_rejected.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from fleetgen import app
from fleetgen.checks import run_checks
from fleetgen.codes import CODES
from fleetgen.core.diagnostics import Diagnostic, Report, Severity
from fleetgen.domain import layout
from fleetgen.domain.model import Source, descriptor_from
from fleetgen.loading import schema
from fleetgen.loading.fleet import Fleet
from fleetgen.loading.load import load_fleet
from fleetgen.loading.yaml_source import ParsedFile, parse
from fleetgen.render.fileplan import build_plan
from tests.conftest import REPO, RunCli, copy_example, crds_dir
from tests.strategies import (
    any_bytes,
    any_file_content,
    descriptor_docs,
    dump_descriptor,
    examples,
    mutated_descriptors,
    plain_data,
    retyped_plain_scalars,
    sha256,
    yaml_texts,
)

# The loader's own codes, and the value codes it may use for a scalar it cannot read.
LOADER_CODES = {f"FG{n:03d}" for n in range(1, 13)} | {"FG106", "FG107"}
DNS_LABEL = re.compile(r"\A[a-z]([-a-z0-9]*[a-z0-9])?\Z")
# Every template expression a generated file may hold: the ApplicationSet's own parameters,
# Prometheus alert templating and Grafana legends. Nothing a descriptor writes.
KNOWN_TEMPLATES = {
    "{{ .app }}",
    "{{ .model }}",
    "{{ .team }}",
    "{{ .path.path }}",
    "{{ .values.cluster }}",  # a rollout set's generator values, fixed from the environment
    "{{ .values.server }}",
    "{{ $labels.Hostname }}",
    "{{ $labels.gpu }}",
    "{{ $labels.model_name }}",
    "{{ $labels.namespace }}",
    "{{ $value }}",
    "{{ $value | humanizeDuration }}",
    "{{ $value | humanizePercentage }}",
    "{{model_name}}",
    "{{tenant}}",
}
CLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")

_BASE = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


def fast(max_examples: int, **overrides: Any) -> settings:
    """Derandomized, no deadline, no example database: CI runs are reproducible."""
    return settings(_BASE, max_examples=max_examples, **overrides)


def note(label: str) -> None:
    """hypothesis.event() when inside a property (shown by --hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(label)


# --- 1. the loader --------------------------------------------------------------------------


def _all_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _all_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _all_paths(item, (*path, index))


def _line_count(content: bytes) -> int:
    return len(_BREAKS.split(content.decode("utf-8", errors="replace")))


def check_parse(content: bytes) -> ParsedFile | Diagnostic:
    """parse() returns a ParsedFile or a located loader Diagnostic; never raises."""
    path = "fleet/x.yaml"
    result = parse(content, path)
    # Without positions (the pre-commit path's other files): the same verdict, the same
    # values, no position index.
    lean = parse(content, path, positions=False)
    if isinstance(result, Diagnostic):
        assert lean == result
    else:
        assert isinstance(lean, ParsedFile)
        assert repr(lean.data) == repr(result.data) and not lean.positions.marks  # types too
    lines = _line_count(content)
    if isinstance(result, Diagnostic):
        note(f"diagnostic {result.code}")
        assert result.code in LOADER_CODES, result
        assert result.severity is Severity.ERROR
        assert result.location.file == path
        assert result.location.line >= 1 and result.location.column >= 1, result
        assert result.location.line <= lines + 1, (result, lines)
        return result
    note("parsed")
    assert isinstance(result, ParsedFile)
    assert isinstance(result.data, dict)
    assert plain_data(result.data), result.data
    # Every value has a recorded position, and every position lies inside the file (an empty
    # value after an explicit `? key` at the very end sits on the line after: libyaml's mark).
    assert set(result.positions.marks) == set(_all_paths(result.data))
    for mark in result.positions.marks.values():
        assert 1 <= mark.line <= lines + 1 and mark.column >= 1, mark
        assert 1 <= mark.key_line <= lines and mark.key_column >= 1, mark
    return result


@fast(examples(400))
@given(content=any_bytes())
def test_parse_arbitrary_bytes(content: bytes) -> None:
    check_parse(content)


@fast(examples(500))
@given(text=st.one_of(yaml_texts(), mutated_descriptors()))
def test_parse_yamlish_text(text: str) -> None:
    check_parse(text.encode("utf-8", errors="surrogatepass"))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xef\xbb\xbf",
        b"a: 1\n---\nb: 2\n",
        b"--- !foo\na: 1\n",
        b"&a a: *a\n",
        b"a: &a [*a]\n",
        b"a: " + b"[" * 5000,
        b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 60)),
        b"a: !!python/object/apply:os.system ['true']\n",
        b"? [a, b]\n: 1\n",
        b"a: \x00\n",
        b"a:\r b\r\x85c: \xe2\x80\xa8d\n",
        b"\xff\xfe" + "a: 1".encode("utf-16-le"),
    ],
    ids=lambda c: repr(c[:16]),
)
def test_parse_edge_cases(content: bytes) -> None:
    """Hand-picked inputs the strategies might reach only rarely."""
    assert check_parse(content) is not None


# --- 2. validate on arbitrary files in a real repository ------------------------------------


def check_report(report: Report, root: Path) -> None:
    assert isinstance(report, Report)
    for d in report.diagnostics:
        assert d.code in CODES, d
        assert d.location.line >= 1 and d.location.column >= 1, d
        assert (root / d.location.file).exists(), d


def test_validate_never_raises_on_arbitrary_files(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    target = root / "fleet" / "x.yaml"
    seen: Counter[str] = Counter()

    @fast(examples(150, divisor=4))
    @given(content=any_file_content())
    def prop(content: bytes) -> None:
        target.write_bytes(content)
        report = app.validate(app.ValidateOptions(root))
        check_report(report, root)
        codes = {d.code for d in report.diagnostics if d.location.file == "fleet/x.yaml"}
        seen["clean" if not codes else "diagnosed"] += 1

    prop()
    print(f"validate on arbitrary files: {dict(seen)}")
    # The examples reached both outcomes, so the property saw the checks, not just the loader.
    assert seen["diagnosed"] > 0, seen


def test_cli_validate_exits_0_or_1_on_arbitrary_files(tmp_path: Path, run_cli: RunCli) -> None:
    root = copy_example(tmp_path / "repo")
    target = root / "fleet" / "x.yaml"

    @fast(examples(6, divisor=200))
    @given(content=any_file_content())
    def prop(content: bytes) -> None:
        target.write_bytes(content)
        result = run_cli(["validate", "--format", "json"], cwd=root)
        output = result.stdout + result.stderr
        assert result.returncode in (0, 1), output
        assert "Traceback" not in output and "internal error" not in output, output
        for item in json.loads(result.stdout):
            assert item["code"] in CODES and item["line"] >= 1 and item["column"] >= 1, item

    prop()


# --- 3. schema-valid descriptors through the checks and the generator -----------------------


def _source_fleet() -> Fleet:
    fleet, _ = load_fleet(REPO)
    return fleet


def _load_doc(text: str, rel: str) -> tuple[Any, list[Diagnostic]]:
    parsed = parse(text.encode("utf-8"), rel)
    assert isinstance(parsed, ParsedFile), parsed
    problems = schema.validate(parsed, "descriptor")
    if problems:
        return None, problems
    data = schema.apply_defaults("descriptor", parsed.data)
    return descriptor_from(data, Source(rel, parsed.positions, parsed.data)), []


def _patch_values(kustomization: dict[str, Any]) -> dict[tuple[str, str], list[Any]]:
    """(kind, op path) -> values written, over every inline JSON6902 patch."""
    out: dict[tuple[str, str], list[Any]] = {}
    for entry in kustomization.get("patches", []):
        for op in yaml.load(entry["patch"], Loader=CLoader):
            if "value" in op:
                out.setdefault((entry["target"]["kind"], op["path"]), []).append(op["value"])
    return out


def check_plan(files: dict[str, bytes], doc: dict[str, Any], base: dict[str, bytes]) -> None:
    name, team = doc["metadata"]["name"], doc["metadata"]["team"]
    model = doc["spec"]["model"]
    manifest = json.loads(files[layout.MANIFEST])
    for path, data in files.items():
        if base.get(path) == data:
            continue  # unchanged by the descriptor: test_committed_tree_is_inert covers it
        parts = path.split("/")
        assert parts[0] == layout.GENERATED_ROOT and ".." not in parts and "" not in parts, path
        text = data.decode("utf-8")
        for expr in re.findall(r"\{\{.*?\}\}", text):
            assert expr in KNOWN_TEMPLATES, (path, expr)
        if path != layout.MANIFEST:
            rel = path.removeprefix(layout.GENERATED_ROOT + "/")
            assert manifest["files"][rel] == sha256(data), path
        if path.endswith(".yaml"):
            assert retyped_plain_scalars(text) == [], path
    # ApplicationSets and AppProjects never depend on descriptors.
    for path, data in base.items():
        argo = path.count("/") == 1 or path.startswith(f"{layout.GENERATED_ROOT}/projects/")
        if argo and path.endswith(".yaml") and not path.endswith("/kustomization.yaml"):
            assert files.get(path) == data, path
    apps = [p for p in files if p.endswith(f"/models/{name}/{layout.APP_FILE}")]
    for path in apps:
        record = json.loads(files[path])
        env, cluster = path.split("/")[1:3]
        assert record == {"app": f"{env}-{cluster}-{name}", "model": name, "team": team}
        assert all(DNS_LABEL.match(v) for v in record.values()), record
        kustomization = yaml.load(
            files[path.replace(layout.APP_FILE, "kustomization.yaml")], Loader=CLoader
        )
        values = _patch_values(kustomization)
        isvc = "InferenceService"
        assert values[(isvc, "/spec/predictor/model/args/0")] == [
            f"--served-model-name={model['servedName']}"
        ]
        assert values[(isvc, "/spec/predictor/model/storageUri")] == [model["storageUri"]]
        headers = values[("AIGatewayRoute", "/spec/rules/0/matches/0/headers/0/value")]
        assert headers == [model["servedName"]]
        if "revision" in model:
            revision = values[(isvc, "/metadata/annotations/fleetgen.dev~1model-revision")]
            assert revision == [model["revision"]]


def test_schema_valid_descriptors_check_and_generate(tmp_path: Path) -> None:
    fleet = _source_fleet()
    base = dict(build_plan(dataclasses.replace(fleet, descriptors=())).with_manifest())
    outcome: Counter[str] = Counter()

    @fast(examples(150, divisor=4))
    @given(doc=descriptor_docs())
    def prop(doc: dict[str, Any]) -> None:
        rel = f"fleet/{doc['metadata']['name']}.yaml"
        text = dump_descriptor(doc)
        desc, problems = _load_doc(text, rel)
        # The strategy only builds schema-valid documents; the loader must agree.
        assert problems == [], (problems, text)
        everyone = dataclasses.replace(fleet, descriptors=(*fleet.descriptors, desc))
        diags = run_checks(everyone)
        errors = sorted({d.code for d in diags if d.severity is Severity.ERROR})
        for d in diags:
            assert d.location.line >= 1 and d.location.column >= 1, d
        if errors:
            outcome["rejected"] += 1
            for code in errors:
                outcome[code] += 1
            event(f"rejected: {','.join(errors)}")
            return
        outcome["accepted"] += 1
        event("accepted")
        files = dict(build_plan(dataclasses.replace(fleet, descriptors=(desc,))).with_manifest())
        check_plan(files, doc, base)

    prop()
    print(f"schema-valid descriptors: {dict(outcome)}")
    total = outcome["accepted"] + outcome["rejected"]
    # Honest coverage: a real share of the examples went all the way through the generator.
    assert outcome["accepted"] >= total // 4, outcome


def test_committed_tree_is_inert() -> None:
    """The example's generated files: known templates only, YAML 1.2-safe, manifest exact."""
    fleet = _source_fleet()
    files = dict(build_plan(fleet).with_manifest())
    base = dict(build_plan(dataclasses.replace(fleet, descriptors=())).with_manifest())
    manifest = json.loads(files[layout.MANIFEST])
    assert set(manifest["files"]) == {
        p.removeprefix(layout.GENERATED_ROOT + "/") for p in files if p != layout.MANIFEST
    }
    for path, data in files.items():
        text = data.decode("utf-8")
        assert set(re.findall(r"\{\{.*?\}\}", text)) <= KNOWN_TEMPLATES, path
        if path.endswith(".yaml"):
            assert retyped_plain_scalars(text) == [], path
        if path != layout.MANIFEST:
            assert manifest["files"][path.removeprefix(layout.GENERATED_ROOT + "/")] == sha256(data)
    for path, data in base.items():
        argo = path.count("/") == 1 or path.startswith(f"{layout.GENERATED_ROOT}/projects/")
        if argo and path.endswith(".yaml") and not path.endswith("/kustomization.yaml"):
            assert files[path] == data, f"{path} depends on the descriptors"


# --- 4. accepted descriptors render and pass strict CRD validation --------------------------


@pytest.mark.slow
def test_accepted_descriptors_render_and_validate_strictly(tmp_path: Path) -> None:
    crds = crds_dir()
    root = copy_example(tmp_path / "repo")
    shutil.rmtree(root / "fleet")
    (root / "fleet").mkdir()
    # prod's rollout names the example's models (its canary); a lone drawn descriptor could
    # never satisfy it, and the rollout is not what this property is about.
    prod = root / "environments" / "prod" / "environment.yaml"
    text, dropped = re.subn(r"(?m)^  rollout:\n(?:    .*\n)+", "", prod.read_text())
    assert dropped == 1
    prod.write_text(text)
    fleet = dataclasses.replace(load_fleet(root)[0], descriptors=())
    rendered: list[str] = []

    # No shrinking: each example is a real kustomize run, and shrinking one takes minutes;
    # the failing example is reported as drawn.
    @fast(
        examples(6, divisor=100),
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )
    @given(doc=descriptor_docs())
    def prop(doc: dict[str, Any]) -> None:
        rel = f"fleet/{doc['metadata']['name']}.yaml"
        text = dump_descriptor(doc)
        desc, problems = _load_doc(text, rel)
        assert problems == []
        solo = dataclasses.replace(fleet, descriptors=(desc,))
        errors = [d for d in run_checks(solo) if d.severity is Severity.ERROR]
        assume(not errors and any(desc.active_in(e) for e in desc.environments))
        for old in (root / "fleet").iterdir():
            old.unlink()
        (root / rel).write_text(text, encoding="utf-8")
        report = app.validate(
            app.ValidateOptions(
                root,
                rendered=True,
                schema_dirs=(crds,),
                renderer="kustomize",  # every app through the real kustomize
            )
        )
        assert report.errors == (), (text, [str(d) for d in report.errors])
        assert any(n.startswith("rendered ") for n in report.notes), report.notes
        rendered.append(rel)

    prop()
    print(f"rendered and strictly validated: {len(rendered)} descriptors")
    assert rendered, "no accepted descriptor was rendered"


# --- regression tests for what the properties found ---------------------------------------


def _validate_one(root: Path, text: str, rel: str = "fleet/tiny.yaml") -> Report:
    (root / rel).write_text(text, encoding="utf-8")
    return app.validate(app.ValidateOptions(root))


@pytest.mark.parametrize(
    "scalar",
    [
        "0b_",
        "0x_",
        "+0b_",
        "!!int x",
        "!!float x",
        "!!bool x",
        "!!int",
    ],
)
def test_core_tag_scalars_are_diagnostics_not_crashes(scalar: str) -> None:
    result = parse(f"a: {scalar}\n".encode(), "fleet/x.yaml")
    assert isinstance(result, Diagnostic)
    assert result.code in LOADER_CODES
    assert (result.location.line, result.location.column) == (1, 4)


def test_cli_reports_a_bad_core_scalar_with_exit_1(example_repo: Path, run_cli: RunCli) -> None:
    (example_repo / "fleet" / "x.yaml").write_text("apiVersion: 0b_\n")
    result = run_cli(["validate"], cwd=example_repo)
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "fleet/x.yaml:1:" in result.stdout


NUMBER_CASES = [
    (("spec", "runtime", "gpuMemoryUtilization"), ".nan", {}),
    (("spec", "autoscaling", "targetPerPod"), ".nan", {}),
    (("spec", "observability", "alerts", "ttftP95Seconds"), ".inf", {}),
    (("spec", "observability", "tracing", "sampling"), ".nan", {}),
    (
        ("spec", "model", "architecture", "params"),
        ".nan",
        {"layers": 24, "attentionHeads": 14, "kvHeads": 2, "headDim": 64},
    ),
    (
        ("spec", "model", "architecture", "params"),
        "1.0e+308",
        {"layers": 24, "attentionHeads": 14, "kvHeads": 2, "headDim": 64},
    ),
]


@pytest.mark.parametrize(
    ("path", "raw", "arch"), NUMBER_CASES, ids=[f"{c[0][-1]}={c[1]}" for c in NUMBER_CASES]
)
def test_non_finite_and_huge_numbers_are_diagnostics_not_crashes(
    example_repo: Path, path: tuple[str, ...], raw: str, arch: dict[str, int]
) -> None:
    from tests.strategies import edited, mark_of, render_doc, tiny_doc

    doc = tiny_doc()
    if arch:
        del doc["spec"]["model"]["catalog"]
        doc["spec"]["model"]["architecture"] = arch
    doc = edited(doc, {path: "RAW_NUMBER"})
    text = render_doc(doc, {"RAW_NUMBER": raw})
    report = _validate_one(example_repo, text)
    line, _ = mark_of(text, path)
    located = [d for d in report.errors if d.location.file == "fleet/tiny.yaml"]
    assert [d.location.line for d in located] == [line], [str(d) for d in report.errors]


def test_token_budget_above_uint32_is_rejected(example_repo: Path) -> None:
    from tests.strategies import edited, mark_of, render_doc, tiny_doc

    doc = edited(
        tiny_doc(), {("spec", "gateway"): {"tenants": [{"name": "search", "tokens": 2**32}]}}
    )
    text = render_doc(doc)
    report = _validate_one(example_repo, text)
    line, column = mark_of(text, ("spec", "gateway", "tenants", 0, "tokens"))
    got = {(d.code, d.location.line, d.location.column) for d in report.errors}
    assert ("FG106", line, column) in got, got
