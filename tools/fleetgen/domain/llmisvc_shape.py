"""The shape of a model's LLMInferenceService, from its descriptor: the presets it builds on,
the spec.parallelism fleetgen renders, and what KServe makes of them (workload kind, pods per
replica). The generator, the descriptor checks and the capacity ledger all read it here."""

from __future__ import annotations

from typing import Any

from fleetgen.domain.model import Descriptor
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.knowledge.kserve.llmisvc import Preset


def base_refs(desc: Descriptor) -> tuple[str, ...]:
    """The presets the service builds on: the descriptor's, else the defaults for its shape."""
    serving = desc.serving
    if serving.base_refs is not None:
        return serving.base_refs
    data_parallel = serving.data_parallel is not None or serving.data_local is not None
    refs = [llmisvc.WORKER_DATA_PARALLEL if data_parallel else llmisvc.TEMPLATE]
    if serving.pool is None:
        refs.append(llmisvc.SCHEDULER)
    return tuple(refs)


def parallelism(desc: Descriptor) -> dict[str, Any]:
    """spec.parallelism as the descriptor asks; a field left at its default is not set."""
    rt, serving = desc.runtime, desc.serving
    found: dict[str, Any] = {"tensor": rt.tensor_parallel}
    if rt.pipeline_parallel > 1:
        found["pipeline"] = rt.pipeline_parallel
    if serving.data_parallel is not None:
        found["data"] = serving.data_parallel
    if serving.data_local is not None:
        found["dataLocal"] = serving.data_local
    if serving.expert_parallel:
        found["expert"] = True
    return found


def known_presets(desc: Descriptor) -> list[Preset]:
    return [p for p in map(llmisvc.preset, base_refs(desc)) if p is not None]


def multi_node(desc: Descriptor) -> bool:
    """A preset with a worker template: KServe runs a LeaderWorkerSet, not a Deployment."""
    return any("worker" in p.workloads for p in known_presets(desc))


def pods_per_replica(desc: Descriptor) -> int:
    """Pods in one replica: a LeaderWorkerSet group of KServe's parallelism size, else 1."""
    return llmisvc.parallelism_size(parallelism(desc)) if multi_node(desc) else 1


def gpus_per_pod(desc: Descriptor) -> int:
    """GPUs one vLLM pod needs: tensor x pipeline x data-parallel ranks per pod."""
    rt, serving = desc.runtime, desc.serving
    return rt.tensor_parallel * rt.pipeline_parallel * (serving.data_local or 1)
