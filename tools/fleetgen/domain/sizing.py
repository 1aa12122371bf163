"""Will a model fit on its GPUs under vLLM? Per-GPU memory arithmetic, no I/O.

The reference to beat is llm-d-benchmark's ``config_explorer/capacity_planner.py``. This
module keeps its empirically calibrated overhead constants but accounts per GPU where the
planner pools memory across GPUs:

* weights: quantized layers at the format's width, embeddings and LM head kept 16-bit (what
  fp8/int/awq/gptq checkpoints ship), expert-only formats (mxfp4) applied to experts only,
  and a checkpoint's own fp8/mxfp4 format used when no quantization is given;
* KV per GPU: KV heads split over TP but *replicated* once TP exceeds them, the MLA latent
  replicated on every TP rank (the planner divides both by TP, over-promising), and the
  busiest pipeline stage holding ``ceil(layers / PP)`` layers;
* overhead: charged on every GPU, not once per replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fleetgen.knowledge.catalog.gpus import GpuType
from fleetgen.knowledge.catalog.models import ModelArch

GIB = 1024**3

DTYPES: frozenset[str] = frozenset({"auto", "bfloat16", "float16", "float32"})
QUANTIZATIONS: frozenset[str] = frozenset(
    {
        "fp8",
        "int8",
        "awq",
        "gptq",
        "mxfp4",
        "compressed-tensors-w4a16",
        "compressed-tensors-w8a8",
        "compressed-tensors-w8a16",
    }
)
KV_CACHE_DTYPES: frozenset[str] = frozenset({"auto", "fp8", "fp8_e4m3", "fp8_e5m2"})

_DTYPE_BYTES = {"auto": 2.0, "bfloat16": 2.0, "float16": 2.0, "float32": 4.0}
# 4-bit formats carry scales: AWQ/GPTQ group 128 (fp16 scale + packed zero) and mxfp4
# (one 8-bit scale per 32 values) both come to ~4.25 bits per weight.
_QUANT_BYTES = {
    "fp8": 1.0,
    "int8": 1.0,
    "compressed-tensors-w8a8": 1.0,
    "compressed-tensors-w8a16": 1.0,
    "awq": 4.25 / 8,
    "gptq": 4.25 / 8,
    "compressed-tensors-w4a16": 4.25 / 8,
    "mxfp4": 4.25 / 8,
}
# Formats that compress only the routed experts (gpt-oss keeps attention in bf16).
_EXPERT_ONLY = frozenset({"mxfp4"})
_UNQUANTIZED_BYTES = 2.0  # embeddings/LM head and non-expert layers stay bf16

# Overhead per GPU, from capacity_planner.py and its empirical-vllm-memory-results.md on
# H100 at max_model_len 16k: the profiled activation peak is roughly constant per model
# type (dense 4.8-5.6 GiB, MoE 7.4 GiB, independent of max_model_len and of TP) and already
# includes CUDA-graph memory; non-torch memory is 0.13 GiB alone and 0.55 GiB with NCCL.
_ACTIVATION_DENSE = 5.5 * GIB
_ACTIVATION_MOE = 8.0 * GIB
_NON_TORCH_SINGLE = 0.15 * GIB
_NON_TORCH_DISTRIBUTED = 0.6 * GIB


@dataclass(frozen=True, slots=True)
class FitInput:
    """One deployment's memory-relevant settings."""

    arch: ModelArch
    dtype: str
    quantization: str | None
    kv_cache_dtype: str
    tensor_parallel: int
    pipeline_parallel: int
    max_model_len: int
    max_num_seqs: int
    gpu_memory_utilization: float
    gpu: GpuType


@dataclass(frozen=True, slots=True)
class FitResult:
    """Per-GPU memory budget of one deployment (all sizes in bytes)."""

    weights_per_gpu: int
    overhead_per_gpu: int
    budget_per_gpu: int
    kv_bytes_per_token: int
    kv_bytes_per_token_per_gpu: int
    kv_pool_per_gpu: int
    pool_tokens: int
    max_full_length_sequences: float
    starts: bool
    meets_concurrency: bool
    margin_bytes: int


def weight_bytes_per_param(dtype: str, quantization: str | None) -> float:
    """Bytes per weight of the quantized layers (or of every layer when unquantized).

    ``dtype`` "auto" means the 16-bit activation dtype: vLLM loads float32 checkpoints as
    16-bit unless told ``--dtype float32``.
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}")
    if quantization is None:
        return _DTYPE_BYTES[dtype]
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"unknown quantization {quantization!r}; expected one of {sorted(QUANTIZATIONS)}"
        )
    return _QUANT_BYTES[quantization]


def kv_dtype_bytes(kv_cache_dtype: str, model_dtype_bytes: float) -> float:
    """Bytes per KV element: "auto" follows the activation dtype, fp8 variants take 1.

    Pass the *activation* width as ``model_dtype_bytes`` (2 for bf16/fp16 models, also 2
    for fp8-weight models, whose activations stay 16-bit).
    """
    if kv_cache_dtype not in KV_CACHE_DTYPES:
        raise ValueError(
            f"unknown kv_cache_dtype {kv_cache_dtype!r}; expected one of {sorted(KV_CACHE_DTYPES)}"
        )
    return model_dtype_bytes if kv_cache_dtype == "auto" else 1.0


def kv_bytes_per_token(arch: ModelArch, kv_bytes: float) -> int:
    """KV cache bytes one token occupies in the whole model (all layers, all heads).

    K and V per KV head per layer; MLA stores one latent (kv_lora_rank + rope) per layer.
    """
    return _kv_bytes(arch, arch.layers, arch.kv_heads, kv_bytes)


def _kv_bytes(arch: ModelArch, layers: int, kv_heads: int, kv_bytes: float) -> int:
    if arch.mla is not None:
        return math.ceil(layers * (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * kv_bytes)
    return math.ceil(2 * layers * kv_heads * arch.head_dim * kv_bytes)


def effective_quantization(arch: ModelArch, quantization: str | None) -> str | None:
    """The weight format vLLM ends up using: an fp8/mxfp4 checkpoint is self-describing."""
    if quantization is None and arch.native_dtype in ("fp8", "mxfp4"):
        return arch.native_dtype
    return quantization


def _weights_per_gpu(inp: FitInput, quantization: str | None) -> int:
    arch, tp, pp = inp.arch, inp.tensor_parallel, inp.pipeline_parallel
    embed = float(min(arch.embedding_params, arch.params))
    if quantization is None:
        width = weight_bytes_per_param(inp.dtype, None)
        layer_bytes, embed_bytes = (arch.params - embed) * width, embed * width
    else:
        width = weight_bytes_per_param(inp.dtype, quantization)
        quantized = arch.params - embed
        if quantization in _EXPERT_ONLY and arch.expert_params is not None:
            quantized = arch.expert_params
        layer_bytes = quantized * width + (arch.params - embed - quantized) * _UNQUANTIZED_BYTES
        embed_bytes = embed * _UNQUANTIZED_BYTES
    # The busiest pipeline stage holds ceil(L/PP) layers plus one vocab x hidden matrix
    # (the first stage the embedding, the last the LM head); TP shards everything.
    stage_layers = math.ceil(arch.layers / pp) / arch.layers
    stage_embed = embed_bytes if pp == 1 else embed_bytes / (1 if arch.tie_word_embeddings else 2)
    return math.ceil((layer_bytes * stage_layers + stage_embed) / tp)


def _validate(inp: FitInput) -> None:
    if inp.tensor_parallel < 1 or inp.pipeline_parallel < 1:
        raise ValueError("tensor_parallel and pipeline_parallel must be >= 1")
    if inp.max_model_len < 1 or inp.max_num_seqs < 1:
        raise ValueError("max_model_len and max_num_seqs must be >= 1")
    if not 0.0 < inp.gpu_memory_utilization <= 1.0:
        raise ValueError("gpu_memory_utilization must be in (0, 1]")


def fit(inp: FitInput) -> FitResult:
    """Compute the per-GPU memory budget of ``inp`` and whether vLLM would start."""
    _validate(inp)
    arch = inp.arch
    quantization = effective_quantization(arch, inp.quantization)
    activation_bytes = 4.0 if inp.dtype == "float32" else 2.0
    kv_bytes = kv_dtype_bytes(inp.kv_cache_dtype, activation_bytes)

    weights = _weights_per_gpu(inp, quantization)
    world = inp.tensor_parallel * inp.pipeline_parallel
    activation = _ACTIVATION_MOE if arch.is_moe else _ACTIVATION_DENSE
    overhead = math.ceil(activation + (_NON_TORCH_DISTRIBUTED if world > 1 else _NON_TORCH_SINGLE))
    budget = int(inp.gpu.memory_bytes * inp.gpu_memory_utilization)

    # MLA's single latent cannot be split by heads: every TP rank keeps all of it.
    heads_per_gpu = max(1, math.ceil(arch.kv_heads / inp.tensor_parallel))
    layers_per_gpu = math.ceil(arch.layers / inp.pipeline_parallel)
    per_token_gpu = _kv_bytes(arch, layers_per_gpu, heads_per_gpu, kv_bytes)

    pool = budget - weights - overhead
    pool_tokens = pool // per_token_gpu if pool > 0 else 0
    sequences = pool_tokens / inp.max_model_len
    return FitResult(
        weights_per_gpu=weights,
        overhead_per_gpu=overhead,
        budget_per_gpu=budget,
        kv_bytes_per_token=kv_bytes_per_token(arch, kv_bytes),
        kv_bytes_per_token_per_gpu=per_token_gpu,
        kv_pool_per_gpu=pool,
        pool_tokens=pool_tokens,
        max_full_length_sequences=sequences,
        starts=pool > 0 and pool_tokens >= inp.max_model_len,
        meets_concurrency=sequences >= inp.max_num_seqs,
        margin_bytes=pool - inp.max_model_len * per_token_gpu,
    )


_UNITS = (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def format_bytes(n: int) -> str:
    """Human-readable binary size: ``"15.0 GiB"``, ``"128 KiB"``, ``"-1.5 GiB"``, ``"12 B"``."""
    sign, size = ("-" if n < 0 else ""), abs(n)
    for name, unit in _UNITS:
        if size >= unit:
            value = size / unit
            # GiB and up always show one decimal; exact KiB/MiB read better as integers.
            if unit < GIB and size % unit == 0:
                return f"{sign}{size // unit} {name}"
            return f"{sign}{value:.1f} {name}"
    return f"{sign}{size} B"
