"""Where each model runs: one Placement per (descriptor, environment, cluster).

Overrides are resolved here once, so checks, the capacity ledger and the generator agree on
the image, pool and replica bounds of every app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fleetgen.core.diagnostics import Location
from fleetgen.domain import llmisvc_shape
from fleetgen.domain.environment import Cluster, Environment, Pool
from fleetgen.domain.model import LLM_INFERENCE_SERVICE, Descriptor, EnvironmentOverride
from fleetgen.knowledge.runtime_contract import vllm_version_from_image


@dataclass(frozen=True, slots=True)
class Placement:
    """One model on one cluster of one environment, with overrides applied."""

    descriptor: Descriptor
    environment: Environment
    cluster: Cluster
    override: EnvironmentOverride
    pool_name: str
    image: str
    min_replicas: int
    max_replicas: int
    shared_kv_cache: bool

    @property
    def pool(self) -> Pool | None:
        return self.cluster.pool(self.pool_name)

    @property
    def vllm_version(self) -> str | None:
        """The vLLM release the placement runs: the image tag, else runtime.vllmVersion."""
        return vllm_version_from_image(self.image) or self.descriptor.runtime.vllm_version

    @property
    def serving_api(self) -> str:
        """InferenceService or LLMInferenceService: the override, else serving.api."""
        return self.override.serving_api or self.descriptor.serving.api

    @property
    def llmisvc(self) -> bool:
        return self.serving_api == LLM_INFERENCE_SERVICE

    def serving_api_at(self) -> Location:
        src, env = self.descriptor.source, self.environment.name
        if self.override.serving_api is not None:
            return src.at("spec", "environments", env, "serving", "api")
        return src.at("spec", "serving", "api")

    @property
    def namespace(self) -> str:
        return self.environment.namespace

    @property
    def gpus_per_pod(self) -> int:
        return self.descriptor.resources.gpus_per_replica

    @property
    def gpus_per_replica(self) -> int:
        """GPUs one replica holds: a multi-node LLMInferenceService replica is a group of pods."""
        pods = llmisvc_shape.pods_per_replica(self.descriptor) if self.llmisvc else 1
        return self.gpus_per_pod * pods

    def replicas_at(self, bound: str) -> Location:
        """Where a replica bound ("min" or "max") is set: the override, else autoscaling."""
        src, env = self.descriptor.source, self.environment.name
        overridden = self.override.min_replicas if bound == "min" else self.override.max_replicas
        if overridden is not None:
            return src.at("spec", "environments", env, "replicas", bound)
        return src.at("spec", "autoscaling", f"{bound}Replicas")

    def shared_kv_cache_at(self) -> Location:
        """Where the shared KV-cache tier is switched: the override, else kvCache.shared."""
        src, env = self.descriptor.source, self.environment.name
        if self.override.kv_cache_shared is not None:
            return src.at("spec", "environments", env, "kvCache", "shared", "enabled")
        return src.at("spec", "kvCache", "shared", "enabled")


def placements_of(descriptor: Descriptor, env: Environment) -> Iterator[Placement]:
    """The placements of one descriptor in one environment (unknown clusters skipped)."""
    override = descriptor.environments.get(env.name)
    if override is None:
        return
    names = override.clusters or tuple(c.name for c in env.clusters)
    scale = descriptor.autoscaling
    for name in names:
        cluster = env.cluster(name)
        if cluster is None:
            continue
        yield Placement(
            descriptor=descriptor,
            environment=env,
            cluster=cluster,
            override=override,
            pool_name=override.gpu_pool or descriptor.resources.gpu_pool,
            image=override.image or descriptor.runtime.image,
            min_replicas=(
                override.min_replicas if override.min_replicas is not None else scale.min_replicas
            ),
            max_replicas=(
                override.max_replicas if override.max_replicas is not None else scale.max_replicas
            ),
            shared_kv_cache=(
                override.kv_cache_shared
                if override.kv_cache_shared is not None
                else descriptor.kv_cache.enabled
            ),
        )
