"""Architecture facts of popular open models, as their Hugging Face ``config.json`` states them.

Only the numbers the GPU memory check needs are kept. ``params`` is the total parameter
count of the published safetensors (all experts for MoE); counts are rounded to three or
four significant digits, which is far below the error of any memory estimate.

Where ``config.json`` sets ``head_dim`` explicitly it is used even when it differs from
``hidden_size / num_attention_heads`` (Qwen3, Gemma, gpt-oss do this).

Sliding-window layers (Gemma 2/3, gpt-oss) are deliberately *not* modelled: every layer is
treated as full attention, which over-estimates their KV cache and so errs on the safe side.

Long module: most of it is the data table, one entry per catalog model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# dtype of the published checkpoint; "fp8" and "mxfp4" checkpoints carry a
# quantization_config that vLLM honours without any --quantization flag.
NATIVE_DTYPES: frozenset[str] = frozenset({"bfloat16", "float16", "float32", "fp8", "mxfp4"})

_ID_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class MLA:
    """DeepSeek multi-head latent attention: the KV cache stores one latent per token."""

    kv_lora_rank: int
    qk_rope_head_dim: int


@dataclass(frozen=True, slots=True)
class ModelArch:
    """The architecture numbers of one model checkpoint."""

    id: str
    hf_repo: str
    params: float
    active_params: float | None
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    hidden_size: int
    max_context: int
    native_dtype: str
    mla: MLA | None = None
    # Embedding rows; 0 = unknown (then embeddings are sized like every other weight).
    vocab_size: int = 0
    # Tied input/output embeddings hold one vocab x hidden matrix instead of two.
    tie_word_embeddings: bool = False
    # Parameters inside routed experts: what expert-only formats such as mxfp4 compress.
    expert_params: float | None = None

    @property
    def is_moe(self) -> bool:
        """True for mixture-of-experts models."""
        return self.active_params is not None

    @property
    def embedding_params(self) -> int:
        """Parameters in the input embedding and the LM head (once when tied)."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)


def _experts(layers: int, experts: int, hidden: int, intermediate: int) -> float:
    """Routed-expert parameters of a SwiGLU MoE: gate, up and down projections."""
    return float(layers * experts * 3 * hidden * intermediate)


def _llama(
    mid: str,
    repo: str,
    params: float,
    layers: int,
    heads: int,
    hidden: int,
    *,
    head_dim: int = 128,
    tie: bool = False,
) -> ModelArch:
    # Llama 3.x share 8 KV heads, a 128256 vocabulary and a 128k context.
    return ModelArch(
        id=mid,
        hf_repo=repo,
        params=params,
        active_params=None,
        layers=layers,
        attention_heads=heads,
        kv_heads=8,
        head_dim=head_dim,
        hidden_size=hidden,
        max_context=131072,
        native_dtype="bfloat16",
        vocab_size=128256,
        tie_word_embeddings=tie,
    )


def _deepseek(mid: str, repo: str) -> ModelArch:
    # V3 and R1 share one architecture. params excludes the 14B multi-token-prediction
    # layer, which vLLM loads only for MTP speculative decoding. head_dim is the query
    # head size (qk_nope 128 + qk_rope 64); the KV cache uses the MLA latent instead.
    return ModelArch(
        id=mid,
        hf_repo=repo,
        params=671e9,
        active_params=37e9,
        layers=61,
        attention_heads=128,
        kv_heads=128,
        head_dim=192,
        hidden_size=7168,
        max_context=163840,
        native_dtype="fp8",
        mla=MLA(kv_lora_rank=512, qk_rope_head_dim=64),
        vocab_size=129280,
        # 58 MoE layers (first 3 dense) x 256 routed experts, moe_intermediate 2048
        expert_params=_experts(58, 256, 7168, 2048),
    )


def _gpt_oss(mid: str, params: float, active: float, layers: int, experts: int) -> ModelArch:
    # Experts are mxfp4; attention, router and embeddings stay bf16 (modules_to_not_convert).
    return ModelArch(
        id=mid,
        hf_repo=f"openai/{mid}",
        params=params,
        active_params=active,
        layers=layers,
        attention_heads=64,
        kv_heads=8,
        head_dim=64,
        hidden_size=2880,
        max_context=131072,
        native_dtype="mxfp4",
        vocab_size=201088,
        expert_params=_experts(layers, experts, 2880, 2880),
    )


_ENTRIES: tuple[ModelArch, ...] = (
    _llama("llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct", 8.030e9, 32, 32, 4096),
    _llama("llama-3.1-70b-instruct", "meta-llama/Llama-3.1-70B-Instruct", 70.55e9, 80, 64, 8192),
    _llama(
        "llama-3.1-405b-instruct", "meta-llama/Llama-3.1-405B-Instruct", 405.85e9, 126, 128, 16384
    ),
    _llama(
        "llama-3.2-1b-instruct",
        "meta-llama/Llama-3.2-1B-Instruct",
        1.236e9,
        16,
        32,
        2048,
        head_dim=64,
        tie=True,
    ),
    _llama(
        "llama-3.2-3b-instruct", "meta-llama/Llama-3.2-3B-Instruct", 3.213e9, 28, 24, 3072, tie=True
    ),
    _llama("llama-3.3-70b-instruct", "meta-llama/Llama-3.3-70B-Instruct", 70.55e9, 80, 64, 8192),
    ModelArch(
        id="qwen2.5-0.5b-instruct",
        hf_repo="Qwen/Qwen2.5-0.5B-Instruct",
        params=0.494e9,
        active_params=None,
        layers=24,
        attention_heads=14,
        kv_heads=2,
        head_dim=64,
        hidden_size=896,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=151936,
        tie_word_embeddings=True,
    ),
    ModelArch(
        id="qwen2.5-7b-instruct",
        hf_repo="Qwen/Qwen2.5-7B-Instruct",
        params=7.616e9,
        active_params=None,
        layers=28,
        attention_heads=28,
        kv_heads=4,
        head_dim=128,
        hidden_size=3584,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=152064,
    ),
    ModelArch(
        id="qwen2.5-14b-instruct",
        hf_repo="Qwen/Qwen2.5-14B-Instruct",
        params=14.77e9,
        active_params=None,
        layers=48,
        attention_heads=40,
        kv_heads=8,
        head_dim=128,
        hidden_size=5120,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=152064,
    ),
    ModelArch(
        id="qwen2.5-32b-instruct",
        hf_repo="Qwen/Qwen2.5-32B-Instruct",
        params=32.76e9,
        active_params=None,
        layers=64,
        attention_heads=40,
        kv_heads=8,
        head_dim=128,
        hidden_size=5120,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=152064,
    ),
    ModelArch(
        id="qwen2.5-72b-instruct",
        hf_repo="Qwen/Qwen2.5-72B-Instruct",
        params=72.71e9,
        active_params=None,
        layers=80,
        attention_heads=64,
        kv_heads=8,
        head_dim=128,
        hidden_size=8192,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=152064,
    ),
    ModelArch(
        id="qwen3-8b",
        hf_repo="Qwen/Qwen3-8B",
        params=8.191e9,
        active_params=None,
        layers=36,
        attention_heads=32,
        kv_heads=8,
        head_dim=128,
        hidden_size=4096,
        max_context=40960,
        native_dtype="bfloat16",
        vocab_size=151936,
    ),
    ModelArch(
        id="qwen3-32b",
        hf_repo="Qwen/Qwen3-32B",
        params=32.76e9,
        active_params=None,
        layers=64,
        attention_heads=64,
        kv_heads=8,
        head_dim=128,
        hidden_size=5120,
        max_context=40960,
        native_dtype="bfloat16",
        vocab_size=151936,
    ),
    ModelArch(
        id="qwen3-30b-a3b",
        hf_repo="Qwen/Qwen3-30B-A3B",
        params=30.53e9,
        active_params=3.3e9,
        layers=48,
        attention_heads=32,
        kv_heads=4,
        head_dim=128,
        hidden_size=2048,
        max_context=40960,
        native_dtype="bfloat16",
        vocab_size=151936,
        expert_params=_experts(48, 128, 2048, 768),
    ),
    ModelArch(
        id="qwen3-235b-a22b",
        hf_repo="Qwen/Qwen3-235B-A22B",
        params=235.1e9,
        active_params=22e9,
        layers=94,
        attention_heads=64,
        kv_heads=4,
        head_dim=128,
        hidden_size=4096,
        max_context=40960,
        native_dtype="bfloat16",
        vocab_size=151936,
        expert_params=_experts(94, 128, 4096, 1536),
    ),
    ModelArch(
        id="mistral-7b-instruct-v0.3",
        hf_repo="mistralai/Mistral-7B-Instruct-v0.3",
        params=7.248e9,
        active_params=None,
        layers=32,
        attention_heads=32,
        kv_heads=8,
        head_dim=128,
        hidden_size=4096,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=32768,
    ),
    ModelArch(
        id="mixtral-8x7b-instruct-v0.1",
        hf_repo="mistralai/Mixtral-8x7B-Instruct-v0.1",
        params=46.70e9,
        active_params=12.9e9,
        layers=32,
        attention_heads=32,
        kv_heads=8,
        head_dim=128,
        hidden_size=4096,
        max_context=32768,
        native_dtype="bfloat16",
        vocab_size=32000,
        expert_params=_experts(32, 8, 4096, 14336),
    ),
    ModelArch(
        id="mixtral-8x22b-instruct-v0.1",
        hf_repo="mistralai/Mixtral-8x22B-Instruct-v0.1",
        params=140.6e9,
        active_params=39.1e9,
        layers=56,
        attention_heads=48,
        kv_heads=8,
        head_dim=128,
        hidden_size=6144,
        max_context=65536,
        native_dtype="bfloat16",
        vocab_size=32768,
        expert_params=_experts(56, 8, 6144, 16384),
    ),
    _deepseek("deepseek-v3", "deepseek-ai/DeepSeek-V3"),
    _deepseek("deepseek-r1", "deepseek-ai/DeepSeek-R1"),
    _gpt_oss("gpt-oss-20b", 20.91e9, 3.61e9, 24, 32),
    _gpt_oss("gpt-oss-120b", 116.8e9, 5.13e9, 36, 128),
    # The published checkpoint's torch_dtype is float32 (not re-checked against the hub
    # here); it does not change sizing, since vLLM runs float32 checkpoints in 16 bits.
    ModelArch(
        id="gemma-2-9b-it",
        hf_repo="google/gemma-2-9b-it",
        params=9.242e9,
        active_params=None,
        layers=42,
        attention_heads=16,
        kv_heads=8,
        head_dim=256,
        hidden_size=3584,
        max_context=8192,
        native_dtype="float32",
        vocab_size=256000,
        tie_word_embeddings=True,
    ),
    ModelArch(
        id="gemma-2-27b-it",
        hf_repo="google/gemma-2-27b-it",
        params=27.23e9,
        active_params=None,
        layers=46,
        attention_heads=32,
        kv_heads=16,
        head_dim=128,
        hidden_size=4608,
        max_context=8192,
        native_dtype="bfloat16",
        vocab_size=256000,
        tie_word_embeddings=True,
    ),
    # Multimodal: the numbers are text_config's; params includes the ~0.4B vision tower.
    ModelArch(
        id="gemma-3-27b-it",
        hf_repo="google/gemma-3-27b-it",
        params=27.43e9,
        active_params=None,
        layers=62,
        attention_heads=32,
        kv_heads=16,
        head_dim=128,
        hidden_size=5376,
        max_context=131072,
        native_dtype="bfloat16",
        vocab_size=262208,
        tie_word_embeddings=True,
    ),
)


def _index(entries: tuple[ModelArch, ...]) -> Mapping[str, ModelArch]:
    table: dict[str, ModelArch] = {}
    for arch in entries:
        if arch.id in table or not _ID_PATTERN.fullmatch(arch.id):
            raise ValueError(f"bad or duplicate model id {arch.id!r}")
        table[arch.id] = arch
    return MappingProxyType(table)


MODELS: Mapping[str, ModelArch] = _index(_ENTRIES)


def get_model(model_id: str) -> ModelArch | None:
    """Return the catalog entry for ``model_id`` (exact, lower-case id), or None."""
    return MODELS.get(model_id)
