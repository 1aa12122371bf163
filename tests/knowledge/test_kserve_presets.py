"""The KServe preset facts are derived, not typed: re-running the extractor over KServe's own
LLMInferenceServiceConfig files gives the committed data byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from fleetgen.knowledge.kserve import extract, llmisvc
from tests.conftest import crds_dir

PRESETS_ENV = "FLEETGEN_TEST_KSERVE_PRESETS"
DATA = Path(extract.__file__).parent / "data" / "presets.json"


def presets_dir() -> Path:
    """KServe's preset files: $FLEETGEN_TEST_KSERVE_PRESETS, else the reference copy staged
    beside the upstream CRDs."""
    value = os.environ.get(PRESETS_ENV)
    path = (
        Path(value)
        if value
        else crds_dir().parent / "reference" / "upstream" / "kserve-llmisvcconfig"
    )
    if not path.is_dir():
        pytest.skip(f"set {PRESETS_ENV}=<dir of KServe's LLMInferenceServiceConfig files>")
    return path


def test_committed_data_is_what_the_extractor_derives() -> None:
    derived = extract.extract(presets_dir(), llmisvc.source_tag())
    assert json.loads(DATA.read_text()) == derived


def test_every_file_is_read_with_its_hash() -> None:
    source = presets_dir()
    for name, preset in llmisvc.presets().items():
        assert hashlib.sha256((source / preset.file).read_bytes()).hexdigest() == preset.sha256
        assert name.startswith("kserve-config-llm-")


def test_what_the_presets_consume() -> None:
    template = llmisvc.preset(llmisvc.TEMPLATE)
    workers = llmisvc.preset(llmisvc.WORKER_DATA_PARALLEL)
    assert template is not None and workers is not None
    assert template.consumes == {"tensor"}
    assert {"tensor", "data", "dataLocal"} <= workers.consumes
    # No well-known preset hands spec.parallelism.pipeline to vLLM.
    assert all("pipeline" not in p.consumes for p in llmisvc.presets().values())
    assert "--tensor-parallel-size" in template.flags and "--port" in template.flags


def test_scheduler_pool_selects_the_pods_the_controller_labels() -> None:
    scheduler = llmisvc.preset(llmisvc.SCHEDULER)
    assert scheduler is not None and scheduler.pool_selector is not None
    selector = llmisvc.selector_for(scheduler.pool_selector, "m")
    assert selector.items() <= llmisvc.pod_labels("m").items()
    assert scheduler.pool_target_ports == (8000,)


def test_extractor_sees_a_changed_preset(tmp_path: Path) -> None:
    """A preset that starts passing pipeline parallelism is read as consuming it."""
    source = presets_dir()
    text = (source / "config-llm-template.yaml").read_text()
    marker = "--tensor-parallel-size {{ .Spec.Parallelism.Tensor }}{{- end }}"
    assert marker in text
    changed = text.replace(
        marker, marker + " --pipeline-parallel-size {{ .Spec.Parallelism.Pipeline }}"
    )
    (tmp_path / "config-llm-template.yaml").write_text(changed)
    found = extract.extract(tmp_path, "test")["presets"][llmisvc.TEMPLATE]
    assert "pipeline" in found["consumes"]
    assert "--pipeline-parallel-size" in found["flags"]
