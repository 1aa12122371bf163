"""Opt-in parts of the platform layer: the shared KV-cache tier of a model, log shipping to
Loki, and gateway TLS from a cert-manager Certificate. Each shared value (Redis address, Loki
push URL, TLS Secret name) must be the same on both sides of the wire."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.knowledge.runtime_contract import contract_for
from fleetgen.kube.kustomize import build
from fleetgen.kube.manifests import load_manifests
from fleetgen.kube.schema_store import SchemaStore
from tests.conftest import REPO, RunCli, crds_dir

GENERATED = REPO / "applicationsets"
Doc = dict[str, Any]
GIB = 1024**3


def render(app: Path) -> list[Doc]:
    return load_manifests(build(app), source=str(app))


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def env_vars(isvc: Doc) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in isvc["spec"]["predictor"]["model"]["env"]}


def apps_of(path: Path) -> dict[str, Doc]:
    docs = yaml.safe_load_all(path.read_text())
    return {d["metadata"]["name"]: d for d in docs}


# -- shared KV-cache tier ---------------------------------------------------------------------

MODEL = "llama-3-1-70b-instruct-fp8"


def test_kv_cache_redis_address_is_the_redis_service() -> None:
    docs = render(GENERATED / "prod" / "prod-a" / "models" / MODEL)
    isvc = named(docs, "InferenceService", MODEL)
    namespace = isvc["metadata"]["namespace"]
    args = isvc["spec"]["predictor"]["model"]["args"]
    (transfer,) = [a for a in args if a.startswith("--kv-transfer-config=")]
    assert yaml.safe_load(transfer.split("=", 1)[1]) == {
        "kv_connector": "LMCacheConnectorV1",
        "kv_role": "kv_both",
    }
    url = env_vars(isvc)["LMCACHE_REMOTE_URL"]
    match = re.fullmatch(r"redis://([^.]+)\.([^.]+)\.svc\.cluster\.local:(\d+)", url)
    assert match, url
    host, host_namespace, port = match[1], match[2], int(match[3])
    service = named(docs, "Service", host)
    assert (host_namespace, service["metadata"]["namespace"]) == (namespace, namespace)
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == port
    # The Service reaches the Redis pods, on the port Redis listens on.
    redis = named(docs, "Deployment", host)
    pod = redis["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    (container_port,) = container["ports"]
    assert service_port["targetPort"] == container_port["name"]
    redis_args = container["args"]
    assert redis_args[redis_args.index("--port") + 1] == str(container_port["containerPort"])


def test_kv_cache_redis_is_sized_from_the_descriptor_and_evicts() -> None:
    docs = render(GENERATED / "prod" / "prod-a" / "models" / MODEL)
    descriptor = yaml.safe_load((REPO / "fleet" / f"{MODEL}.yaml").read_text())
    shared = descriptor["spec"]["kvCache"]["shared"]
    (container,) = named(docs, "Deployment", f"{MODEL}-kv-cache")["spec"]["template"]["spec"][
        "containers"
    ]
    resources = container["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == shared["memory"]
    args = container["args"]
    maxmemory = int(args[args.index("--maxmemory") + 1])
    assert shared["memory"].endswith("Gi")
    limit = int(shared["memory"][:-2]) * GIB
    assert 0.5 * limit < maxmemory < limit
    assert args[args.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    lmcache = env_vars(named(docs, "InferenceService", MODEL))
    assert lmcache["LMCACHE_MAX_LOCAL_CPU_SIZE"] == f"{shared['localCpuGiB']:g}"


def test_only_the_predictor_reaches_its_redis() -> None:
    docs = render(GENERATED / "prod" / "prod-a" / "models" / MODEL)
    redis_pods = named(docs, "Deployment", f"{MODEL}-kv-cache")["spec"]["template"]["metadata"][
        "labels"
    ]
    port = named(docs, "Service", f"{MODEL}-kv-cache")["spec"]["ports"][0]["port"]
    predictor = named(docs, "NetworkPolicy", MODEL)["spec"]
    to_redis = [
        rule
        for rule in predictor["egress"]
        if any(
            peer.get("podSelector", {}).get("matchLabels", {}).items() <= redis_pods.items()
            and peer.get("podSelector")
            for peer in rule.get("to", [])
        )
    ]
    assert [rule["ports"] for rule in to_redis] == [[{"protocol": "TCP", "port": port}]]
    guard = named(docs, "NetworkPolicy", f"{MODEL}-kv-cache")["spec"]
    assert guard["podSelector"]["matchLabels"].items() <= redis_pods.items()
    assert guard["policyTypes"] == ["Ingress", "Egress"] and "egress" not in guard
    (ingress,) = guard["ingress"]
    assert ingress["from"] == [
        {"podSelector": {"matchLabels": {"serving.kserve.io/inferenceservice": MODEL}}}
    ]
    assert ingress["ports"] == [{"protocol": "TCP", "port": port}]


def test_kv_cache_is_opt_in_per_environment() -> None:
    # The descriptor sizes the tier and switches it on in prod only.
    staging = render(GENERATED / "staging" / "staging-a" / "models" / MODEL)
    assert not [d for d in staging if d["kind"] in ("Deployment", "Service")]
    isvc = named(staging, "InferenceService", MODEL)
    assert not [k for k in env_vars(isvc) if k.startswith("LMCACHE_")]
    assert not any("kv-transfer" in a for a in isvc["spec"]["predictor"]["model"]["args"])


def test_lmcache_connector_needs_vllm_0_8_5() -> None:
    def has(version: str) -> bool:
        contract = contract_for(version)
        assert contract is not None
        return "LMCacheConnectorV1" in contract.kv_connectors

    assert [has(v) for v in ("0.8.4", "0.8.5", "0.9", "0.11.2")] == [False, True, True, True]


# -- logs to Loki -------------------------------------------------------------------------------


def loki_service_push_url(loki: Doc) -> str:
    """The Loki chart's gateway Service (`<fullname>-gateway`) as its own values set it."""
    values = loki["spec"]["source"]["helm"]["valuesObject"]
    host = f"{values['fullnameOverride']}-gateway.{loki['spec']['destination']['namespace']}"
    return (
        f"http://{host}.svc.cluster.local:{values['gateway']['service']['port']}/loki/api/v1/push"
    )


@pytest.mark.parametrize(
    "apps", sorted(GENERATED.glob("*/*/platform-apps.yaml")), ids=lambda p: p.parent.name
)
def test_log_agent_pushes_to_loki_where_logs_are_enabled(apps: Path) -> None:
    env = yaml.safe_load(
        (REPO / "environments" / apps.parent.parent.name / "environment.yaml").read_text()
    )
    enabled = env["spec"].get("observability", {}).get("loki", False)
    by_chart = {
        d["spec"]["source"].get("chart"): d
        for d in apps_of(apps).values()
        if d["metadata"]["labels"]["fleetgen.dev/layer"] == "prerequisites"
    }
    if not enabled:
        assert "loki" not in by_chart and "alloy" not in by_chart
        return
    loki, agent = by_chart["loki"], by_chart["alloy"]
    config = agent["spec"]["source"]["helm"]["valuesObject"]["alloy"]["configMap"]["content"]
    urls = re.findall(r'^\s*url\s*=\s*"([^"]+)"', config, re.MULTILINE)
    assert urls == [loki_service_push_url(loki)]
    assert f'cluster = "{apps.parent.name}"' in config
    waves = {
        d["metadata"]["name"]: int(d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for d in (loki, agent)
    }
    assert len(set(waves.values())) == 1  # agent and Loki together, before the models


def test_log_agent_follows_a_moved_loki(example_repo: Path, run_cli: RunCli) -> None:
    path = example_repo / "environments" / "prod" / "environment.yaml"
    text = path.read_text()
    pin = "chart: loki, version: 6.30.0}"
    assert pin in text
    path.write_text(text.replace(pin, "chart: loki, version: 6.30.0, namespace: logging}"))
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 0, result.stderr
    apps = apps_of(example_repo / "applicationsets" / "prod" / "prod-b" / "platform-apps.yaml")
    loki, agent = apps["prod-prod-b-loki"], apps["prod-prod-b-alloy"]
    assert loki["spec"]["destination"]["namespace"] == "logging"
    config = agent["spec"]["source"]["helm"]["valuesObject"]["alloy"]["configMap"]["content"]
    assert f'url = "{loki_service_push_url(loki)}"' in config
    assert "gateway.logging.svc" in loki_service_push_url(loki)


# -- gateway TLS from cert-manager ---------------------------------------------------------------


def use_cert_manager(repo: Path) -> None:
    path = repo / "environments" / "prod" / "environment.yaml"
    text = path.read_text()
    tls = "    tls:\n      secretName: llm-gateway-tls\n"
    assert tls in text
    text = text.replace(
        tls, tls + "      certManager:\n        issuer: {kind: ClusterIssuer, name: letsencrypt}\n"
    )
    pin = "      loki: {"
    chart = "      certManager: {repoURL: https://charts.example.com/jetstack, chart: cert-manager, version: v1.19.1}\n"
    path.write_text(text.replace(pin, chart + pin, 1))


def test_example_gateways_use_existing_secrets() -> None:
    for platform in sorted(GENERATED.glob("*/*/platform")):
        assert not [d for d in render(platform) if d["kind"] == "Certificate"]
    for apps in sorted(GENERATED.glob("*/*/platform-apps.yaml")):
        assert not [n for n in apps_of(apps) if n.endswith("-cert-manager")]


def test_cert_manager_certificate_feeds_the_gateway_listeners(
    example_repo: Path, run_cli: RunCli
) -> None:
    use_cert_manager(example_repo)
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 0, result.stderr
    cluster = example_repo / "applicationsets" / "prod" / "prod-a"
    docs = render(cluster / "platform")
    (cert,) = [d for d in docs if d["kind"] == "Certificate"]
    (gateway,) = [d for d in docs if d["kind"] == "Gateway"]
    assert cert["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    refs = {
        ref["name"]
        for listener in gateway["spec"]["listeners"]
        for ref in listener["tls"]["certificateRefs"]
    }
    assert refs == {cert["spec"]["secretName"]}
    assert cert["spec"]["dnsNames"] == [lis["hostname"] for lis in gateway["spec"]["listeners"]]
    assert cert["spec"]["issuerRef"] == {
        "group": "cert-manager.io",
        "kind": "ClusterIssuer",
        "name": "letsencrypt",
    }
    apps = apps_of(cluster / "platform-apps.yaml")
    chart = apps["prod-prod-a-cert-manager"]
    assert chart["spec"]["source"]["helm"]["valuesObject"] == {"crds": {"enabled": True}}
    wave = int(chart["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    platform_wave = apps["prod-prod-a-platform"]["metadata"]["annotations"]
    assert wave < int(platform_wave["argocd.argoproj.io/sync-wave"])


def test_cert_manager_certificate_validates_strictly(example_repo: Path, run_cli: RunCli) -> None:
    schemas = SchemaStore.load([crds_dir()])
    use_cert_manager(example_repo)
    assert run_cli(["generate"], cwd=example_repo).returncode == 0
    docs = render(example_repo / "applicationsets" / "prod" / "prod-a" / "platform")
    (cert,) = [d for d in docs if d["kind"] == "Certificate"]
    assert [str(v) for d in docs for v in schemas.validate(d)] == []
    # The schema is really applied: a misspelt field is rejected.
    broken = {**cert, "spec": {**cert["spec"], "dnsName": cert["spec"]["dnsNames"]}}
    assert [v.path for v in schemas.validate(broken)] == ["/spec/dnsName"]
