"""The hand-maintained base renders with the real kustomize, validates strictly against the
upstream CRDs, wires its objects together, and matches the placeholder contract in
base/README.md."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube import kustomize
from fleetgen.kube.kustomize import KustomizeError, KustomizeNotFound, build, kustomize_command
from fleetgen.kube.manifests import load_manifests
from fleetgen.kube.schema_store import SchemaStore
from tests.conftest import crds_dir

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "base"
COMPONENTS = ("model-cache", "tracing", "token-limits", "dashboard", "kv-cache")

BASE_OBJECTS = {
    ("InferenceService", "model"),
    ("ScaledObject", "model"),
    ("Backend", "model"),
    ("AIServiceBackend", "model"),
    ("AIGatewayRoute", "model"),
    ("PodMonitor", "model"),
    ("PrometheusRule", "model"),
    ("NetworkPolicy", "model"),
    ("SecurityPolicy", "model"),
}
ADDED_BY = {
    "model-cache": {("LocalModelCache", "model")},
    "tracing": set(),
    "token-limits": {("BackendTrafficPolicy", "model-tokens")},
    "dashboard": {("ConfigMap", "model-dashboard")},
    "kv-cache": {
        ("Deployment", "model-kv-cache"),
        ("Service", "model-kv-cache"),
        ("NetworkPolicy", "model-kv-cache"),
    },
}
Docs = list[dict[str, Any]]


def write_overlay(
    directory: Path,
    components: Sequence[str],
    *,
    base: Path = BASE,
    namespace: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """An overlay like the generator's; kustomize only accepts relative paths."""
    directory.mkdir(parents=True, exist_ok=True)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(base / "model", directory)],
    }
    if components:
        kustomization["components"] = [
            os.path.relpath(base / "components" / c, directory) for c in components
        ]
    if namespace:
        kustomization["namespace"] = namespace
    kustomization.update(extra or {})
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return directory


def render(path: Path) -> Docs:
    return load_manifests(build(path), source=str(path))


def by_id(docs: Docs) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return SchemaStore.load([crds_dir()])


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    return render(write_overlay(tmp_path_factory.mktemp("all"), COMPONENTS))


CASES = [(), *[(c,) for c in COMPONENTS], COMPONENTS]


@pytest.mark.parametrize("components", CASES, ids=lambda c: "+".join(c) or "base")
def test_renders_expected_objects_and_validates_strictly(
    components: tuple[str, ...], store: SchemaStore, tmp_path: Path
) -> None:
    path = write_overlay(tmp_path, components) if components else BASE / "model"
    docs = render(path)
    expected = set(BASE_OBJECTS).union(*(ADDED_BY[c] for c in components))
    ids = Counter((d["kind"], d["metadata"]["name"]) for d in docs)
    assert set(ids) == expected
    assert max(ids.values()) == 1
    violations = [str(v) for d in docs for v in store.validate(d)]
    assert violations == []


def test_overlay_namespace_reaches_every_namespaced_object(
    store: SchemaStore, tmp_path: Path
) -> None:
    docs = render(write_overlay(tmp_path, COMPONENTS, namespace="llm-prod"))
    namespaced = [d for d in docs if d["kind"] != "LocalModelCache"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"llm-prod"}
    assert [str(v) for d in docs for v in store.validate(d)] == []


def test_crd_field_typo_in_a_copy_of_the_base_is_rejected(
    store: SchemaStore, tmp_path: Path
) -> None:
    copy = tmp_path / "base"
    shutil.copytree(BASE, copy)
    isvc_file = copy / "model" / "inferenceservice.yaml"
    isvc = yaml.safe_load(isvc_file.read_text())
    isvc["spec"]["predictor"]["model"]["argz"] = ["--max-model-len=8192"]
    isvc_file.write_text(yaml.safe_dump(isvc))
    docs = render(write_overlay(tmp_path / "overlay", ("tracing",), base=copy))
    violations = [v for d in docs for v in store.validate(d)]
    assert [(v.kind, v.name, v.path) for v in violations] == [
        ("InferenceService", "model", "/spec/predictor/model/argz")
    ]


def json6902(kind: str, name: str, *ops: tuple[str, str, Any]) -> dict[str, Any]:
    patch = [{"op": op, "path": path, "value": value} for op, path, value in ops]
    return {"target": {"kind": kind, "name": name}, "patch": yaml.safe_dump(patch)}


def test_generator_style_overlay_fills_placeholders(store: SchemaStore, tmp_path: Path) -> None:
    """The contract's mechanics: rename, ~1-escaped pointers, whole-object replace, appends."""
    resources = {"requests": {"cpu": "2", "memory": "24Gi", "ephemeral-storage": "40Gi"}}
    resources["requests"]["nvidia.com/gpu"] = "2"
    resources["limits"] = dict(resources["requests"])
    patches = [
        json6902(
            "InferenceService",
            "model",
            ("replace", "/metadata/name", "llama"),
            ("replace", "/spec/predictor/model/args/0", "--served-model-name=llama-3"),
            ("replace", "/spec/predictor/model/args/1", "--tensor-parallel-size=2"),
            ("replace", "/spec/predictor/model/resources", resources),
            ("replace", "/spec/predictor/model/env/3/value", "llama"),
            ("add", "/spec/predictor/model/args/-", "--enable-chunked-prefill"),
        ),
        json6902(
            "PodMonitor",
            "model",
            ("replace", "/metadata/name", "llama"),
            ("replace", "/spec/selector/matchLabels/serving.kserve.io~1inferenceservice", "llama"),
        ),
        json6902(
            "NetworkPolicy",
            "model",
            (
                "replace",
                "/spec/ingress/0/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name",
                "gateways",
            ),
        ),
    ]
    labels = [{"pairs": {"app.kubernetes.io/name": "llama"}, "includeSelectors": False}]
    overlay = write_overlay(
        tmp_path, ("tracing",), namespace="llm", extra={"patches": patches, "labels": labels}
    )
    docs = render(overlay)
    objs = by_id(docs)
    model = objs["InferenceService", "llama"]["spec"]["predictor"]["model"]
    assert model["args"][:2] == ["--served-model-name=llama-3", "--tensor-parallel-size=2"]
    assert model["args"][4].startswith("--otlp-traces-endpoint=")
    assert model["args"][5] == "--enable-chunked-prefill"
    assert model["env"][3] == {"name": "OTEL_SERVICE_NAME", "value": "llama"}
    assert model["resources"]["limits"]["nvidia.com/gpu"] == "2"
    selector = objs["PodMonitor", "llama"]["spec"]["selector"]["matchLabels"]
    assert selector == {"serving.kserve.io/inferenceservice": "llama"}
    ingress = objs["NetworkPolicy", "model"]["spec"]["ingress"]
    assert ingress[0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "gateways"
    }
    assert {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in docs} == {"llama"}
    assert [str(v) for d in docs for v in store.validate(d)] == []


# -- wiring and policy (need kustomize, not the CRDs) ---------------------------------------


def test_base_has_no_namespace_and_common_labels(everything: Docs) -> None:
    for doc in everything:
        meta = doc["metadata"]
        assert "namespace" not in meta, doc["kind"]
        assert meta["labels"]["app.kubernetes.io/name"] == "model", doc["kind"]
        assert meta["labels"]["app.kubernetes.io/part-of"] == "fleetgen", doc["kind"]


def test_objects_reference_each_other(everything: Docs) -> None:
    objs = by_id(everything)
    isvc = objs["InferenceService", "model"]
    name = isvc["metadata"]["name"]
    predictor = isvc["spec"]["predictor"]
    served = predictor["model"]["args"][0].removeprefix("--served-model-name=")
    assert isvc["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": "Standard",
        "serving.kserve.io/autoscalerClass": "external",
    }
    scaled = objs["ScaledObject", "model"]["spec"]
    assert scaled["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{name}-predictor",
    }
    # CEL (not evaluated by SchemaStore): min <= max; and the ISVC agrees with KEDA.
    assert scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (
        scaled["minReplicaCount"],
        scaled["maxReplicaCount"],
    )
    trigger = scaled["triggers"][0]
    assert f'model_name="{served}"' in trigger["metadata"]["query"]
    assert isinstance(trigger["metadata"]["threshold"], str)
    fqdn = objs["Backend", "model"]["spec"]["endpoints"][0]["fqdn"]
    assert fqdn["hostname"].startswith(f"{name}-predictor.")
    assert fqdn["port"] == 80
    assert objs["AIServiceBackend", "model"]["spec"]["backendRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "Backend",
        "name": "model",
    }
    route = objs["AIGatewayRoute", "model"]["spec"]
    assert route["rules"][0]["matches"][0]["headers"][0]["value"] == served
    assert route["rules"][0]["backendRefs"] == [{"name": "model"}]
    assert {c["metadataKey"] for c in route["llmRequestCosts"]} >= {"llm_total_token"}
    selector = {"serving.kserve.io/inferenceservice": name}
    assert objs["PodMonitor", "model"]["spec"]["selector"]["matchLabels"] == selector
    assert objs["NetworkPolicy", "model"]["spec"]["podSelector"]["matchLabels"] == selector
    policy = objs["BackendTrafficPolicy", "model-tokens"]["spec"]
    assert policy["targetRefs"][0]["name"] == objs["AIGatewayRoute", "model"]["metadata"]["name"]
    rule = policy["rateLimit"]["global"]["rules"][0]
    assert rule["cost"]["response"]["metadata"]["key"] == "llm_total_token"
    cache = objs["LocalModelCache", "model"]["spec"]
    assert predictor["model"]["storageUri"].startswith(cache["sourceModelUri"])


def test_predictor_passes_the_usual_policy_linters(everything: Docs) -> None:
    predictor = by_id(everything)["InferenceService", "model"]["spec"]["predictor"]
    container = predictor["model"]
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] >= 10000 and security["runAsGroup"] >= 10000
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == 8080
    assert container["readinessProbe"] != container["livenessProbe"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800
    resources = container["resources"]
    for key in ("cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"):
        assert key in resources["requests"] and key in resources["limits"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"]
    volumes = {v["name"]: v for v in predictor["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert set(mounts) == {"/tmp", "/home/vllm", "/dev/shm"}
    assert set(mounts.values()) == set(volumes)
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"


def test_tracing_component_appends_at_documented_indexes(everything: Docs) -> None:
    model = by_id(everything)["InferenceService", "model"]["spec"]["predictor"]["model"]
    assert model["args"][4].startswith("--otlp-traces-endpoint=")
    assert [e["name"] for e in model["env"][3:8]] == [
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    ]


LMCACHE_ENV = [
    "LMCACHE_REMOTE_URL",
    "LMCACHE_REMOTE_SERDE",
    "LMCACHE_CHUNK_SIZE",
    "LMCACHE_LOCAL_CPU",
    "LMCACHE_MAX_LOCAL_CPU_SIZE",
]


@pytest.mark.parametrize("traced", [True, False], ids=["after-tracing", "alone"])
def test_kv_cache_component_appends_where_the_generator_expects(
    traced: bool, tmp_path: Path
) -> None:
    from fleetgen.render.kv_cache import EGRESS_INDEX, list_positions

    components = ("tracing", "kv-cache") if traced else ("kv-cache",)
    objs = by_id(render(write_overlay(tmp_path, components)))
    model = objs["InferenceService", "model"]["spec"]["predictor"]["model"]
    arg, env = list_positions(traced)
    assert model["args"][arg] == (
        '--kv-transfer-config={"kv_connector":"LMCacheConnectorV1","kv_role":"kv_both"}'
    )
    assert len(model["args"]) == arg + 1
    assert [e["name"] for e in model["env"][env:]] == LMCACHE_ENV
    egress = objs["NetworkPolicy", "model"]["spec"]["egress"]
    assert len(egress) == EGRESS_INDEX + 1
    redis = objs["Deployment", "model-kv-cache"]["spec"]["template"]
    assert (
        egress[EGRESS_INDEX]["to"][0]["podSelector"]["matchLabels"] == redis["metadata"]["labels"]
    )
    (port,) = redis["spec"]["containers"][0]["ports"]
    assert egress[EGRESS_INDEX]["ports"] == [{"protocol": "TCP", "port": port["containerPort"]}]


def resolve(doc: Any, pointer: str) -> Any:
    for token in pointer.lstrip("/").split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


CONTRACT_ROW = re.compile(r"^\| (\w+) ([\w-]+) \| `(/[^`]*)` \|", re.MULTILINE)


def test_every_contract_pointer_exists_in_the_render(everything: Docs) -> None:
    rows = CONTRACT_ROW.findall((BASE / "README.md").read_text())
    objs = by_id(everything)
    assert {(kind, name) for kind, name, _ in rows} == set(objs)
    missing = []
    for kind, name, pointer in rows:
        try:
            resolve(objs[kind, name], pointer)
        except (KeyError, IndexError, ValueError):
            missing.append(f"{kind} {name}: {pointer}")
    assert missing == []


# -- the kustomize runner --------------------------------------------------------------------


def test_kustomize_error_carries_stderr(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(KustomizeError) as caught:
        build(tmp_path)
    assert caught.value.returncode not in (0, None)
    assert "missing.yaml" in caught.value.stderr


def fake_tool(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tool = directory / name
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    return tool


def test_command_prefers_kubectl_next_to_the_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl = fake_tool(tmp_path / "venv" / "bin", "kubectl")
    fake_tool(tmp_path / "path", "kustomize")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert kustomize_command() == [str(kubectl), "kustomize"]


def test_command_falls_back_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "novenv" / "python"))
    kubectl = fake_tool(tmp_path / "path", "kubectl")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert kustomize_command() == [str(kubectl), "kustomize"]
    standalone = fake_tool(tmp_path / "path", "kustomize")
    assert kustomize_command() == [str(standalone), "build"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(KustomizeNotFound):
        kustomize.kustomize_command()
