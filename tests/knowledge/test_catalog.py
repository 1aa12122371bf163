"""Sanity checks on the model and GPU catalogs."""

from __future__ import annotations

import re

import pytest

from fleetgen.knowledge.catalog import (
    GPUS,
    MODELS,
    NATIVE_DTYPES,
    GpuType,
    ModelArch,
    get_gpu,
    get_model,
)

ID_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")

# Families whose config.json has no head_dim override: head_dim = hidden / heads.
DERIVED_HEAD_DIM = [
    m for m in MODELS.values() if m.id.startswith(("llama-", "qwen2.5-", "mistral-", "mixtral-"))
]

REQUIRED_MODELS = {
    "llama-3.1-8b-instruct",
    "llama-3.1-70b-instruct",
    "llama-3.1-405b-instruct",
    "llama-3.2-1b-instruct",
    "llama-3.2-3b-instruct",
    "llama-3.3-70b-instruct",
    "qwen2.5-0.5b-instruct",
    "qwen2.5-7b-instruct",
    "qwen2.5-14b-instruct",
    "qwen2.5-32b-instruct",
    "qwen2.5-72b-instruct",
    "qwen3-8b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "mistral-7b-instruct-v0.3",
    "mixtral-8x7b-instruct-v0.1",
    "mixtral-8x22b-instruct-v0.1",
    "deepseek-v3",
    "deepseek-r1",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "gemma-2-9b-it",
    "gemma-2-27b-it",
    "gemma-3-27b-it",
}


def test_catalog_covers_the_required_models() -> None:
    assert set(MODELS) >= REQUIRED_MODELS
    assert len(MODELS) >= 18


def test_catalog_is_immutable() -> None:
    with pytest.raises(TypeError):
        MODELS["x"] = MODELS["qwen3-8b"]  # type: ignore[index]
    with pytest.raises(TypeError):
        GPUS["x"] = GPUS["H100-80GB"]  # type: ignore[index]


@pytest.mark.parametrize("arch", MODELS.values(), ids=lambda m: m.id)
def test_model_entry_is_consistent(arch: ModelArch) -> None:
    assert ID_PATTERN.fullmatch(arch.id)
    assert arch.id == arch.hf_repo.split("/")[1].lower()
    assert arch.attention_heads % arch.kv_heads == 0
    assert arch.layers > 0 and arch.head_dim in (64, 128, 192, 256)
    assert arch.native_dtype in NATIVE_DTYPES
    assert arch.max_context >= 8192
    assert arch.vocab_size > 0
    # Embeddings are a small share of any of these models.
    assert arch.embedding_params < 0.35 * arch.params
    if arch.active_params is not None:
        assert arch.active_params < arch.params
        assert arch.expert_params is not None and arch.expert_params < arch.params
    else:
        assert arch.expert_params is None


@pytest.mark.parametrize("arch", DERIVED_HEAD_DIM, ids=lambda m: m.id)
def test_head_dim_follows_hidden_size_when_config_does_not_override(arch: ModelArch) -> None:
    assert arch.head_dim * arch.attention_heads == arch.hidden_size


def test_explicit_head_dim_models_keep_their_config_value() -> None:
    # Qwen3-32B sets head_dim 128 although 5120 / 64 = 80.
    qwen = MODELS["qwen3-32b"]
    assert (qwen.head_dim, qwen.attention_heads, qwen.hidden_size) == (128, 64, 5120)
    assert MODELS["gpt-oss-120b"].head_dim == 64


def test_known_config_numbers() -> None:
    llama = MODELS["llama-3.1-8b-instruct"]
    assert (llama.layers, llama.attention_heads, llama.kv_heads, llama.head_dim) == (32, 32, 8, 128)
    assert MODELS["llama-3.1-70b-instruct"].layers == 80
    deepseek = MODELS["deepseek-r1"]
    assert deepseek.mla is not None
    assert (deepseek.mla.kv_lora_rank, deepseek.mla.qk_rope_head_dim) == (512, 64)
    assert deepseek.layers == 61 and deepseek.native_dtype == "fp8"
    assert MODELS["gpt-oss-20b"].native_dtype == "mxfp4"
    assert all(m.mla is None for m in MODELS.values() if not m.id.startswith("deepseek"))


def test_get_model() -> None:
    assert get_model("qwen3-8b") is MODELS["qwen3-8b"]
    assert get_model("Qwen3-8B") is None
    assert get_model("nope") is None


@pytest.mark.parametrize("gpu", GPUS.values(), ids=lambda g: g.id)
def test_gpu_entry_is_consistent(gpu: GpuType) -> None:
    size = re.search(r"-(\d+)GB", gpu.id)
    assert size is not None
    nominal = int(size.group(1))
    # The runtime reports a bit less than the nominal size, never more.
    assert 0.9 * nominal <= gpu.memory_gib <= nominal
    assert gpu.resource_name == f"{gpu.vendor}.com/gpu"
    assert gpu.vendor in ("nvidia", "amd")
    assert gpu.product_label and " " not in gpu.product_label


def test_gpu_facts() -> None:
    h100 = GPUS["H100-80GB"]
    assert h100.memory_gib == pytest.approx(79.18, abs=0.01)
    assert h100.product_label == "NVIDIA-H100-80GB-HBM3" and h100.fp8
    assert not GPUS["A100-80GB"].fp8 and GPUS["L40S-48GB"].fp8
    assert GPUS["MI300X-192GB"].resource_name == "amd.com/gpu"
    assert {"H200-141GB", "B200-180GB", "A10G-24GB", "L4-24GB", "H100-94GB-NVL"} <= set(GPUS)
    assert get_gpu("H100-80GB") is h100 and get_gpu("h100") is None
