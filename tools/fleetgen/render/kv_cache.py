"""The shared KV-cache tier of one model: LMCache in vLLM plus the model's Redis.

Fills base/components/kv-cache. The Redis address LMCache dials is naming.kv_cache_url, the
same derivation as the Service's name and port, so the two cannot drift apart.
"""

from __future__ import annotations

from fleetgen.domain import naming
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.runtime_contract import LMCACHE_CONNECTOR
from fleetgen.render.patches import Patch, pointer

COMPONENT = "kv-cache"
CONNECTOR = LMCACHE_CONNECTOR
# Redis needs memory above --maxmemory for fragmentation, client buffers and its own process.
MAXMEMORY_SHARE = 0.8
_UNITS = {"Mi": 1024**2, "Gi": 1024**3}
# Lengths of the InferenceService lists before this component appends to them: the base's,
# plus the tracing component's when that runs first (base/README.md).
_BASE_ARGS, _BASE_ENV = 4, 3
_TRACING_ARGS, _TRACING_ENV = 1, 5
# The base NetworkPolicy has three egress rules; the component appends the Redis one.
EGRESS_INDEX = 3
SELECTOR = "fleetgen.dev/kv-cache"


def maxmemory_bytes(memory: str) -> int:
    """Redis --maxmemory for a container memory limit such as "16Gi" (schema: Mi or Gi)."""
    return int(int(memory[:-2]) * _UNITS[memory[-2:]] * MAXMEMORY_SHARE)


def list_positions(traced: bool) -> tuple[int, int]:
    """Index of the appended --kv-transfer-config arg and of the first LMCACHE_* env var."""
    if traced:
        return _BASE_ARGS + _TRACING_ARGS, _BASE_ENV + _TRACING_ENV
    return _BASE_ARGS, _BASE_ENV


def connector_config(p: Placement, *, traced: bool) -> Patch:
    """LMCache settings on the InferenceService (the component appended them)."""
    desc, shared = p.descriptor, p.descriptor.kv_cache
    origin = desc.source.at("spec", "kvCache", "shared")
    patch = Patch("serving.kserve.io", "v1beta1", "InferenceService", "model")
    _, first = list_positions(traced)
    env = ("spec", "predictor", "model", "env")
    values = (
        naming.kv_cache_url(desc.name, p.namespace),
        "naive",
        str(shared.chunk_size),
        "True" if shared.local_cpu_gib > 0 else "False",
        f"{shared.local_cpu_gib:g}",
    )
    for index, value in enumerate(values, start=first):
        patch.replace(pointer(*env, index, "value"), value, origin=origin)
    return patch


def select_redis(policy: Patch, p: Placement) -> None:
    """The predictor's egress rule to its Redis (run before any rule is removed)."""
    label = ("to", 0, "podSelector", "matchLabels", SELECTOR)
    policy.replace(pointer("spec", "egress", EGRESS_INDEX, *label), naming.isvc(p.descriptor.name))


def redis_objects(deployment: Patch, service: Patch, policy: Patch, p: Placement) -> list[Patch]:
    """Fill the Redis Deployment, Service and NetworkPolicy (already renamed and namespaced)."""
    desc = p.descriptor
    isvc, memory = naming.isvc(desc.name), desc.kv_cache.memory
    origin = desc.source.at("spec", "kvCache", "shared", "memory")
    for path in ("/spec/selector/matchLabels", "/spec/template/metadata/labels"):
        deployment.replace(pointer(*path.strip("/").split("/"), SELECTOR), isvc)
    container = ("spec", "template", "spec", "containers", 0)
    deployment.replace(pointer(*container, "args", 3), str(maxmemory_bytes(memory)), origin=origin)
    deployment.replace(
        pointer(*container, "resources"),
        {"requests": {"cpu": "1", "memory": memory}, "limits": {"memory": memory}},
        origin=origin,
    )
    service.replace(pointer("spec", "selector", SELECTOR), isvc)
    policy.replace(pointer("spec", "podSelector", "matchLabels", SELECTOR), isvc)
    predictor = ("spec", "ingress", 0, "from", 0, "podSelector", "matchLabels")
    policy.replace(pointer(*predictor, "serving.kserve.io/inferenceservice"), isvc)
    return [deployment, service, policy]
