"""KServe's InferenceService facts (modes, autoscaler classes, names) are derived from its
sources: the extractor reads them as text, re-derives the committed data from a checkout, and
fails loudly when a source changes shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fleetgen.knowledge.kserve import extract_isvc, isvc
from fleetgen.knowledge.kserve.extract_isvc import ExtractError, derive

SOURCE_ENV = "FLEETGEN_TEST_KSERVE_SRC"
DATA = Path(extract_isvc.__file__).parent / "data" / "isvc.json"

# The shapes the extractor reads, as small as KServe's sources have them.
CONSTANTS = b"""
const (
	LegacyServerless    DeploymentModeType = "Serverless" // deprecated: use Knative
	Knative             DeploymentModeType = "Knative"
	LegacyRawDeployment DeploymentModeType = "RawDeployment" // deprecated: use Standard
	Standard            DeploymentModeType = "Standard"
	DefaultDeployment   DeploymentModeType = Standard
	ModelMeshDeployment DeploymentModeType = "ModelMesh"
)

func ParseDeploymentMode(mode string) DeploymentModeType {
	switch deploymentMode {
	case LegacyRawDeployment:
		return Standard
	case LegacyServerless:
		return Knative
	default:
		return deploymentMode
	}
}

const (
	DefaultAutoscalerClass = AutoscalerClassHPA
)

const (
	AutoscalerClassHPA      AutoscalerClassType = "hpa"
	AutoscalerClassKPA      AutoscalerClassType = "kpa"
	AutoscalerClassExternal AutoscalerClassType = "external"
	AutoscalerClassKeda     AutoscalerClassType = "keda"
	AutoscalerClassNone     AutoscalerClassType = "none"
)

var AutoscalerAllowedClassList = []AutoscalerClassType{
	AutoscalerClassHPA,
	AutoscalerClassExternal,
	AutoscalerClassKeda,
	AutoscalerClassNone,
}

const (
	Predictor   InferenceServiceComponent = "predictor"
	Explainer   InferenceServiceComponent = "explainer"
)
"""
FACTORY = b"""
func (f *ReconcilerFactory) CreateWorkloadReconciler(
	deploymentMode constants.DeploymentModeType,
) (WorkloadReconciler, error) {
	switch deploymentMode {
	case constants.Standard, constants.LegacyRawDeployment:
		deploymentRec, err := deployment.NewDeploymentReconciler(params.Client)
		return deploymentRec, nil
	default:
		return nil, fmt.Errorf("unsupported deployment mode for workload: %s", deploymentMode)
	}
}
"""
AUTOSCALER = b"""
func createAutoscaler(client client.Client) (Autoscaler, error) {
	switch ac {
	case constants.AutoscalerClassHPA, constants.AutoscalerClassExternal, constants.AutoscalerClassNone:
		return hpa.NewHPAReconciler(client, scheme, componentMeta, componentExt)
	case constants.AutoscalerClassKeda:
		return keda.NewKedaReconciler(client, scheme, componentMeta, componentExt, configMap)
	}
}
"""
HPA = b"""
func shouldDeleteHPA(existing *autoscalingv2.HorizontalPodAutoscaler) bool {
	return ok && (constants.AutoscalerClassType(c) == constants.AutoscalerClassExternal ||
		constants.AutoscalerClassType(c) == constants.AutoscalerClassNone)
}
"""
CONFIGMAP_GO = b'DefaultDomainTemplate = "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"\n'
SHIPPED = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: inferenceservice-config
data:
  _example: |-
    deploy: |-
      {"defaultDeploymentMode": "Standard"}
  deploy: |-
    {
      "defaultDeploymentMode": "Serverless"
    }
"""


def _sources() -> dict[str, bytes]:
    return {
        extract_isvc.CONSTANTS: CONSTANTS,
        extract_isvc.CONFIGMAP_GO: CONFIGMAP_GO,
        extract_isvc.FACTORY: FACTORY,
        extract_isvc.AUTOSCALER: AUTOSCALER,
        extract_isvc.HPA: HPA,
        extract_isvc.SHIPPED_CONFIG: SHIPPED,
    }


def test_the_extractor_reads_each_fact_from_its_source() -> None:
    facts = derive(_sources(), "v9.9.9")
    assert facts["legacyModes"] == {"RawDeployment": "Standard", "Serverless": "Knative"}
    assert facts["modesWithDeployment"] == ["RawDeployment", "Standard"]
    assert facts["defaultMode"] == "Standard"
    assert facts["shippedDefaultMode"] == "Serverless"  # the data, not the _example block
    assert facts["autoscalerClasses"] == ["external", "hpa", "keda", "none"]  # no kpa
    assert facts["classesWithOwnScaledObject"] == ["keda"]
    assert facts["classesWithoutHPA"] == ["external", "none"]
    assert facts["domainTemplate"] == "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"
    assert facts["source"]["tag"] == "v9.9.9"
    assert set(facts["source"]["files"]) == set(extract_isvc.SOURCES)


def test_a_source_of_another_shape_fails_the_extraction() -> None:
    sources = _sources()
    sources[extract_isvc.FACTORY] = FACTORY.replace(b"NewDeploymentReconciler", b"NewWorkload")
    with pytest.raises(ExtractError):
        derive(sources, "v9.9.9")


def test_the_committed_data_keeps_its_provenance() -> None:
    data = json.loads(DATA.read_text())
    assert data["source"]["repo"] == "kserve/kserve"
    assert set(data["source"]["files"]) == set(extract_isvc.SOURCES)
    assert all(len(sha) == 64 for sha in data["source"]["files"].values())


def test_committed_data_is_what_the_extractor_derives() -> None:
    value = os.environ.get(SOURCE_ENV)
    if not value:
        pytest.skip(f"set {SOURCE_ENV}=<a KServe checkout at the pinned tag>")
    sources = {p: (Path(value) / p).read_bytes() for p in extract_isvc.SOURCES}
    data = json.loads(DATA.read_text())
    assert derive(sources, data["source"]["tag"]) == data


def test_the_host_label_follows_the_domain_template() -> None:
    assert isvc.host_labels("m", "ns") == ["m-predictor-ns"]
    assert isvc.predictor_service("m", "gpu") == "m-gpu-predictor"
    assert isvc.too_long_host_label("a" * 40, "b" * 12) is None  # 40 + 12 = 52: fits
    assert isvc.too_long_host_label("a" * 40, "b" * 13) == "a" * 40 + "-predictor-" + "b" * 13
