"""What an rendered LLMInferenceService amounts to once KServe merges its presets: the presets
it names, the parallelism vLLM is given, the pool it creates and the port vLLM listens on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgen.knowledge.kserve import llmisvc
from fleetgen.knowledge.kserve.llmisvc import Preset
from fleetgen.rendered.build import RenderedObject

DEFAULT_PORT = 8000  # the template preset's containerPort and the scheduler's targetPort


def spec(service: RenderedObject) -> dict[str, Any]:
    found: dict[str, Any] = service.doc.get("spec") or {}
    return found


def base_refs(service: RenderedObject) -> list[str]:
    return [str(r.get("name", "")) for r in spec(service).get("baseRefs") or []]


def known_presets(service: RenderedObject) -> list[Preset]:
    return [p for p in map(llmisvc.preset, base_refs(service)) if p is not None]


def parallelism(service: RenderedObject) -> dict[str, Any]:
    found: dict[str, Any] = spec(service).get("parallelism") or {}
    return found


def llmisvc_port(service: RenderedObject) -> int:
    """The port vLLM serves on: the first named workload preset's containerPort."""
    for preset in known_presets(service):
        if preset.ports and "template" in preset.workloads:
            return preset.ports[0]
    return DEFAULT_PORT


def pool_spec(service: RenderedObject) -> Mapping[str, Any]:
    pool = ((spec(service).get("router") or {}).get("scheduler") or {}).get("pool") or {}
    found: Mapping[str, Any] = pool.get("spec") or {}
    return found


def pool_ref(service: RenderedObject) -> str | None:
    pool = ((spec(service).get("router") or {}).get("scheduler") or {}).get("pool") or {}
    ref = (pool.get("ref") or {}).get("name")
    return str(ref) if ref else None


def managed_pool_selector(service: RenderedObject) -> dict[str, str] | None:
    """The selector of the pool KServe creates: the scheduler preset's, with the service's own
    pool spec merged over it (maps merge key by key); None when no pool is created."""
    if pool_ref(service) is not None or "scheduler" not in spec(service).get("router", {}):
        return None
    merged: dict[str, str] | None = None
    for preset in known_presets(service):
        if preset.pool_selector is not None:
            merged = {**(merged or {}), **llmisvc.selector_for(preset.pool_selector, service.name)}
    own = (pool_spec(service).get("selector") or {}).get("matchLabels")
    if own:
        merged = {**(merged or {}), **{str(k): str(v) for k, v in own.items()}}
    return merged


def multi_node(service: RenderedObject) -> bool:
    """A worker template (the service's or a preset's): KServe runs a LeaderWorkerSet."""
    return bool(spec(service).get("worker")) or any(
        "worker" in p.workloads for p in known_presets(service)
    )


def workload_kind(service: RenderedObject) -> tuple[str, str]:
    """(apiVersion, kind) of the main workload: a LeaderWorkerSet when a worker is set."""
    return llmisvc.LEADER_WORKER_SET if multi_node(service) else llmisvc.DEPLOYMENT


def workload(service: RenderedObject) -> tuple[str, str, str]:
    """(apiVersion, kind, name) of the object KServe creates for the main workload."""
    return llmisvc.workload(service.name, multi_node(service))


def pod_labels(service: RenderedObject) -> dict[str, str]:
    """Labels of the pods vLLM serves on: the controller's, plus spec.labels it propagates
    to the pod template (workload_single_node.go, PropagateMap of spec.labels)."""
    own = {str(k): str(v) for k, v in (spec(service).get("labels") or {}).items()}
    return {**own, **llmisvc.pod_labels(service.name, multi_node(service))}


def all_refs_known(service: RenderedObject) -> bool:
    return len(known_presets(service)) == len(base_refs(service))
