"""What Argo CD applies: a committed overlay that differs from the generator's is validated as
committed, with the real kustomize, and its findings point into the committed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgen import app
from fleetgen.core.diagnostics import Location, Report
from fleetgen.rendered.committed import committed_patches, first_difference
from fleetgen.rendered.result_cache import RESULTS_ENV
from tests.conftest import REPO, copy_example

SCHEMAS = REPO / "schemas"
DEV_LLAMA = "applicationsets/dev/dev-a/models/llama-3-1-8b-instruct/kustomization.yaml"
SCALE_TARGET = '"path": "/spec/scaleTargetRef/name", "value": "llama-3-1-8b-instruct-predictor"'


def _rendered(root: Path) -> Report:
    return app.validate(app.ValidateOptions(root=root, rendered=True, schema_dirs=(SCHEMAS,)))


def _hand_edit(root: Path) -> int:
    path = root / DEV_LLAMA
    text = path.read_text()
    assert SCALE_TARGET in text
    path.write_text(text.replace(SCALE_TARGET, SCALE_TARGET.replace("-predictor", "-pred")))
    return next(n for n, line in enumerate(text.splitlines(), 1) if SCALE_TARGET in line)


def test_the_example_takes_the_fast_path(tmp_path: Path) -> None:
    report = _rendered(copy_example(tmp_path / "repo"))
    assert not report.diagnostics
    assert not [n for n in report.notes if "differ from what fleetgen generates" in n]


def test_a_hand_edited_overlay_is_validated_as_committed(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    line = _hand_edit(root)
    report = _rendered(root)
    assert [(d.code, d.location) for d in report.diagnostics] == [
        ("FG706", Location(DEV_LLAMA, line))
    ]
    assert any("applicationsets/dev/dev-a/models/llama-3-1-8b-instruct" in n for n in report.notes)


def test_recorded_findings_never_hide_a_hand_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_example(tmp_path / "repo")
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "results"))
    assert not _rendered(root).diagnostics  # records every cluster clean
    _hand_edit(root)
    assert [d.code for d in _rendered(root).diagnostics] == ["FG706"]


def test_a_committed_file_that_is_not_a_mapping_is_a_diagnostic(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    (root / DEV_LLAMA).write_text("- just\n- a list\n")
    report = _rendered(root)
    assert [(d.code, d.location.file) for d in report.diagnostics] == [("FG700", DEV_LLAMA)]


def test_committed_patches_locate_each_operation_at_its_line() -> None:
    data = (REPO / DEV_LLAMA).read_bytes()
    lines = data.decode().splitlines()
    app_dir = DEV_LLAMA.rsplit("/", 1)[0]
    patches = {(p.kind, p.name): p for p in committed_patches(app_dir, data)}
    scaler = patches[("ScaledObject", "model")]
    where = scaler.origins["/spec/scaleTargetRef/name"]
    assert SCALE_TARGET in lines[where.line - 1]
    # The model patch and the tracing component's patch of one InferenceService are merged.
    isvc = patches[("InferenceService", "model")]
    assert "/spec/predictor/minReplicas" in isvc.origins
    assert "/spec/predictor/model/env/3/value" in isvc.origins
    assert committed_patches(app_dir, b"- not: a kustomization\n") == []


def test_first_difference_is_the_first_line_that_differs() -> None:
    assert first_difference("f", b"a\nb\nc\n", b"a\nx\nc\n") == Location("f", 2)
    assert first_difference("f", b"a\nb\n", b"a\nb\nc\n") == Location("f", 3)
    assert first_difference("f", None, b"a\n") == Location("f", 1)
