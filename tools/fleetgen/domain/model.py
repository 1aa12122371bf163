"""The frozen, typed model of a fleet: descriptors, environments and where they came from.

Built only from schema-valid data with defaults applied (see loading.schema), so builders
index without checks. Nothing downstream mutates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fleetgen.core.diagnostics import Location
from fleetgen.core.positions import PathPart, Positions

API_VERSION = "fleetgen.dev/v1alpha1"


@dataclass(frozen=True, slots=True)
class Source:
    """The file a model object was read from, to point diagnostics at its lines."""

    path: str
    positions: Positions
    data: Mapping[str, Any] = field(default_factory=dict)  # the raw document, for value scans

    def at(self, *path: PathPart) -> Location:
        """Location of the value at `path`."""
        line, column = self.positions.value(path)
        return Location(self.path, line, column)

    def key_at(self, *path: PathPart) -> Location:
        """Location of the key holding `path`."""
        line, column = self.positions.key(path)
        return Location(self.path, line, column)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


# --- descriptor --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Architecture:
    """Facts that size a model in GPU memory."""

    params: float
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    active_params: float | None = None
    hidden_size: int | None = None
    max_context: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None


@dataclass(frozen=True, slots=True)
class ModelSource:
    catalog: str | None
    architecture: Architecture | None
    storage_uri: str
    served_name: str
    aliases: tuple[str, ...]
    revision: str | None
    dtype: str
    quantization: str


@dataclass(frozen=True, slots=True)
class Runtime:
    image: str
    vllm_version: str | None
    max_model_len: int
    tensor_parallel: int
    pipeline_parallel: int
    gpu_memory_utilization: float
    max_num_seqs: int
    kv_cache_dtype: str
    prefix_caching: bool
    extra_args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resources:
    gpu_pool: str
    gpu_type: str | None
    gpus_per_replica: int
    multi_node: bool
    cpu: str
    memory: str


INFERENCE_SERVICE = "InferenceService"
LLM_INFERENCE_SERVICE = "LLMInferenceService"


@dataclass(frozen=True, slots=True)
class Serving:
    """The KServe API a model is served through, and LLMInferenceService-only settings."""

    api: str
    base_refs: tuple[str, ...] | None  # None: the defaults for the parallelism asked
    data_parallel: int | None
    data_local: int | None
    expert_parallel: bool | None
    pool: str | None  # an existing InferencePool instead of the managed one


@dataclass(frozen=True, slots=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    metric: str
    target_per_pod: float
    polling_interval: int
    cooldown_period: int
    scale_to_zero: bool
    activation_threshold: float | None


@dataclass(frozen=True, slots=True)
class TenantBudget:
    name: str
    tokens: int
    unit: str


@dataclass(frozen=True, slots=True)
class Alerts:
    queue_depth: int
    kv_cache_usage: float
    ttft_p95_seconds: float
    error_rate: float


@dataclass(frozen=True, slots=True)
class Observability:
    tracing: bool
    sampling: float
    alerts: Alerts
    dashboard: bool


@dataclass(frozen=True, slots=True)
class SharedKvCache:
    """LMCache with a Redis tier shared by the model's replicas (one Redis per namespace)."""

    enabled: bool
    memory: str  # Redis memory request = limit, e.g. "16Gi"
    local_cpu_gib: float  # LMCache CPU tier per GPU worker; 0 = off
    chunk_size: int


@dataclass(frozen=True, slots=True)
class EnvironmentOverride:
    """What differs for one environment; None means the descriptor's value."""

    lifecycle: str | None
    clusters: tuple[str, ...] | None
    gpu_pool: str | None
    image: str | None
    min_replicas: int | None
    max_replicas: int | None
    kv_cache_shared: bool | None
    serving_api: str | None = None


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One model descriptor (fleet/<name>.yaml)."""

    name: str
    team: str
    contact: str
    description: str | None
    lifecycle: str
    model: ModelSource
    runtime: Runtime
    resources: Resources
    serving: Serving
    autoscaling: Autoscaling
    tenants: tuple[TenantBudget, ...]
    cache_enabled: bool
    cache_size: str | None
    kv_cache: SharedKvCache
    observability: Observability
    environments: Mapping[str, EnvironmentOverride]
    source: Source

    @property
    def active(self) -> bool:
        return self.lifecycle == "active"

    def active_in(self, env: str) -> bool:
        """Deployed to `env`: listed there and retired neither as a whole nor there."""
        override = self.environments.get(env)
        if override is None:
            return False
        return (override.lifecycle or self.lifecycle) == "active"

    @property
    def served_names(self) -> tuple[str, ...]:
        return (self.model.served_name, *self.model.aliases)


def _architecture(data: Mapping[str, Any] | None) -> Architecture | None:
    if data is None:
        return None
    mla = data.get("mla") or {}
    return Architecture(
        params=float(data["params"]),
        layers=data["layers"],
        attention_heads=data["attentionHeads"],
        kv_heads=data["kvHeads"],
        head_dim=data["headDim"],
        active_params=data.get("activeParams"),
        hidden_size=data.get("hiddenSize"),
        max_context=data.get("maxContext"),
        kv_lora_rank=mla.get("kvLoraRank"),
        qk_rope_head_dim=mla.get("qkRopeHeadDim"),
    )


def _serving(data: Mapping[str, Any]) -> Serving:
    parallel = data.get("parallelism") or {}
    refs = data.get("baseRefs")
    return Serving(
        api=data.get("api", INFERENCE_SERVICE),
        base_refs=tuple(refs) if refs is not None else None,
        data_parallel=parallel.get("data"),
        data_local=parallel.get("dataLocal"),
        expert_parallel=parallel.get("expert"),
        pool=data.get("pool"),
    )


def descriptor_from(data: Mapping[str, Any], source: Source) -> Descriptor:
    """Build a Descriptor from schema-valid data with defaults applied."""
    meta, spec = data["metadata"], data["spec"]
    model, runtime, res = spec["model"], spec["runtime"], spec["resources"]
    scale, obs = spec["autoscaling"], spec["observability"]
    alerts, tracing = obs["alerts"], obs["tracing"]
    return Descriptor(
        name=meta["name"],
        team=meta["team"],
        contact=meta["contact"],
        description=meta.get("description"),
        lifecycle=spec["lifecycle"],
        model=ModelSource(
            catalog=model.get("catalog"),
            architecture=_architecture(model.get("architecture")),
            storage_uri=model["storageUri"],
            served_name=model["servedName"],
            aliases=tuple(model.get("aliases", ())),
            revision=model.get("revision"),
            dtype=model["dtype"],
            quantization=model["quantization"],
        ),
        runtime=Runtime(
            image=runtime["image"],
            vllm_version=runtime.get("vllmVersion"),
            max_model_len=runtime["maxModelLen"],
            tensor_parallel=runtime["tensorParallel"],
            pipeline_parallel=runtime["pipelineParallel"],
            gpu_memory_utilization=float(runtime["gpuMemoryUtilization"]),
            max_num_seqs=runtime["maxNumSeqs"],
            kv_cache_dtype=runtime["kvCacheDtype"],
            prefix_caching=runtime["prefixCaching"],
            extra_args=tuple(runtime.get("extraArgs", ())),
        ),
        resources=Resources(
            gpu_pool=res["gpuPool"],
            gpu_type=res.get("gpuType"),
            gpus_per_replica=res["gpusPerReplica"],
            multi_node=res["multiNode"],
            cpu=str(res["cpu"]),
            memory=str(res["memory"]),
        ),
        serving=_serving(spec.get("serving") or {}),
        autoscaling=Autoscaling(
            min_replicas=scale["minReplicas"],
            max_replicas=scale["maxReplicas"],
            metric=scale["metric"],
            target_per_pod=float(scale["targetPerPod"]),
            polling_interval=scale["pollingInterval"],
            cooldown_period=scale["cooldownPeriod"],
            scale_to_zero=scale["scaleToZero"],
            activation_threshold=scale.get("activationThreshold"),
        ),
        tenants=tuple(
            TenantBudget(t["name"], t["tokens"], t["unit"])
            for t in spec["gateway"].get("tenants", ())
        ),
        cache_enabled=spec["cache"]["enabled"],
        cache_size=spec["cache"].get("size"),
        kv_cache=SharedKvCache(
            enabled=spec["kvCache"]["shared"]["enabled"],
            memory=spec["kvCache"]["shared"]["memory"],
            local_cpu_gib=float(spec["kvCache"]["shared"]["localCpuGiB"]),
            chunk_size=spec["kvCache"]["shared"]["chunkSize"],
        ),
        observability=Observability(
            tracing=tracing["enabled"],
            sampling=float(tracing["sampling"]),
            alerts=Alerts(
                queue_depth=alerts["queueDepth"],
                kv_cache_usage=float(alerts["kvCacheUsage"]),
                ttft_p95_seconds=float(alerts["ttftP95Seconds"]),
                error_rate=float(alerts["errorRate"]),
            ),
            dashboard=obs["dashboard"],
        ),
        environments=_frozen(
            {
                env: EnvironmentOverride(
                    lifecycle=o.get("lifecycle"),
                    clusters=tuple(o["clusters"]) if "clusters" in o else None,
                    gpu_pool=o.get("gpuPool"),
                    image=o.get("image"),
                    min_replicas=o.get("replicas", {}).get("min"),
                    max_replicas=o.get("replicas", {}).get("max"),
                    kv_cache_shared=o.get("kvCache", {}).get("shared", {}).get("enabled"),
                    serving_api=o.get("serving", {}).get("api"),
                )
                for env, o in spec["environments"].items()
            }
        ),
        source=source,
    )
