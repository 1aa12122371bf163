"""The environment platform layer: values several objects share are equal everywhere, API keys
never appear as values, and tenants are authorized per model."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.checks.policy import SECRET_PATTERNS
from fleetgen.kube.kustomize import build
from fleetgen.kube.manifests import load_manifests
from tests.conftest import REPO

GENERATED = REPO / "applicationsets"
CLUSTERS = sorted(p.parent for p in GENERATED.glob("*/*/platform"))
Doc = dict[str, Any]


@functools.cache
def rendered(directory: Path) -> tuple[Doc, ...]:
    return tuple(load_manifests(build(directory), source=str(directory)))


def environment(env: str) -> Doc:
    loaded: Doc = yaml.safe_load((REPO / "environments" / env / "environment.yaml").read_text())
    return loaded["spec"]


def cluster_docs(cluster: Path) -> list[Doc]:
    docs = list(rendered(cluster / "platform"))
    for app in sorted((cluster / "models").iterdir()):
        docs.extend(rendered(app))
    return docs


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def platform_apps(cluster: Path) -> dict[str, Doc]:
    docs = yaml.safe_load_all((cluster / "platform-apps.yaml").read_text())
    return {
        d["metadata"]["labels"].get("fleetgen.dev/layer", "") + "/" + d["metadata"]["name"]: d
        for d in docs
    }


@pytest.mark.parametrize("cluster", CLUSTERS, ids=lambda p: p.relative_to(GENERATED).as_posix())
def test_shared_values_are_equal_everywhere(cluster: Path) -> None:
    env_name = cluster.parent.name
    spec = environment(env_name)
    docs = cluster_docs(cluster)
    # Trace sink: vLLM's flag and the gateway's exporter use the one environment value.
    phoenix = spec["phoenix"]["endpoint"]
    (config,) = of_kind(docs, "GatewayConfig")
    env_vars = {e["name"]: e["value"] for e in config["spec"]["extProc"]["kubernetes"]["env"]}
    assert env_vars["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == phoenix
    assert env_vars["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == spec["phoenix"]["protocol"]
    endpoints = {
        arg.split("=", 1)[1]
        for isvc in of_kind(docs, "InferenceService")
        for arg in isvc["spec"]["predictor"]["model"]["args"]
        if arg.startswith("--otlp-traces-endpoint=")
    }
    assert endpoints == {phoenix}
    # Prometheus: KEDA's server and the selector labels of monitors, rules and the chart.
    prometheus, selector = spec["prometheus"]["url"], spec["prometheus"]["selectorLabels"]
    for scaled in of_kind(docs, "ScaledObject"):
        assert scaled["spec"]["triggers"][0]["metadata"]["serverAddress"] == prometheus
    for monitor in of_kind(docs, "PodMonitor") + of_kind(docs, "PrometheusRule"):
        assert selector.items() <= monitor["metadata"]["labels"].items()
    apps = platform_apps(cluster)
    stack = apps[f"prerequisites/{env_name}-{cluster.name}-kube-prometheus-stack"]
    values = stack["spec"]["source"]["helm"]["valuesObject"]["prometheus"]["prometheusSpec"]
    assert values["podMonitorSelector"]["matchLabels"] == selector
    assert values["serviceMonitorSelector"]["matchLabels"] == selector
    # API keys: every model's SecurityPolicy reads the Secret the ExternalSecret writes.
    secret_name, namespace = (
        spec["apiKeys"].get("secretName", "ai-gateway-api-keys"),
        spec["namespace"],
    )
    (external,) = of_kind(docs, "ExternalSecret")
    assert (external["spec"]["target"]["name"], external["metadata"]["namespace"]) == (
        secret_name,
        namespace,
    )
    header = spec["gateway"].get("clientIdHeader", "x-tenant-id")
    for policy in of_kind(docs, "SecurityPolicy"):
        auth = policy["spec"]["apiKeyAuth"]
        assert auth["credentialRefs"] == [{"group": "", "kind": "Secret", "name": secret_name}]
        assert policy["metadata"]["namespace"] == namespace
        assert auth["forwardClientIDHeader"] == header
    for limits in of_kind(docs, "BackendTrafficPolicy"):
        for rule in limits["spec"]["rateLimit"]["global"]["rules"]:
            assert rule["clientSelectors"][0]["headers"][0]["name"] == header
    # Gateway: routes attach to the Gateway the platform creates, which admits only this namespace.
    (gateway,) = of_kind(docs, "Gateway")
    gw = (gateway["metadata"]["name"], gateway["metadata"]["namespace"])
    for route in of_kind(docs, "AIGatewayRoute"):
        ref = route["spec"]["parentRefs"][0]
        assert (ref["name"], ref["namespace"]) == gw
    for listener in gateway["spec"]["listeners"]:
        selector_ns = listener["allowedRoutes"]["namespaces"]["selector"]["matchLabels"]
        assert selector_ns == {"kubernetes.io/metadata.name": namespace}
        assert listener["tls"]["certificateRefs"][0]["name"] == spec["gateway"]["tls"]["secretName"]
    gateway_app = apps[f"prerequisites/{env_name}-{cluster.name}-envoy-gateway"]
    eg = gateway_app["spec"]["source"]["helm"]["valuesObject"]["config"]["envoyGateway"]
    assert eg["rateLimit"]["backend"]["redis"]["url"] == spec["platform"]["redisURL"]
    assert eg["extensionApis"] == {"enableBackend": True}


def test_tenants_are_authorized_per_model() -> None:
    for policy_file in sorted(GENERATED.glob("*/*/models/*")):
        docs = list(rendered(policy_file))
        (policy,) = of_kind(docs, "SecurityPolicy")
        descriptor = yaml.safe_load((REPO / "fleet" / f"{policy_file.name}.yaml").read_text())
        admitted = sorted(
            t["name"] for t in descriptor["spec"].get("gateway", {}).get("tenants", [])
        )
        authz = policy["spec"]["authorization"]
        assert authz["defaultAction"] == "Deny"
        (rule,) = authz["rules"]
        assert rule["action"] == "Allow"
        assert rule["principal"]["headers"][0]["values"] == admitted


def test_dummy_keys_are_generated_in_cluster_not_in_git() -> None:
    docs = list(rendered(GENERATED / "dev" / "dev-a" / "platform"))
    (external,) = of_kind(docs, "ExternalSecret")
    tenants = [t["name"] for t in environment("dev")["tenants"]]
    targets = [entry["rewrite"][0]["regexp"]["target"] for entry in external["spec"]["dataFrom"]]
    assert targets == tenants
    assert all(
        e["sourceRef"]["generatorRef"]["kind"] == "Password" for e in external["spec"]["dataFrom"]
    )
    for env in ("staging", "prod"):
        for platform in (GENERATED / env).glob("*/platform"):
            assert of_kind(list(rendered(platform)), "Password") == []


def test_no_secret_value_anywhere_in_the_generated_tree() -> None:
    texts = [p.read_text() for p in sorted(GENERATED.rglob("*")) if p.is_file()]
    texts += [build(d) for d in CLUSTERS for d in (d / "platform",)]
    for text in texts:
        for label, pattern in SECRET_PATTERNS:
            assert not pattern.search(text), label
        assert not re.search(r"^kind: Secret$", text, re.MULTILINE)
    # Nothing in the tree carries key material: no `data`/`stringData` of a Secret.
    for cluster in CLUSTERS:
        assert not [d for d in cluster_docs(cluster) if d["kind"] == "Secret"]
