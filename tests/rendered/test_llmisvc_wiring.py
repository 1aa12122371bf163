"""An app on LLMInferenceService, built by the real kustomize: every name KServe derives from
the service (pool, workload Deployment, pod labels) is what the other objects point at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetgen.knowledge.kserve import llmisvc
from tests.rendered.test_rendered import GENERATED, LLMISVC_APPS, one, rendered


def test_the_example_has_both_serving_apis() -> None:
    assert LLMISVC_APPS
    assert len(LLMISVC_APPS) < len(list(GENERATED.rglob("app.json")))


@pytest.mark.parametrize("app", LLMISVC_APPS, ids=lambda p: p.relative_to(GENERATED).as_posix())
def test_llmisvc_app_wiring(app: Path) -> None:
    docs = rendered(app)
    assert not [d for d in docs if d["kind"] in ("InferenceService", "Backend")]
    service = one(docs, "LLMInferenceService")
    name, ns = service["metadata"]["name"], service["metadata"]["namespace"]
    spec = service["spec"]
    assert name == app.name
    for doc in docs:
        assert doc["metadata"]["namespace"] == ns, doc["kind"]
        assert "placeholder" not in repr(doc), doc["kind"]
    served = spec["model"]["name"]
    (main,) = spec["template"]["containers"]
    assert main["name"] == "main"
    # The preset passes these itself; the container's args only add to them.
    assert not [a for a in main["args"] if a.startswith(("--served-model-name", "--tensor-"))]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == str(spec["parallelism"]["tensor"])
    assert [r["name"] for r in spec["baseRefs"]] == [llmisvc.TEMPLATE, llmisvc.SCHEDULER]
    assert "replicas" not in spec and "scaling" not in spec
    scaled = one(docs, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": llmisvc.workload_name(name),
    }
    route = one(docs, "AIGatewayRoute")
    for rule in route["spec"]["rules"]:
        (ref,) = rule["backendRefs"]
        assert (ref["group"], ref["kind"], ref["name"]) == (
            llmisvc.POOL_GROUP,
            llmisvc.POOL_KIND,
            llmisvc.pool_name(name),
        )
    assert route["spec"]["rules"][0]["matches"][0]["headers"][0]["value"] == served
    pods = llmisvc.pod_labels(name)
    monitor = one(docs, "PodMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pods.items()
    assert monitor["spec"]["podMetricsEndpoints"][0]["portNumber"] == 8000
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pods.items()
    assert {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]} == {8000}
    for rule in one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]:
        assert set(re.findall(r'model_name="([^"]*)"', rule["expr"])) == {served}
    for btp in (d for d in docs if d["kind"] == "BackendTrafficPolicy"):
        assert btp["spec"]["targetRefs"][0]["name"] == route["metadata"]["name"]
    assert spec["tracing"]["exporterEndpoint"].startswith("http")
