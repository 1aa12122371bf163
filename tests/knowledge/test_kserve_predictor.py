"""The predictor facts are derived from KServe's runtime file and Go constants: the extractor
reads what those files say (a checkout via $FLEETGEN_TEST_KSERVE_SOURCE re-derives the committed
data byte for byte), and the curated rules give the Service and args KServe builds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fleetgen.knowledge.kserve import predictor, predictor_extract
from fleetgen.knowledge.kserve.predictor import ServicePort

SOURCE_ENV = "FLEETGEN_TEST_KSERVE_SOURCE"
DATA = Path(predictor_extract.__file__).parent / "data" / "predictor.json"

RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata:
  name: kserve-vllmserver
spec:
  annotations:
    prometheus.kserve.io/port: "{port}"
    prometheus.kserve.io/path: "/metrics"
  containers:
    - name: kserve-container
      args: ["--port={port}", "--model=/mnt/models"]
      readinessProbe:
        httpGet: {{path: /v1/models, port: {port}}}
"""
CONSTANTS = """\
const (
	InferenceServiceDefaultHttpPort     = "{port}"
	InferenceServiceDefaultAgentPort    = 9081
	CommonDefaultHttpPort               = 80
)
var (
	InferenceServiceLabel       = "serving.kserve.io/inferenceservice"
	KServiceComponentLabel = "component"
	RawDeploymentAppLabel = "app"
)
// GetRawServiceLabel generate native service label
func GetRawServiceLabel(service string) string {{
	return "isvc." + service
}}
"""


def _checkout(root: Path, port: int) -> Path:
    files = {
        predictor_extract.RUNTIME: RUNTIME.format(port=port),
        predictor_extract.CONSTANTS: CONSTANTS.format(port=port),
        predictor_extract.SERVICE_RECONCILER: "package service\n",
        predictor_extract.MERGE: "package utils\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_the_extractor_reads_the_runtime_and_the_constants(tmp_path: Path) -> None:
    derived = predictor_extract.extract(_checkout(tmp_path / "a", 8080), "v0.20.0")
    assert derived["runtime"]["args"] == ["--port=8080", "--model=/mnt/models"]
    assert derived["runtime"]["probes"]["readinessProbe"] == {
        "handler": "httpGet",
        "path": "/v1/models",
        "port": 8080,
    }
    assert derived["controller"]["defaultTargetPort"] == 8080
    assert derived["controller"]["appLabelPrefix"] == "isvc."
    moved = predictor_extract.extract(_checkout(tmp_path / "b", 9000), "v0.20.0")
    assert moved["controller"]["defaultTargetPort"] == 9000
    assert moved["source"]["files"] != derived["source"]["files"]


def test_a_missing_constant_is_an_error(tmp_path: Path) -> None:
    root = _checkout(tmp_path, 8080)
    (root / predictor_extract.CONSTANTS).write_text("package constants\n")
    with pytest.raises(ValueError, match="CommonDefaultHttpPort"):
        predictor_extract.extract(root, "v0.20.0")


def test_committed_data_is_what_the_extractor_derives() -> None:
    source = os.environ.get(SOURCE_ENV)
    if not source:
        pytest.skip(f"set {SOURCE_ENV}=<a KServe checkout at {predictor.source_tag()}>")
    derived = predictor_extract.extract(Path(source), predictor.source_tag())
    assert json.loads(DATA.read_text()) == derived


def test_the_service_targets_the_first_declared_port_else_the_default() -> None:
    default = predictor.default_target_port()
    assert predictor.service_ports([]) == [ServicePort(None, predictor.service_port(), default)]
    assert predictor.service_ports([("http", 9000), ("grpc", 9001)]) == [
        ServicePort("http", predictor.service_port(), 9000),
        ServicePort("grpc", 9001, 9001),
    ]


def test_the_model_args_come_after_the_runtime_args() -> None:
    merged = predictor.merged_args([("--port=8081", "/spec/predictor/model/args/4")])
    assert merged[-1] == ("--port=8081", "/spec/predictor/model/args/4")
    assert [a for a, _ in merged[:-1]] == list(predictor.runtime_args())
    assert "--port=8080" in predictor.runtime_args()


def test_predictor_pods_carry_the_controller_labels() -> None:
    found = predictor.pod_labels("m", {"team": "a"})
    assert found == {
        "team": "a",
        "serving.kserve.io/inferenceservice": "m",
        "component": "predictor",
        "app": "isvc.m-predictor",
    }
