"""FG411-FG419: a model on LLMInferenceService asks KServe's presets for what they deliver.

Which spec.parallelism field each preset hands to vLLM, and which presets run a multi-node
workload, are derived facts (fleetgen.knowledge.kserve); what the admission webhook refuses
is curated there. Findings point at the descriptor field the model owner set.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.checks.policy import image_location
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain import llmisvc_shape
from fleetgen.domain.model import Descriptor
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.knowledge.runtime_contract import (
    FLAGS_SET_BY_FLEETGEN,
    canonical_flag,
    contract_for,
)
from fleetgen.loading.fleet import Fleet, focused_placements
from fleetgen.loading.schema import did_you_mean

# spec.parallelism field -> the descriptor path that sets it.
_FIELDS = {
    "tensor": ("spec", "runtime", "tensorParallel"),
    "pipeline": ("spec", "runtime", "pipelineParallel"),
    "data": ("spec", "serving", "parallelism", "data"),
    "dataLocal": ("spec", "serving", "parallelism", "dataLocal"),
    "expert": ("spec", "serving", "parallelism", "expert"),
}
_WELL_KNOWN_PREFIX = "kserve-config-llm-"


def _refs_at(p: Placement) -> Location:
    src = p.descriptor.source
    if p.descriptor.serving.base_refs is not None:
        return src.at("spec", "serving", "baseRefs")
    return p.serving_api_at()


def _set_fields(desc: Descriptor) -> dict[str, object]:
    """The parallelism fields the owner asked for (tensor 1 is what vLLM does anyway)."""
    found = llmisvc_shape.parallelism(desc)
    if found.get("tensor") == 1:
        del found["tensor"]
    return found


def _ignored(p: Placement) -> Iterator[Diagnostic]:
    """FG412: a parallelism field no preset in baseRefs passes to vLLM."""
    desc = p.descriptor
    refs = llmisvc_shape.base_refs(desc)
    presets = llmisvc_shape.known_presets(desc)
    if len(presets) != len(refs):
        return  # a preset fleetgen has no facts for may consume it
    consumed = frozenset().union(*(pr.consumes for pr in presets))
    for name, value in _set_fields(desc).items():
        if name not in consumed:
            yield diag(
                "FG412",
                f"parallelism.{name} = {value} is passed to vLLM by none of the presets in "
                f"baseRefs ({', '.join(refs)}, KServe {llmisvc.source_tag()}) in "
                f"{p.environment.name}: it would be ignored while the pods keep their GPUs",
                desc.source.at(*_FIELDS[name]),
                hint="pick presets that consume it (serving.baseRefs), or drop the field",
            )


def _unknown_presets(p: Placement) -> Iterator[Diagnostic]:
    """FG413: a name in KServe's well-known prefix that is no well-known config."""
    desc = p.descriptor
    known = list(llmisvc.presets())
    for index, ref in enumerate(desc.serving.base_refs or ()):
        if ref.startswith(_WELL_KNOWN_PREFIX) and ref not in known:
            yield diag(
                "FG413",
                f"baseRefs names {ref!r}, which is no well-known LLMInferenceServiceConfig of "
                f"KServe {llmisvc.source_tag()}: the service would never reconcile",
                desc.source.at("spec", "serving", "baseRefs", index),
                hint=did_you_mean(ref, known) or f"KServe's configs: {', '.join(known)}",
            )


def _webhook(p: Placement) -> Iterator[Diagnostic]:
    """FG415: KServe's admission webhook would refuse the rendered spec.parallelism."""
    desc = p.descriptor
    for field, why in llmisvc.webhook_refusals(
        llmisvc_shape.parallelism(desc), llmisvc_shape.multi_node(desc)
    ):
        at = _refs_at(p) if field == "worker" else desc.source.at(*_FIELDS[field])
        yield diag(
            "FG415",
            f"KServe's webhook would refuse the LLMInferenceService in {p.environment.name}: {why}",
            at,
        )


def _ranks(p: Placement) -> Iterator[Diagnostic]:
    """FG416: data-parallel ranks that the pods KServe starts cannot all hold."""
    serving = p.descriptor.serving
    data, local = serving.data_parallel, serving.data_local
    if data is None or local is None or data % local == 0:
        return
    pods = llmisvc.parallelism_size({"data": data, "dataLocal": local})
    yield diag(
        "FG416",
        f"parallelism.data {data} is no multiple of dataLocal {local}: KServe starts {pods} "
        f"pod(s) of {local} ranks ({pods * local} ranks) and vLLM waits for {data}",
        p.descriptor.source.at("spec", "serving", "parallelism", "data"),
        hint=f"set data to a multiple of {local}",
    )


def _gpus(p: Placement) -> Iterator[Diagnostic]:
    """FG411 GPUs per pod vs tensor x pipeline x dataLocal; FG417 a pod larger than a node."""
    desc = p.descriptor
    local = desc.serving.data_local
    if local is None:
        return  # FG401 and FG402 hold for a pod without data-local ranks
    rt, wanted = desc.runtime, llmisvc_shape.gpus_per_pod(desc)
    if desc.resources.gpus_per_replica != wanted:
        yield diag(
            "FG411",
            f"gpusPerReplica is {desc.resources.gpus_per_replica}, but each pod runs tensor x "
            f"pipeline x dataLocal = {rt.tensor_parallel} x {rt.pipeline_parallel} x {local} "
            f"= {wanted} GPUs of vLLM workers",
            desc.source.at("spec", "resources", "gpusPerReplica"),
            hint=f"set gpusPerReplica: {wanted} (GPUs of one pod)",
        )
    pool = p.pool
    if pool is not None and wanted > pool.gpus_per_node:
        yield diag(
            "FG417",
            f"a pod runs {wanted} GPUs of workers (tensor x pipeline x dataLocal); pool "
            f"{p.environment.name}/{pool.name} has {pool.gpus_per_node} per node",
            desc.source.at("spec", "serving", "parallelism", "dataLocal"),
            hint="lower dataLocal (more pods per replica), or pick a pool with larger nodes",
        )


def _preset_flags(p: Placement) -> Iterator[Diagnostic]:
    """FG418 a preset flag the pinned vLLM refuses; FG419 extraArgs repeating a preset flag."""
    desc = p.descriptor
    passed: dict[str, str] = {}
    for preset in llmisvc_shape.known_presets(desc):
        for flag in preset.flags:
            passed.setdefault(flag, preset.name)
    version = p.vllm_version
    contract = contract_for(version) if version else None
    refused = sorted(f for f in passed if contract is not None and not contract.accepts_flag(f))
    if contract is not None and refused:
        presets = sorted({passed[f] for f in refused})
        yield diag(
            "FG418",
            f"vLLM {contract.version} does not accept {', '.join(refused)}, which "
            f"{', '.join(presets)} passes in {p.environment.name}: the pod exits at start",
            image_location(p),
            hint="pin a vLLM release that has these flags, or pick another preset",
        )
    for index, arg in enumerate(desc.runtime.extra_args):
        given = canonical_flag(arg)
        if given is None or given in FLAGS_SET_BY_FLEETGEN or given in llmisvc.TUNABLE_PRESET_FLAGS:
            continue  # FG506 reports the flags fleetgen sets itself
        if given in passed:
            yield diag(
                "FG419",
                f"{given} is passed by preset {passed[given]} from the LLMInferenceService's "
                "fields; this later copy wins, so vLLM no longer matches the pods KServe sized",
                desc.source.at("spec", "runtime", "extraArgs", index),
                hint="set serving.parallelism instead of the flag",
            )


def _on_inference_service(p: Placement) -> Iterator[Diagnostic]:
    """FG414: LLMInferenceService-only parallelism on an environment served otherwise."""
    serving, src = p.descriptor.serving, p.descriptor.source
    asked = [
        name
        for name, value in (
            ("data", serving.data_parallel),
            ("dataLocal", serving.data_local),
            ("expert", serving.expert_parallel),
        )
        if value
    ]
    if asked:
        yield diag(
            "FG414",
            f"serving.parallelism sets {', '.join(asked)}, but {p.environment.name} serves the "
            f"model through an InferenceService, which ignores it (the pod still requests "
            f"{p.gpus_per_pod} GPUs)",
            src.key_at("spec", "serving", "parallelism"),
            hint=f"serve {p.environment.name} through LLMInferenceService "
            f"(environments.{p.environment.name}.serving.api), or drop the field",
        )


def check_llmisvc(fleet: Fleet) -> Iterator[Diagnostic]:
    seen: set[tuple[str, str, int, int]] = set()
    for p in focused_placements(fleet):
        if p.llmisvc:
            found = [
                *_ignored(p),
                *_unknown_presets(p),
                *_webhook(p),
                *_ranks(p),
                *_gpus(p),
                *_preset_flags(p),
            ]
        else:
            found = list(_on_inference_service(p))
        for d in found:
            key = (d.code, d.location.file, d.location.line, d.location.column)
            if key not in seen:  # one finding per field, not per cluster
                seen.add(key)
                yield d
