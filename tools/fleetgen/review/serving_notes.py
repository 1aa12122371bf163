"""What a reviewer must know when a model changes how KServe serves it: a switch between
InferenceService and LLMInferenceService (traffic moves to another backend), and a change
KServe cannot apply in place (its webhook refuses a new total parallelism size; a new
workload kind replaces every pod). Pure functions of both revisions' placements and rendered
objects; the facts are fleetgen.knowledge.kserve's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from fleetgen.domain import naming
from fleetgen.domain.model import INFERENCE_SERVICE
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.kserve import llmisvc

Doc = Mapping[str, Any]
K = TypeVar("K")


def _backend(p: Placement) -> str:
    name = naming.isvc(p.descriptor.name)
    if p.serving_api == INFERENCE_SERVICE:
        return f"the Backend of InferenceService {name}"
    pool = p.descriptor.serving.pool or naming.llmisvc_pool(p.descriptor.name)
    return f"InferencePool {pool} of LLMInferenceService {name}"


def serving_api_notes(before: Mapping[K, Placement], after: Mapping[K, Placement]) -> Iterator[str]:
    """One note per app whose serving API changes: the route moves to the other backend."""
    for key in sorted(before.keys() & after.keys(), key=str):
        old, new = before[key], after[key]
        if old.serving_api == new.serving_api:
            continue
        app = naming.app_name(new.environment.name, new.cluster.name, new.descriptor.name)
        yield (
            f"{app}: serving API {old.serving_api} → {new.serving_api}: the route moves from "
            f"{_backend(old)} to {_backend(new)}; Argo CD prunes the old objects while the new "
            "pods still load the model, so requests fail until they are ready (switch one "
            "environment or cluster at a time, outside peak hours)"
        )


def _services(docs: Iterable[Doc]) -> dict[tuple[str, str], Doc]:
    return {
        (str(d["metadata"].get("namespace", "")), str(d["metadata"]["name"])): d
        for d in docs
        if d.get("kind") == llmisvc.KIND and isinstance(d.get("metadata"), Mapping)
    }


def _multi_node(doc: Doc) -> bool:
    spec = doc.get("spec") or {}
    refs = [llmisvc.preset(str(r.get("name", ""))) for r in spec.get("baseRefs") or []]
    return bool(spec.get("worker")) or any(p is not None and "worker" in p.workloads for p in refs)


def recreate_notes(app: str, old_docs: Iterable[Doc], new_docs: Iterable[Doc]) -> Iterator[str]:
    """Changes to an LLMInferenceService that KServe cannot roll in place."""
    before, after = _services(old_docs), _services(new_docs)
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        size = (
            llmisvc.parallelism_size(old_spec.get("parallelism")),
            llmisvc.parallelism_size(new_spec.get("parallelism")),
        )
        if size[0] != size[1]:
            yield (
                f"{app}: LLMInferenceService {key[1]} needs a recreate: its total parallelism "
                f"size changes {size[0]} → {size[1]} pods per replica, which KServe's webhook "
                f"refuses on update ({llmisvc.WEBHOOK_SOURCE}); the sync fails until the "
                "service is deleted and created again, and the model serves nothing in between"
            )
        kinds = (
            llmisvc.workload(key[1], _multi_node(old)),
            llmisvc.workload(key[1], _multi_node(new)),
        )
        if kinds[0] != kinds[1]:
            yield (
                f"{app}: KServe replaces {kinds[0][1]} {kinds[0][2]} with {kinds[1][1]} "
                f"{kinds[1][2]}: every vLLM pod of the model restarts at once, and the "
                "ScaledObject moves to the new workload"
            )
