"""The synthetic benchmark fleet serves a share of its models through LLMInferenceService
(whole models and dev-only trials), and the rendered validation of such a fleet is clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from fleetgen import app
from tests.conftest import REPO

BENCHMARKS = REPO / "benchmarks"


def test_synthetic_fleet_has_both_serving_apis_and_renders_clean(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    argv = [sys.executable, str(BENCHMARKS / "synth.py"), "--models", "30", "--envs", "3"]
    subprocess.run([*argv, "--out", str(root)], check=True, capture_output=True, text=True)
    docs = [yaml.safe_load(p.read_text()) for p in sorted((root / "fleet").glob("*.yaml"))]
    whole = [d for d in docs if (d["spec"].get("serving") or {}).get("api")]
    dev_only = [
        d for d in docs if any((o or {}).get("serving") for o in d["spec"]["environments"].values())
    ]
    assert whole and dev_only and len(whole) + len(dev_only) < len(docs)
    assert app.generate(root, write=True).report.ok
    overlays = [
        p.read_text() for p in (root / "applicationsets").glob("*/*/models/*/kustomization.yaml")
    ]
    assert any("base/llmisvc" in o for o in overlays)
    assert any("base/model\n" in o for o in overlays)
    report = app.validate(
        app.ValidateOptions(root=root, rendered=True, schema_dirs=(REPO / "schemas",))
    )
    assert not report.diagnostics, [d.as_dict() for d in report.diagnostics]
