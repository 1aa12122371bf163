"""Curated port facts of the programs fleetgen wires together, each with where it was read.

Not derived: these are program defaults and protocol conventions written in their docs and
argument parsers, not in any file fleetgen imports. KServe's own ports are derived
(knowledge/kserve/data/predictor.json and presets.json).
"""

from __future__ import annotations

from types import MappingProxyType

# vLLM's OpenAI server: `--port` (vllm/entrypoints/openai/cli_args.py, default 8000); it serves
# the API, /health and Prometheus' /metrics on that one port.
VLLM_PORT_FLAG = "--port"
VLLM_DEFAULT_PORT = 8000
VLLM_METRICS_PATH = "/metrics"

# redis-server: `--port` overrides redis.conf's `port`, whose default is 6379 (redis.conf).
REDIS_SERVER = "redis-server"
REDIS_IMAGE = "redis:"
REDIS_PORT_FLAG = "--port"
REDIS_DEFAULT_PORT = 6379

# OTLP (opentelemetry-specification, protocol/exporter.md): gRPC on 4317, HTTP on 4318;
# Phoenix serves OTLP/HTTP on its UI port 6006 and gRPC on 4317 (arize.com/docs/phoenix,
# self-hosting/configuration). A signal-specific HTTP endpoint is used as-is, so it must
# carry the /v1/traces path; the generic OTEL_EXPORTER_OTLP_ENDPOINT gets it appended.
OTLP_PORT_PROTOCOL = MappingProxyType({4317: "grpc", 4318: "http", 6006: "http"})
OTLP_TRACES_PATH = "/v1/traces"
# vLLM exports traces over gRPC unless OTEL_EXPORTER_OTLP_TRACES_PROTOCOL says http/protobuf
# (vllm/tracing.py get_span_exporter).
VLLM_OTLP_DEFAULT_PROTOCOL = "grpc"
OTLP_PROTOCOL_ENV = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
OTLP_TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"


def otlp_family(protocol: str) -> str:
    """`grpc` or `http` for an OTEL_EXPORTER_OTLP_*_PROTOCOL value (http/protobuf, http/json)."""
    return "http" if protocol.startswith("http") else protocol
