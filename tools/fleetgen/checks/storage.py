"""Storage and GPUs of one descriptor agree with what it claims: FG950, FG951, FG953, FG954.

- FG950: the storageUri names another catalog model than `model.catalog`: the fit, the
  KV-cache sizing and the alerts are computed for one model while vLLM loads another.
- FG951: the local model cache is smaller than the weights it must hold.
- FG953: parallelism flags in extraArgs multiply the GPUs vLLM wants beyond what the pod
  requests (vLLM fails at start, waiting for devices that are not there).
- FG954: the CPU KV-cache tier (LMCache's local CPU buffer, per GPU worker) does not fit in the
  pod's memory limit: the pod is OOM-killed once the tier fills.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.fitting import fit_placement
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.catalog.models import MODELS
from fleetgen.knowledge.runtime_contract import canonical_flag
from fleetgen.loading.fleet import Fleet, focused_placements

__all__ = ["check_storage", "quantity_bytes"]

GIB = 1024**3
_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "Pi": 1024**5,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")
# Suffixes a quantized or converted checkpoint adds to the base model's repository name.
_VARIANT = re.compile(
    r"(-(fp8|fp8-dynamic|int4|int8|awq|gptq|gguf|w8a8|w4a16|w8a16|nvfp4|mxfp4|bnb-4bit|"
    r"quantized\.w8a8|quantized\.w4a16))+$"
)
DATA_PARALLEL = "--data-parallel-size"
DATA_PARALLEL_LOCAL = "--data-parallel-size-local"


def quantity_bytes(text: str) -> float | None:
    """A Kubernetes quantity ("64Gi", "1.5T") in bytes; None when it is not one."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2) or ""
    return number / 1000 if unit == "m" else number * _UNITS[unit]


def _repo_name(uri: str) -> str:
    """The model name a storage URI ends in, without a quantization suffix, lower case."""
    last = [part for part in uri.split("?", 1)[0].split("/") if part][-1:] or [""]
    return _VARIANT.sub("", last[0].lower())


def _catalog_by_name() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for arch in MODELS.values():
        found.setdefault(arch.hf_repo.rsplit("/", 1)[-1].lower(), set()).add(arch.id)
    return found


def _storage(p: Placement, by_name: dict[str, set[str]]) -> Iterator[Diagnostic]:
    model = p.descriptor.model
    claimed = MODELS.get(model.catalog) if model.catalog else None
    if claimed is None:
        return  # an architecture instead of a catalog id, or FG207
    named = by_name.get(_repo_name(model.storage_uri), set())
    if named and claimed.id not in named:
        other = sorted(named)[0]
        yield diag(
            "FG950",
            f"storageUri {model.storage_uri!r} holds {MODELS[other].hf_repo} (catalog "
            f"{other}), but model.catalog says {claimed.id} ({claimed.hf_repo}): the GPU fit "
            "and KV-cache sizing are for another model than vLLM loads",
            p.descriptor.source.at("spec", "model", "storageUri"),
            hint="point storageUri at the claimed model's weights, or fix model.catalog",
        )


def _cache(p: Placement) -> Iterator[Diagnostic]:
    size = p.descriptor.cache_size
    if not p.descriptor.cache_enabled or size is None:
        return
    fitted = fit_placement(p)
    wanted = quantity_bytes(size)
    if fitted is None or wanted is None:
        return
    rt = p.descriptor.runtime
    weights = fitted.result.weights_per_gpu * rt.tensor_parallel * rt.pipeline_parallel
    if wanted < weights:
        yield diag(
            "FG951",
            f"cache.size {size} is below the model's {weights / GIB:.1f} GiB of weights: "
            "KServe cannot stage the model on the node and every pod downloads it again",
            p.descriptor.source.at("spec", "cache", "size"),
            hint=f"leave cache.size out (weights + 10%) or give at least {weights / GIB:.0f}Gi",
        )


def _flag_values(args: tuple[str, ...]) -> Iterator[tuple[int, str, str]]:
    """(index, long flag, value) of every `--flag=value` or `--flag value` argument."""
    for i, arg in enumerate(args):
        flag = canonical_flag(arg)
        if flag is None:
            continue
        if "=" in arg:
            yield i, flag, arg.split("=", 1)[1]
        elif i + 1 < len(args) and not args[i + 1].startswith("-"):
            yield i, flag, args[i + 1]


def _parallelism(p: Placement) -> Iterator[Diagnostic]:
    desc = p.descriptor
    if desc.resources.multi_node:
        return  # the GPUs of a replica span pods: vLLM's placement is the LeaderWorkerSet's
    found = {flag: (i, value) for i, flag, value in _flag_values(desc.runtime.extra_args)}
    chosen = found.get(DATA_PARALLEL_LOCAL) or found.get(DATA_PARALLEL)
    if chosen is None:
        return
    index, value = chosen
    if not value.isdigit():
        return  # vLLM refuses it at start; the flag check owns its syntax
    rt = desc.runtime
    wanted = int(value) * rt.tensor_parallel * rt.pipeline_parallel
    if wanted != p.gpus_per_replica:
        yield diag(
            "FG953",
            f"{desc.runtime.extra_args[index]} makes vLLM start {value} engine(s) of "
            f"TP {rt.tensor_parallel} x PP {rt.pipeline_parallel} = {wanted} GPUs in each "
            f"pod, which requests {p.gpus_per_replica}",
            desc.source.at("spec", "runtime", "extraArgs", index),
            hint="replicas are the data parallelism of a pod-per-replica model: drop the flag "
            "and raise the replicas, or set gpusPerReplica to the product",
        )


def _cpu_tier(p: Placement) -> Iterator[Diagnostic]:
    desc = p.descriptor
    tier = desc.kv_cache.local_cpu_gib
    if not p.shared_kv_cache or tier <= 0:
        return
    memory = quantity_bytes(desc.resources.memory)
    if memory is None:
        return
    # LMCache keeps one CPU buffer per GPU worker process of the pod.
    total = tier * p.gpus_per_replica * GIB
    if total >= memory:
        yield diag(
            "FG954",
            f"the CPU KV tier takes {tier:g} GiB per GPU x {p.gpus_per_replica} GPUs = "
            f"{total / GIB:g} GiB, but the pod's memory limit is {desc.resources.memory}: the "
            "pod is OOM-killed once the tier fills",
            desc.source.at("spec", "kvCache", "shared", "localCpuGiB"),
            hint="lower kvCache.shared.localCpuGiB or raise resources.memory (the weights "
            "also pass through CPU memory while loading)",
        )


def check_storage(fleet: Fleet) -> Iterator[Diagnostic]:
    by_name = _catalog_by_name()
    seen: set[str] = set()
    tiered: set[str] = set()
    for p in focused_placements(fleet):
        name = p.descriptor.name
        if name not in seen:  # facts of the descriptor alone: once, not per environment
            seen.add(name)
            yield from _storage(p, by_name)
            yield from _cache(p)
            yield from _parallelism(p)
        if name not in tiered:
            found = list(_cpu_tier(p))  # the tier is on only where kvCache.shared is
            if found:
                tiered.add(name)
                yield from found
