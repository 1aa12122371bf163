"""Every generated app of the example repository builds with the real kustomize, passes
strict validation against the upstream CRDs, and is wired consistently."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest

from fleetgen.kube.kustomize import build
from fleetgen.kube.manifests import load_manifests
from fleetgen.kube.schema_store import SchemaStore
from tests.conftest import REPO, RunCli, crds_dir

GENERATED = REPO / "applicationsets"
APPS = sorted(p.parent for p in GENERATED.rglob("app.json"))
# Apps on an LLMInferenceService build from base/llmisvc (their wiring: test_llmisvc_wiring).
LLMISVC_APPS = [a for a in APPS if "base/llmisvc" in (a / "kustomization.yaml").read_text()]
ISVC_APPS = [a for a in APPS if a not in LLMISVC_APPS]
Doc = dict[str, Any]


@functools.cache
def _store(path: str) -> SchemaStore:
    return SchemaStore.load([Path(path)])


def store() -> SchemaStore:
    return _store(str(crds_dir()))


@functools.cache
def rendered(app: Path) -> tuple[Doc, ...]:
    return tuple(load_manifests(build(app), source=str(app)))


def one(docs: tuple[Doc, ...], kind: str) -> Doc:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.relative_to(GENERATED).as_posix())
def test_app_builds_and_validates_strictly(app: Path) -> None:
    schemas = store()
    docs = rendered(app)
    assert docs
    problems = [(d["kind"], v.path, v.message) for d in docs for v in schemas.validate(d)]
    assert problems == []


PLATFORMS = sorted(p for p in GENERATED.glob("*/*/platform") if p.is_dir())
# External Secrets' generator CRDs are not among the staged upstream CRDs; this is the one
# kind validated by its shape in the tests below instead.
UNSTAGED = {("generators.external-secrets.io/v1alpha1", "Password")}


def test_argocd_entry_point_validates_strictly() -> None:
    schemas = store()
    docs = load_manifests(build(GENERATED), source="applicationsets")
    counts = {kind: sum(d["kind"] == kind for d in docs) for kind in {d["kind"] for d in docs}}
    # 3 environments x (models + platform project); one model ApplicationSet per cluster of
    # dev and staging, one for prod's rollout over both clusters; 4 clusters x (platform app
    # + prerequisites: 12 pinned charts, 14 in prod with Loki and its log agent).
    assert counts == {"AppProject": 6, "ApplicationSet": 3, "Application": 4 + 12 * 2 + 14 * 2}
    assert [(d["kind"], v.path, v.message) for d in docs for v in schemas.validate(d)] == []
    waves = {
        d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        for d in docs
        if d["kind"] == "Application"
    }
    assert {int(w) for w in waves} <= {-4, -3, -2, -1}


@pytest.mark.parametrize("app", PLATFORMS, ids=lambda p: p.relative_to(GENERATED).as_posix())
def test_platform_builds_and_validates_strictly(app: Path) -> None:
    schemas = store()
    docs = rendered(app)
    kinds = {d["kind"] for d in docs}
    assert {"Gateway", "ClientTrafficPolicy", "GatewayConfig", "PrometheusRule"} <= kinds
    problems = [
        (d["kind"], v.path, v.message)
        for d in docs
        if (d["apiVersion"], d["kind"]) not in UNSTAGED
        for v in schemas.validate(d)
    ]
    assert problems == []
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in UNSTAGED:
            assert set(doc["spec"]) == {"length", "digits", "symbols", "noUpper", "allowRepeat"}


@pytest.mark.parametrize("app", ISVC_APPS, ids=lambda p: p.relative_to(GENERATED).as_posix())
def test_app_wiring(app: Path) -> None:
    docs = rendered(app)
    isvc = one(docs, "InferenceService")
    name, ns = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    assert name == app.name
    for doc in docs:
        if doc["kind"] != "LocalModelCache":
            assert doc["metadata"]["namespace"] == ns, doc["kind"]
        assert doc["metadata"]["labels"]["app.kubernetes.io/name"] == name
        assert "placeholder" not in repr(doc), doc["kind"]
    ann = isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/deploymentMode"] == "Standard"
    assert ann["serving.kserve.io/autoscalerClass"] == "external"
    args = isvc["spec"]["predictor"]["model"]["args"]
    (served_arg,) = [a for a in args if a.startswith("--served-model-name=")]
    served = served_arg.split("=", 1)[1]
    (tp_arg,) = [a for a in args if a.startswith("--tensor-parallel-size=")]
    gpus = isvc["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"]
    assert tp_arg.split("=")[1] == gpus
    scaled = one(docs, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{name}-predictor",
    }
    query = scaled["spec"]["triggers"][0]["metadata"]["query"]
    assert f'model_name="{served}"' in query and f'namespace="{ns}"' in query
    backend = one(docs, "Backend")
    assert backend["spec"]["endpoints"] == [
        {"fqdn": {"hostname": f"{name}-predictor.{ns}.svc.cluster.local", "port": 80}}
    ]
    assert one(docs, "AIServiceBackend")["spec"]["backendRef"]["name"] == name
    route = one(docs, "AIGatewayRoute")
    first = route["spec"]["rules"][0]
    assert first["matches"][0]["headers"][0] == {
        "type": "Exact",
        "name": "x-ai-eg-model",
        "value": served,
    }
    assert first["backendRefs"][0]["name"] == name
    monitor = one(docs, "PodMonitor")
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "serving.kserve.io/inferenceservice": name
    }
    assert monitor["spec"]["podMetricsEndpoints"][0]["portNumber"] == 8080
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    for rule in rules:
        assert set(re.findall(r'model_name="([^"]*)"', rule["expr"])) == {served}
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name]
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "serving.kserve.io/inferenceservice": name
    }
    limits = [d for d in docs if d["kind"] == "BackendTrafficPolicy"]
    for btp in limits:
        assert btp["spec"]["targetRefs"][0]["name"] == route["metadata"]["name"]
    caches = [d for d in docs if d["kind"] == "LocalModelCache"]
    for cache in caches:
        storage = isvc["spec"]["predictor"]["model"]["storageUri"]
        assert storage.startswith(cache["spec"]["sourceModelUri"].rstrip("/"))
        assert "namespace" not in cache["metadata"]


def test_render_prints_the_built_app(run_cli: RunCli) -> None:
    result = run_cli(["render", "llama-3-1-70b-instruct-fp8", "--env", "prod", "--root", str(REPO)])
    assert result.returncode == 0, result.stderr
    app = GENERATED / "prod" / "prod-a" / "models" / "llama-3-1-70b-instruct-fp8"
    assert result.stdout == build(app)
    missing = run_cli(["render", "llama-3-1-70b-instruct-fp8", "--env", "dev", "--root", str(REPO)])
    assert missing.returncode == 2
    assert "has no app in 'dev'" in missing.stderr
