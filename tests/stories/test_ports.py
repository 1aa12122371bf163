"""Stories about ports end to end (FG910-FG917): vLLM's and Redis's port against what declares,
probes, scrapes, serves, admits and dials it, edited where people edit them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Change, Story, assert_caught, run_change, run_story, story_id

ISVC = "base/model/inferenceservice.yaml"
MONITOR = "base/model/podmonitor.yaml"
POLICY = "base/model/networkpolicy.yaml"
LLMISVC = "base/llmisvc/llminferenceservice.yaml"
LLM_MONITOR = "base/llmisvc/podmonitor.yaml"
LLM_POLICY = "base/llmisvc/networkpolicy.yaml"
REDIS = "base/components/kv-cache/deployment.yaml"
REDIS_SERVICE = "base/components/kv-cache/service.yaml"
REDIS_POLICY = "base/components/kv-cache/networkpolicy.yaml"
REDIS_EGRESS = "base/components/kv-cache/networkpolicy-patch.yaml"
LLAMA = "fleet/llama-3-1-8b-instruct.yaml"
MIXTRAL = "fleet/mixtral-8x7b-instruct.yaml"
PROD = "environments/prod/environment.yaml"
STAGING = "environments/staging/environment.yaml"
DEV = "environments/dev/environment.yaml"
GRPC_SINK = "    endpoint: http://phoenix-svc.observability.svc:4317\n    protocol: grpc\n"
HTTP_SINK = "    endpoint: http://phoenix-svc.observability.svc:6006/v1/traces\n    protocol: http/protobuf\n"

READINESS = (
    "      readinessProbe:\n        httpGet:\n          path: /v1/models\n          port: 8080\n"
)
LIVENESS = "      livenessProbe:\n        httpGet:\n          path: /health\n          port: 8080\n"
STARTUP = "      startupProbe:\n        httpGet:\n          path: /health\n          port: 8080\n"
IMAGE = "      image: vllm/vllm-openai:placeholder\n"
PROMETHEUS_RULE = (
    "          kubernetes.io/metadata.name: monitoring\n"
    "    ports:\n    - protocol: TCP\n      port: 8080\n"
)
REDIS_ARGS = '        - --port\n        - "6379"\n'
REDIS_PORTS = "        - name: redis\n          containerPort: 6379\n"

STORIES = (
    Story(
        "A platform engineer points the readiness probe at 8000, vLLM's documented default, "
        "but KServe's runtime starts vLLM on 8080.",
        ((ISVC, READINESS, READINESS.replace("port: 8080", "port: 8000")),),
        "rendered",
        "FG911",
        ISVC,
        "port: 8000",
    ),
    Story(
        "A platform engineer moves the liveness probe to 8081, the port of a sidecar they "
        "had in mind.",
        ((ISVC, LIVENESS, LIVENESS.replace("port: 8080", "port: 8081")),),
        "rendered",
        "FG911",
        ISVC,
        "port: 8081",
    ),
    Story(
        "A platform engineer switches the startup probe to the named port http, which the "
        "vLLM container never declares.",
        ((ISVC, STARTUP, STARTUP.replace("port: 8080", "port: http")),),
        "rendered",
        "FG912",
        ISVC,
        "port: http",
    ),
    Story(
        "A platform engineer declares containerPort 8000 on the vLLM container: KServe's "
        "Service now sends port 80 to 8000 while vLLM listens on 8080.",
        (
            (
                ISVC,
                IMAGE,
                IMAGE + "      ports:\n      - name: http\n        containerPort: 8000\n"
                "        protocol: TCP\n",
            ),
        ),
        "rendered",
        "FG913",
        ISVC,
        "containerPort: 8000",
        also=frozenset({"FG910"}),
    ),
    Story(
        "A platform engineer declares vLLM's port after a metrics sidecar's port, so the "
        "predictor Service targets the sidecar.",
        (
            (
                ISVC,
                IMAGE,
                IMAGE + "      ports:\n      - name: sidecar\n        containerPort: 9400\n"
                "      - name: http\n        containerPort: 8080\n",
            ),
        ),
        "rendered",
        "FG913",
        ISVC,
        "containerPort: 9400",
    ),
    Story(
        "A platform engineer makes the PodMonitor scrape the named port http, which KServe's "
        "vLLM runtime does not declare.",
        ((MONITOR, "  - portNumber: 8080\n", "  - port: http\n"),),
        "rendered",
        "FG912",
        MONITOR,
        "port: http",
    ),
    Story(
        "A platform engineer sets the scrape path to /v1/metrics, next to the OpenAI routes.",
        ((MONITOR, "    path: /metrics\n", "    path: /v1/metrics\n"),),
        "rendered",
        "FG914",
        MONITOR,
        "path: /v1/metrics",
    ),
    Story(
        "An SRE opens the gateway's ingress rule on port 80, the predictor Service's port; "
        "NetworkPolicies match the pod's port 8080, so every request is dropped.",
        (
            (
                POLICY,
                "    ports:\n    - protocol: TCP\n      port: 8080\n",
                "    ports:\n    - protocol: TCP\n      port: 80\n",
            ),
        ),
        "rendered",
        "FG915",
        POLICY,
        "      port: 80",
    ),
    Story(
        "An SRE admits Prometheus on 9090, Prometheus' own port, instead of the port it "
        "scrapes on the pods.",
        (
            (
                POLICY,
                PROMETHEUS_RULE,
                PROMETHEUS_RULE.replace("port: 8080", "port: 9090"),
            ),
        ),
        "rendered",
        "FG915",
        POLICY,
        "port: 9090",
    ),
    Story(
        "A platform engineer appends --port=8081 to the LLMInferenceService base args: the "
        "preset's containerPort, probes and pool stay on 8000.",
        (
            (
                LLMISVC,
                "      - --gpu-memory-utilization=0.9\n",
                "      - --gpu-memory-utilization=0.9\n      - --port=8081\n",
            ),
        ),
        "rendered",
        "FG913",
        LLMISVC,
        "--port=8081",
        also=frozenset({"FG708", "FG764", "FG910", "FG911", "FG915"}),
    ),
    Story(
        "A platform engineer scrapes the LLMInferenceService pods on /stats.",
        ((LLM_MONITOR, "    path: /metrics\n", "    path: /stats\n"),),
        "rendered",
        "FG914",
        LLM_MONITOR,
        "path: /stats",
    ),
    Story(
        "An SRE narrows the endpoint picker's ingress rule to 9002, the picker's own port, "
        "instead of vLLM's 8000 that it scrapes.",
        (
            (
                LLM_POLICY,
                "    - podSelector: {}\n    ports:\n    - protocol: TCP\n      port: 8000\n",
                "    - podSelector: {}\n    ports:\n    - protocol: TCP\n      port: 9002\n",
            ),
        ),
        "rendered",
        "FG915",
        LLM_POLICY,
        "port: 9002",
    ),
    Story(
        "A platform engineer starts Redis on 6380 but leaves its containerPort, probes, "
        "Service and policy on 6379.",
        ((REDIS, REDIS_ARGS, REDIS_ARGS.replace('"6379"', '"6380"')),),
        "rendered",
        "FG910",
        REDIS,
        '"6380"',
        also=frozenset({"FG911", "FG913", "FG915"}),
    ),
    Story(
        "A platform engineer renames Redis's container port to redis-port; the Service "
        "still targets the name redis.",
        (
            (REDIS, REDIS_PORTS, REDIS_PORTS.replace("name: redis", "name: redis-port")),
            (
                REDIS,
                "          tcpSocket:\n            port: redis\n",
                "          tcpSocket:\n            port: redis-port\n",
            ),
            (
                REDIS,
                "          tcpSocket:\n            port: redis\n",
                "          tcpSocket:\n            port: redis-port\n",
            ),
        ),
        "rendered",
        "FG912",
        REDIS_SERVICE,
        "targetPort: redis",
    ),
    Story(
        "A platform engineer gives the Redis readiness probe the port 6380.",
        (
            (
                REDIS,
                "          tcpSocket:\n            port: redis\n          periodSeconds: 5\n",
                "          tcpSocket:\n            port: 6380\n          periodSeconds: 5\n",
            ),
        ),
        "rendered",
        "FG911",
        REDIS,
        "port: 6380",
    ),
    Story(
        "An SRE admits the model pods into Redis on 16379, the cluster-bus port.",
        ((REDIS_POLICY, "      port: 6379\n", "      port: 16379\n"),),
        "rendered",
        "FG915",
        REDIS_POLICY,
        "port: 16379",
    ),
    Story(
        "A platform engineer changes the Redis Service port to 6380; LMCache still dials 6379.",
        ((REDIS_SERVICE, "    port: 6379\n", "    port: 6380\n"),),
        "rendered",
        "FG917",
        REDIS_SERVICE,
        "port: 6380",
    ),
    Story(
        "An SRE lets the model pods out to Redis on 6380, a port Redis does not use.",
        ((REDIS_EGRESS, "      port: 6379\n", "      port: 6380\n"),),
        "rendered",
        "FG916",
        REDIS_EGRESS,
        "port: 6380",
    ),
    Story(
        "A platform engineer declares Redis's containerPort as 6380 while redis-server "
        "still starts on 6379.",
        ((REDIS, REDIS_PORTS, REDIS_PORTS.replace("6379", "6380")),),
        "rendered",
        "FG910",
        REDIS,
        "containerPort: 6380",
        # the probes and Service follow the name to 6380; LMCache's egress rule admits 6379
        also=frozenset({"FG911", "FG913", "FG916"}),
    ),
    Story(
        "A platform engineer copies the InferenceService PodMonitor's port 8080 into the "
        "LLMInferenceService PodMonitor, whose pods serve on 8000.",
        ((LLM_MONITOR, "  - portNumber: 8000\n", "  - portNumber: 8080\n"),),
        "rendered",
        "FG708",
        LLM_MONITOR,
        "portNumber: 8080",
    ),
    Story(
        "A platform engineer turns the readiness probe into a TCP check on 8000.",
        (
            (
                ISVC,
                READINESS,
                "      readinessProbe:\n        tcpSocket:\n          port: 8000\n",
            ),
        ),
        "rendered",
        "FG911",
        ISVC,
        "port: 8000",
    ),
    Story(
        "An SRE copies the InferenceService policy's gateway port 8080 into the "
        "LLMInferenceService policy, whose pods serve on 8000.",
        ((LLM_POLICY, "      port: 8000\n", "      port: 8080\n"),),
        "rendered",
        "FG915",
        LLM_POLICY,
        "port: 8080",
    ),
    Story(
        "An SRE admits Prometheus to the LLMInferenceService pods on 9090.",
        (
            (
                LLM_POLICY,
                PROMETHEUS_RULE.replace("8080", "8000"),
                PROMETHEUS_RULE.replace("8080", "9090"),
            ),
        ),
        "rendered",
        "FG915",
        LLM_POLICY,
        "port: 9090",
    ),
    Story(
        "An SRE admits the model pods into Redis on the named port redis-server, a name "
        "the Redis container does not declare.",
        ((REDIS_POLICY, "      port: 6379\n", "      port: redis-server\n"),),
        "rendered",
        "FG912",
        REDIS_POLICY,
        "port: redis-server",
    ),
    Story(
        "A model owner moves vLLM to 8081 with an extra arg; fleetgen sets --port itself.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--port=8081"]',
            ),
        ),
        "validate",
        "FG506",
        LLAMA,
        "--port=8081",
    ),
)

CHANGES = (
    Change(
        "A platform engineer declares vLLM's port 8080 on the container, so the Service and "
        "PodMonitor can use its name.",
        (
            (
                ISVC,
                IMAGE,
                IMAGE + "      ports:\n      - name: http\n        containerPort: 8080\n"
                "        protocol: TCP\n",
            ),
        ),
    ),
    Change(
        "A platform engineer declares vLLM's port as http and scrapes it by name.",
        (
            (
                ISVC,
                IMAGE,
                IMAGE + "      ports:\n      - name: http\n        containerPort: 8080\n",
            ),
            (MONITOR, "  - portNumber: 8080\n", "  - port: http\n"),
        ),
    ),
    Change(
        "A platform engineer probes readiness on /health instead of /v1/models.",
        ((ISVC, READINESS, READINESS.replace("/v1/models", "/health")),),
    ),
    Change(
        "A platform engineer adds a startup probe to Redis on its named port.",
        (
            (
                REDIS,
                "        readinessProbe:\n",
                "        startupProbe:\n          tcpSocket:\n            port: redis\n"
                "          failureThreshold: 30\n        readinessProbe:\n",
            ),
        ),
    ),
    Change(
        "A platform engineer moves Redis to 6380 everywhere its pod port is named, keeping "
        "the Service port 6379 that LMCache dials.",
        (
            (REDIS, REDIS_ARGS, REDIS_ARGS.replace('"6379"', '"6380"')),
            (REDIS, REDIS_PORTS, REDIS_PORTS.replace("6379", "6380")),
            (REDIS_POLICY, "      port: 6379\n", "      port: 6380\n"),
            (REDIS_EGRESS, "      port: 6379\n", "      port: 6380\n"),
        ),
    ),
    Change(
        "An SRE moves prod's traces to Phoenix's OTLP/HTTP endpoint, protocol and path together.",
        ((PROD, GRPC_SINK, HTTP_SINK),),
    ),
    Change(
        "An SRE moves staging's traces to Phoenix's gRPC port with the gRPC protocol.",
        ((STAGING, HTTP_SINK, GRPC_SINK),),
    ),
    Change(
        "A model owner turns on tracing for Mixtral.",
        (
            (
                MIXTRAL,
                "  environments:\n    staging:",
                "  observability:\n    tracing: {enabled: true, sampling: 0.2}\n"
                "  environments:\n    staging:",
            ),
        ),
    ),
    Change(
        "An SRE admits Prometheus on a port range that covers vLLM's port.",
        (
            (
                POLICY,
                PROMETHEUS_RULE,
                PROMETHEUS_RULE.replace("port: 8080", "port: 8000\n      endPort: 8090"),
            ),
        ),
    ),
)


@pytest.mark.parametrize("story", STORIES, ids=story_id)
def test_the_mistake_is_caught(story: Story, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    assert_caught(root, story, run_story(root, story))


@pytest.mark.parametrize("change", CHANGES, ids=story_id)
def test_the_change_stays_clean(change: Change, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    report = run_change(root, change)
    assert not report.diagnostics, (change.says, [d.as_dict() for d in report.diagnostics])
