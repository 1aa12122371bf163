"""Bridge from descriptors and placements to the catalog and the memory-fit arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from fleetgen.domain.model import Descriptor
from fleetgen.domain.placement import Placement
from fleetgen.domain.sizing import FitInput, FitResult, fit
from fleetgen.knowledge.catalog.gpus import GpuType, get_gpu
from fleetgen.knowledge.catalog.models import MLA, ModelArch, get_model

_NATIVE = {"auto": "bfloat16", "bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}


def resolve_arch(desc: Descriptor) -> ModelArch | None:
    """The architecture of a descriptor's model: from the catalog or from its own numbers."""
    if desc.model.catalog is not None:
        return get_model(desc.model.catalog)
    arch = desc.model.architecture
    if arch is None:
        return None
    mla = (
        MLA(arch.kv_lora_rank, arch.qk_rope_head_dim)
        if arch.kv_lora_rank is not None and arch.qk_rope_head_dim is not None
        else None
    )
    return ModelArch(
        id=desc.name,
        hf_repo="",
        params=arch.params,
        active_params=arch.active_params,
        layers=arch.layers,
        attention_heads=arch.attention_heads,
        kv_heads=arch.kv_heads,
        head_dim=arch.head_dim,
        hidden_size=arch.hidden_size or arch.attention_heads * arch.head_dim,
        max_context=arch.max_context or 0,
        native_dtype=_NATIVE[desc.model.dtype],
        mla=mla,
    )


@dataclass(frozen=True, slots=True)
class PlacementFit:
    """The memory fit of one placement on its pool's GPU type."""

    placement: Placement
    arch: ModelArch
    gpu: GpuType
    result: FitResult


def fit_placement(p: Placement) -> PlacementFit | None:
    """Fit one placement, or None when the model, pool or GPU type is unknown."""
    arch, pool = resolve_arch(p.descriptor), p.pool
    gpu = get_gpu(pool.gpu) if pool is not None else None
    if arch is None or gpu is None:
        return None
    rt, model = p.descriptor.runtime, p.descriptor.model
    result = fit(
        FitInput(
            arch=arch,
            dtype=model.dtype,
            quantization=None if model.quantization == "none" else model.quantization,
            kv_cache_dtype=rt.kv_cache_dtype,
            tensor_parallel=rt.tensor_parallel,
            pipeline_parallel=rt.pipeline_parallel,
            max_model_len=rt.max_model_len,
            max_num_seqs=rt.max_num_seqs,
            gpu_memory_utilization=rt.gpu_memory_utilization,
            gpu=gpu,
        )
    )
    return PlacementFit(p, arch, gpu, result)
