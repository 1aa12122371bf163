"""Incremental rendered validation: a run that reuses recorded cluster findings reports exactly
what a full run reports, whatever was edited in between, and a damaged cache changes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetgen import app
from fleetgen.core.diagnostics import Report
from fleetgen.rendered.result_cache import RESULTS_ENV
from tests.conftest import REPO, copy_example

SCHEMAS = REPO / "schemas"
ISVC = "base/model/inferenceservice.yaml"
MIXTRAL = "fleet/mixtral-8x7b-instruct.yaml"
PROD = "environments/prod/environment.yaml"
TO_DEV = "    dev:\n      gpuPool: h100\n      replicas: {min: 1, max: 1}\n"
QWEN = "fleet/qwen2-5-0-5b-instruct.yaml"
QWEN_TO_ISVC = (
    QWEN,
    "      serving: {api: LLMInferenceService}",
    "      serving: {api: InferenceService}",
)
BACKEND_PORT = ("base/model/backend.yaml", "      port: 80", "      port: 8080")

# Edits a person makes, as (file, old, new); some break a reference, some are legitimate.
EDITS: tuple[tuple[str, str, str], ...] = (
    (MIXTRAL, "    targetPerPod: 6", "    targetPerPod: 7"),
    (MIXTRAL, "      clusters: [prod-a, prod-b]", "      clusters: [prod-a]"),
    (MIXTRAL, "    servedName: mixtral-8x7b-instruct", "    servedName: mixtral-8x7b"),
    (MIXTRAL, "  environments:\n    staging:", "  environments:\n" + TO_DEV + "    staging:"),
    (ISVC, "      args:\n", "      argz: [--oops]\n      args:\n"),
    BACKEND_PORT,
    (PROD, "      teamBudgets:\n        search: 40", "      teamBudgets:\n        search: 48"),
)


def _run(root: Path, results: str, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.setenv(RESULTS_ENV, results)
    options = app.ValidateOptions(root=root, rendered=True, schema_dirs=(SCHEMAS,))
    return app.validate(options)


def _findings(report: Report) -> list[dict[str, object]]:
    return [d.as_dict() for d in report.diagnostics]


def _apply(root: Path, edit: tuple[str, str, str]) -> None:
    rel, old, new = edit
    path = root / rel
    text = path.read_text()
    if old in text:
        path.write_text(text.replace(old, new, 1))
    else:  # the edit is in: the same step undoes it
        assert new in text, f"{rel} no longer holds {old!r}: the edit table is stale"
        path.write_text(text.replace(new, old, 1))


@pytest.fixture
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_example(tmp_path_factory.mktemp("incremental") / "repo")
    yield root
    shutil.rmtree(root.parent, ignore_errors=True)


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.sampled_from(range(len(EDITS))), min_size=2, max_size=3))
def test_incremental_runs_report_what_full_runs_report(
    steps: list[int],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = copy_example(tmp_path_factory.mktemp("edits") / "repo")
    results = str(tmp_path_factory.mktemp("results"))
    _run(root, results, monkeypatch)  # the recorded run a later one starts from
    for step in steps:
        _apply(root, EDITS[step])
        incremental = _run(root, results, monkeypatch)
        full = _run(root, "", monkeypatch)
        assert _findings(incremental) == _findings(full), EDITS[step]


def test_one_descriptor_edit_rechecks_only_its_clusters(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = str(tmp_path / "results")
    _apply(repo, BACKEND_PORT)  # every Backend misses its Service, in every cluster
    first = _run(repo, results, monkeypatch)
    assert not any("unchanged since a recorded run" in n for n in first.notes)
    assert not any("llm-dev/qwen" in d.message for d in first.diagnostics)
    _apply(repo, QWEN_TO_ISVC)  # qwen (dev-a, staging-a) gets a Backend in dev: prod is untouched
    second = _run(repo, results, monkeypatch)
    assert "2 of 4 clusters unchanged since a recorded run: their findings reused" in second.notes
    assert any(
        d.code == "FG704" and "llm-dev/qwen2-5-0-5b-instruct" in d.message
        for d in second.diagnostics
    )
    assert _findings(second) == _findings(_run(repo, "", monkeypatch))


def test_a_base_edit_rechecks_every_cluster(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = str(tmp_path / "results")
    _run(repo, results, monkeypatch)
    _apply(repo, EDITS[4])
    report = _run(repo, results, monkeypatch)
    assert not any("unchanged since a recorded run" in n for n in report.notes)
    assert any(d.code == "FG701" and d.location.file == ISVC for d in report.diagnostics)


@pytest.mark.parametrize("damage", ["truncated", "forged", "other-key"])
def test_a_damaged_cache_never_changes_the_verdict(
    damage: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results"
    _apply(repo, BACKEND_PORT)
    honest = _run(repo, str(results), monkeypatch)
    assert not honest.ok
    entries = sorted(results.glob("*.json"))
    assert len(entries) == 4
    for entry in entries:
        data = json.loads(entry.read_text())
        if damage == "truncated":
            entry.write_text(entry.read_text()[: len(entry.read_text()) // 2])
        elif damage == "forged":  # a clean verdict without the checksum of a real entry
            data["body"]["diagnostics"] = []
            entry.write_text(json.dumps(data))
        else:  # an entry filed under another cluster's name
            data["key"] = "0" * 64
            entry.write_text(json.dumps(data))
    again = _run(repo, str(results), monkeypatch)
    assert not any("unchanged since a recorded run" in n for n in again.notes)
    assert _findings(again) == _findings(honest)
