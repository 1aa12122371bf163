"""Stories about the URLs and namespaces an environment declares and what its pinned
prerequisite charts install (FG901-FG909): what a platform engineer or SRE edits in an
environment file that leaves Prometheus, Phoenix, Redis or the AI gateway unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Change, Story, assert_caught, run_change, run_story, story_id

DEV = "environments/dev/environment.yaml"
STAGING = "environments/staging/environment.yaml"
PROD = "environments/prod/environment.yaml"
PROM_URL = "url: http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
KPS = (
    "kubePrometheusStack: {repoURL: https://charts.example.com/prometheus-community, "
    "chart: kube-prometheus-stack, version: 79.0.0}"
)
PHOENIX = (
    "phoenix: {repoURL: oci://charts.example.com/arizephoenix, chart: phoenix-helm, version: 4.0.0}"
)
REDIS = "redis: {repoURL: oci://charts.example.com/bitnami, chart: redis, version: 23.0.0}"
REDIS_URL = "redisURL: redis-master.redis.svc.cluster.local:6379"
AI_GATEWAY = (
    "aiGateway: {repoURL: oci://charts.example.com/envoyproxy, chart: ai-gateway-helm, "
    "version: v1.1.0}"
)
DEV_PHOENIX = "endpoint: http://phoenix-svc.observability.svc:4317"
STAGING_PHOENIX = "endpoint: http://phoenix-svc.observability.svc:6006/v1/traces"


def _in(chart_line: str, namespace: str) -> str:
    return chart_line.removesuffix("}") + f", namespace: {namespace}}}"


STORIES = (
    Story(
        "A platform engineer moves kube-prometheus-stack into the observability namespace "
        "and leaves the environment's Prometheus URL pointing at monitoring.",
        ((DEV, KPS, _in(KPS, "observability")),),
        "rendered",
        "FG903",
        DEV,
        PROM_URL,
    ),
    Story(
        "An SRE sets prometheus.namespace to observability (where Grafana lives) while the "
        "chart stays in monitoring.",
        ((STAGING, "    namespace: monitoring\n", "    namespace: observability\n"),),
        "rendered",
        "FG903",
        STAGING,
        "namespace: observability",
    ),
    Story(
        "An SRE copies the Prometheus URL from a guide that installs the chart as release "
        "'prometheus', so the Service name is prometheus-kube-prometheus-prometheus.",
        (
            (
                PROD,
                PROM_URL,
                "url: http://prometheus-kube-prometheus-prometheus.monitoring.svc:9090",
            ),
        ),
        "rendered",
        "FG902",
        PROD,
        "url: http://prometheus-kube-prometheus-prometheus",
    ),
    Story(
        "A security review asks for https everywhere, so an SRE switches the in-cluster "
        "Prometheus URL to https (the chart serves plain HTTP).",
        ((DEV, PROM_URL, PROM_URL.replace("http://", "https://")),),
        "rendered",
        "FG905",
        DEV,
        "url: https://kube-prometheus-stack-prometheus",
    ),
    Story(
        "An SRE types the Prometheus port as 9091.",
        ((STAGING, PROM_URL, PROM_URL.replace(":9090", ":9091")),),
        "rendered",
        "FG904",
        STAGING,
        "monitoring.svc:9091",
    ),
    Story(
        "An SRE points the Prometheus URL at port 8080 of the same Service: the config "
        "reloader, not the Prometheus API.",
        ((PROD, PROM_URL, PROM_URL.replace(":9090", ":8080")),),
        "rendered",
        "FG904",
        PROD,
        "monitoring.svc:8080",
    ),
    Story(
        "An SRE switches the staging exporters to HTTP on Phoenix's gRPC port 4317.",
        (
            (
                STAGING,
                STAGING_PHOENIX,
                "endpoint: http://phoenix-svc.observability.svc:4317/v1/traces",
            ),
        ),
        "rendered",
        "FG906",
        STAGING,
        "observability.svc:4317/v1/traces",
    ),
    Story(
        "An SRE moves dev's gRPC exporters to port 6006, the Phoenix UI port.",
        ((DEV, DEV_PHOENIX, "endpoint: http://phoenix-svc.observability.svc:6006"),),
        "rendered",
        "FG906",
        DEV,
        "endpoint: http://phoenix-svc.observability.svc:6006",
    ),
    Story(
        "An SRE uses the OpenTelemetry default HTTP port 4318, which Phoenix does not serve.",
        (
            (
                STAGING,
                STAGING_PHOENIX,
                "endpoint: http://phoenix-svc.observability.svc:4318/v1/traces",
            ),
        ),
        "rendered",
        "FG904",
        STAGING,
        "observability.svc:4318",
    ),
    Story(
        "An SRE shortens the staging OTLP/HTTP endpoint to the Phoenix host and port, "
        "dropping /v1/traces.",
        ((STAGING, STAGING_PHOENIX, "endpoint: http://phoenix-svc.observability.svc:6006"),),
        "rendered",
        "FG907",
        STAGING,
        "endpoint: http://phoenix-svc.observability.svc:6006",
    ),
    Story(
        "A platform engineer installs Phoenix into a tracing namespace and forgets the endpoint.",
        ((PROD, PHOENIX, _in(PHOENIX, "tracing")),),
        "rendered",
        "FG903",
        PROD,
        "endpoint: http://phoenix-svc.observability.svc:4317",
    ),
    Story(
        "An SRE writes the Phoenix endpoint as a bare Service name.",
        ((DEV, DEV_PHOENIX, "endpoint: http://phoenix-svc:4317"),),
        "rendered",
        "FG908",
        DEV,
        "endpoint: http://phoenix-svc:4317",
    ),
    Story(
        "An SRE turns on https for the Phoenix endpoint, which serves no TLS.",
        ((PROD, DEV_PHOENIX, DEV_PHOENIX.replace("http://", "https://")),),
        "rendered",
        "FG905",
        PROD,
        "endpoint: https://phoenix-svc",
    ),
    Story(
        "A platform engineer points the rate-limit Redis at redis-replicas, as for the "
        "chart's replication mode, but fleetgen installs Redis standalone.",
        ((STAGING, REDIS_URL, REDIS_URL.replace("redis-master", "redis-replicas")),),
        "rendered",
        "FG902",
        STAGING,
        "redisURL: redis-replicas",
    ),
    Story(
        "A platform engineer writes the Redis URL with the chart's release name only, as "
        "for a sentinel install.",
        ((DEV, REDIS_URL, REDIS_URL.replace("redis-master.", "redis.")),),
        "rendered",
        "FG902",
        DEV,
        "redisURL: redis.redis.svc",
    ),
    Story(
        "A platform engineer moves the Redis chart to a platform-redis namespace and keeps "
        "the old URL.",
        ((PROD, REDIS, _in(REDIS, "platform-redis")),),
        "rendered",
        "FG903",
        PROD,
        "redisURL: redis-master.redis",
    ),
    Story(
        "A platform engineer types the Redis port as 6380.",
        ((DEV, REDIS_URL, REDIS_URL.replace(":6379", ":6380")),),
        "rendered",
        "FG904",
        DEV,
        "redisURL: redis-master.redis.svc.cluster.local:6380",
    ),
    Story(
        "A platform engineer writes the Redis host in its short <service>.<namespace> form "
        "with the namespace of the old cache cluster.",
        ((DEV, REDIS_URL, "redisURL: redis-master.cache:6379"),),
        "rendered",
        "FG903",
        DEV,
        "redisURL: redis-master.cache:6379",
    ),
    Story(
        "An SRE names the Phoenix release instead of its Service in the endpoint.",
        ((PROD, DEV_PHOENIX, DEV_PHOENIX.replace("phoenix-svc.", "phoenix.")),),
        "rendered",
        "FG902",
        PROD,
        "endpoint: http://phoenix.observability.svc:4317",
    ),
    Story(
        "A platform engineer moves kube-prometheus-stack and its URL to observability but "
        "leaves prometheus.namespace, where the rules go and scrapes are admitted from.",
        (
            (PROD, KPS, _in(KPS, "observability")),
            (PROD, PROM_URL, PROM_URL.replace(".monitoring.", ".observability.")),
        ),
        "rendered",
        "FG903",
        PROD,
        "    namespace: monitoring",
    ),
    Story(
        "A platform engineer shortens the Redis URL to the bare Service name.",
        ((PROD, REDIS_URL, "redisURL: redis-master:6379"),),
        "rendered",
        "FG908",
        PROD,
        "redisURL: redis-master:6379",
    ),
    Story(
        "A platform engineer copies the CRD chart's line into aiGateway, so the controller "
        "chart is never installed and Envoy Gateway's extension server does not exist.",
        (
            (
                DEV,
                "chart: ai-gateway-helm, version: v1.1.0",
                "chart: ai-gateway-crds-helm, version: v1.1.0",
            ),
        ),
        "rendered",
        "FG909",
        DEV,
        "aiGateway: {repoURL",
        also=frozenset({"FG730"}),  # both apps now manage the same CRDs
    ),
    Story(
        "A platform engineer bumps kube-prometheus-stack to a major version fleetgen has no "
        "bill of materials for.",
        (
            (
                STAGING,
                "kube-prometheus-stack, version: 79.0.0",
                "kube-prometheus-stack, version: 83.0.0",
            ),
        ),
        "rendered",
        "FG901",
        STAGING,
        "kubePrometheusStack: {",
    ),
)

CHANGES = (
    Change(
        "A platform engineer moves kube-prometheus-stack to observability together with the "
        "Prometheus URL and namespace.",
        (
            (DEV, KPS, _in(KPS, "observability")),
            (DEV, PROM_URL, PROM_URL.replace(".monitoring.", ".observability.")),
            (DEV, "    namespace: monitoring\n", "    namespace: observability\n"),
        ),
    ),
    Change(
        "An SRE moves Phoenix to a tracing namespace with its endpoint.",
        (
            (PROD, PHOENIX, _in(PHOENIX, "tracing")),
            (PROD, DEV_PHOENIX, DEV_PHOENIX.replace(".observability.", ".tracing.")),
        ),
    ),
    Change(
        "A platform engineer moves Redis to platform-redis with its URL.",
        (
            (STAGING, REDIS, _in(REDIS, "platform-redis")),
            (STAGING, REDIS_URL, REDIS_URL.replace(".redis.", ".platform-redis.")),
        ),
    ),
    Change(
        "An SRE points Prometheus at the operator's prometheus-operated Service with the "
        "cluster domain spelled out.",
        ((PROD, PROM_URL, "url: http://prometheus-operated.monitoring.svc.cluster.local:9090"),),
    ),
    Change(
        "A platform engineer takes the kube-prometheus-stack, Phoenix and Redis patch releases.",
        (
            (
                DEV,
                "kube-prometheus-stack, version: 79.0.0",
                "kube-prometheus-stack, version: 79.0.1",
            ),
            (DEV, "phoenix-helm, version: 4.0.0", "phoenix-helm, version: 4.0.1"),
            (DEV, "chart: redis, version: 23.0.0", "chart: redis, version: 23.0.1"),
        ),
    ),
    Change(
        "An SRE switches dev's tracing from gRPC to OTLP/HTTP, port and path included.",
        (
            (DEV, DEV_PHOENIX, STAGING_PHOENIX),
            (DEV, "    protocol: grpc", "    protocol: http/protobuf"),
        ),
    ),
    Change(
        "A platform engineer writes the Redis host in its short <service>.<namespace> form.",
        ((PROD, REDIS_URL, "redisURL: redis-master.redis:6379"),),
    ),
    Change(
        "A platform engineer installs the AI gateway controller into its own namespace.",
        ((STAGING, AI_GATEWAY, _in(AI_GATEWAY, "ai-gateway")),),
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
