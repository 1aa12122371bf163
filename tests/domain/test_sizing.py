"""GPU memory fit: the worked numbers of the stack reference and the edge cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetgen.domain.sizing import (
    DTYPES,
    GIB,
    QUANTIZATIONS,
    FitInput,
    fit,
    format_bytes,
    kv_bytes_per_token,
    kv_dtype_bytes,
    weight_bytes_per_param,
)
from fleetgen.knowledge.catalog import GPUS, MODELS, get_gpu, get_model
from fleetgen.knowledge.catalog.models import ModelArch

H100 = GPUS["H100-80GB"]
KIB = 1024


def _arch(model_id: str) -> ModelArch:
    arch = get_model(model_id)
    assert arch is not None
    return arch


def _inp(model_id: str, **overrides: object) -> FitInput:
    base = FitInput(
        arch=_arch(model_id),
        dtype="auto",
        quantization=None,
        kv_cache_dtype="auto",
        tensor_parallel=1,
        pipeline_parallel=1,
        max_model_len=8192,
        max_num_seqs=16,
        gpu_memory_utilization=0.9,
        gpu=H100,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_llama_8b_kv_is_128_kib_per_token() -> None:
    assert kv_bytes_per_token(_arch("llama-3.1-8b-instruct"), 2) == 131072 == 128 * KIB


def test_llama_70b_kv_is_320_kib_per_token() -> None:
    assert kv_bytes_per_token(_arch("llama-3.1-70b-instruct"), 2) == 320 * KIB


def test_deepseek_mla_kv_per_token() -> None:
    assert kv_bytes_per_token(_arch("deepseek-r1"), 2) == 61 * (512 + 64) * 2


def test_llama_8b_on_one_h100_leaves_about_50_gb() -> None:
    result = fit(_inp("llama-3.1-8b-instruct"))
    assert 15e9 < result.weights_per_gpu < 17e9  # ~16 GB of bf16 weights
    assert 48e9 < result.kv_pool_per_gpu < 56e9
    assert 370_000 < result.pool_tokens < 430_000
    # llm-d measured 51.38 GiB of KV cache for this exact setup.
    assert result.kv_pool_per_gpu / GIB == pytest.approx(51.38, rel=0.03)
    assert result.starts and result.meets_concurrency


@pytest.mark.parametrize("max_model_len", [8192, 32768])
def test_llama_70b_at_tp2_has_no_useful_pool(max_model_len: int) -> None:
    result = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=2, max_model_len=max_model_len))
    assert result.kv_pool_per_gpu < max_model_len * result.kv_bytes_per_token_per_gpu
    assert not result.starts
    assert result.margin_bytes < 0


def test_llama_70b_at_tp4_fits_with_35_gb_weights_per_gpu() -> None:
    result = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=4, max_model_len=32768))
    assert 34e9 < result.weights_per_gpu < 36.5e9
    assert result.kv_bytes_per_token_per_gpu == 80 * KIB
    assert result.starts and result.margin_bytes > 0
    assert result.max_full_length_sequences > 8


def test_fp8_kv_halves_kv() -> None:
    auto = fit(_inp("qwen3-8b"))
    fp8 = fit(_inp("qwen3-8b", kv_cache_dtype="fp8"))
    assert fp8.kv_bytes_per_token * 2 == auto.kv_bytes_per_token
    assert fp8.kv_bytes_per_token_per_gpu * 2 == auto.kv_bytes_per_token_per_gpu
    assert fp8.pool_tokens > 1.9 * auto.pool_tokens


def test_fp8_weights_halve_weights() -> None:
    bf16 = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=4))
    fp8 = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=4, quantization="fp8"))
    # Embeddings and LM head stay 16-bit, so slightly more than half.
    assert 0.5 < fp8.weights_per_gpu / bf16.weights_per_gpu < 0.53
    assert fp8.kv_bytes_per_token == bf16.kv_bytes_per_token


def test_tp_beyond_kv_heads_replicates_heads() -> None:
    # Qwen2.5-7B has 4 KV heads: TP=8 still keeps one whole head per GPU.
    tp4 = fit(_inp("qwen2.5-7b-instruct", tensor_parallel=4))
    tp8 = fit(_inp("qwen2.5-7b-instruct", tensor_parallel=8))
    assert tp4.kv_bytes_per_token_per_gpu == tp8.kv_bytes_per_token_per_gpu
    assert tp8.kv_bytes_per_token_per_gpu == 2 * 28 * 1 * 128 * 2
    assert tp8.weights_per_gpu < tp4.weights_per_gpu


def test_mla_latent_is_replicated_on_every_tp_rank() -> None:
    tp8 = fit(_inp("deepseek-r1", tensor_parallel=8, gpu=GPUS["H200-141GB"]))
    assert tp8.kv_bytes_per_token_per_gpu == tp8.kv_bytes_per_token == 61 * 576 * 2
    assert tp8.starts


def test_pp_splits_layers() -> None:
    pp1 = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=4))
    pp2 = fit(_inp("llama-3.1-70b-instruct", tensor_parallel=2, pipeline_parallel=2))
    assert pp2.kv_bytes_per_token_per_gpu == 2 * 40 * 4 * 128 * 2
    assert pp1.kv_bytes_per_token_per_gpu == pp2.kv_bytes_per_token_per_gpu
    assert abs(pp2.weights_per_gpu - pp1.weights_per_gpu) < 0.05 * pp1.weights_per_gpu
    # Uneven split: the busiest stage holds ceil(61 / 2) = 31 layers.
    odd = fit(_inp("deepseek-r1", tensor_parallel=8, pipeline_parallel=2))
    assert odd.kv_bytes_per_token_per_gpu == 31 * 576 * 2


def test_native_checkpoint_formats_are_used_without_quantization_flag() -> None:
    deepseek = fit(_inp("deepseek-r1", tensor_parallel=8, gpu=GPUS["H200-141GB"]))
    # ~671 GB of fp8 over 8 GPUs, not 1.3 TB of bf16.
    assert 80e9 < deepseek.weights_per_gpu < 90e9
    gpt_oss = fit(_inp("gpt-oss-20b", max_model_len=16000))
    # llm-d measured 13.47 GiB of weights and 50.28 GiB of KV cache on one H100.
    assert 12 * GIB < gpt_oss.weights_per_gpu < 14 * GIB
    assert gpt_oss.kv_pool_per_gpu / GIB == pytest.approx(50.28, rel=0.05)


def test_moe_overhead_is_larger_and_distributed_adds_nccl() -> None:
    dense = fit(_inp("qwen3-8b")).overhead_per_gpu
    moe = fit(_inp("qwen3-30b-a3b")).overhead_per_gpu
    dense_tp2 = fit(_inp("qwen3-8b", tensor_parallel=2)).overhead_per_gpu
    assert moe > dense and dense_tp2 > dense


def test_concurrency_is_judged_against_full_length_sequences() -> None:
    result = fit(_inp("llama-3.1-8b-instruct", max_model_len=131072, max_num_seqs=8))
    assert result.starts
    assert result.max_full_length_sequences == pytest.approx(result.pool_tokens / 131072)
    assert not result.meets_concurrency


def test_model_too_big_for_the_gpu_does_not_start() -> None:
    result = fit(_inp("llama-3.1-70b-instruct", gpu=GPUS["L4-24GB"]))
    assert result.kv_pool_per_gpu < 0 and result.pool_tokens == 0
    assert not result.starts and not result.meets_concurrency


def test_weight_and_kv_widths() -> None:
    assert weight_bytes_per_param("auto", None) == 2
    assert weight_bytes_per_param("float32", None) == 4
    assert weight_bytes_per_param("bfloat16", "fp8") == 1
    assert weight_bytes_per_param("auto", "awq") == pytest.approx(0.53, abs=0.01)
    assert kv_dtype_bytes("auto", 2) == 2
    assert kv_dtype_bytes("fp8_e5m2", 2) == 1
    assert {"auto", "bfloat16", "float16", "float32"} == DTYPES
    assert {"fp8", "awq", "gptq", "mxfp4"} <= QUANTIZATIONS


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: weight_bytes_per_param("fp4", None), "dtype"),
        (lambda: weight_bytes_per_param("auto", "nf4"), "quantization"),
        (lambda: kv_dtype_bytes("int8", 2), "kv_cache_dtype"),
        (lambda: fit(_inp("qwen3-8b", tensor_parallel=0)), "parallel"),
        (lambda: fit(_inp("qwen3-8b", gpu_memory_utilization=1.5)), "utilization"),
        (lambda: fit(_inp("qwen3-8b", max_model_len=0)), "max_model_len"),
    ],
)
def test_invalid_inputs_raise(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (15 * GIB, "15.0 GiB"),
        (128 * KIB, "128 KiB"),
        (1536 * KIB, "1.5 MiB"),
        (-3 * GIB // 2, "-1.5 GiB"),
        (12, "12 B"),
        (0, "0 B"),
    ],
)
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text


@given(
    model_id=st.sampled_from(sorted(MODELS)),
    gpu_id=st.sampled_from(sorted(GPUS)),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2]),
    max_model_len=st.integers(1, 131072),
    util=st.floats(0.5, 0.95),
)
def test_fit_invariants(
    model_id: str, gpu_id: str, tp: int, pp: int, max_model_len: int, util: float
) -> None:
    gpu = get_gpu(gpu_id)
    assert gpu is not None
    result = fit(
        _inp(
            model_id,
            gpu=gpu,
            tensor_parallel=tp,
            pipeline_parallel=pp,
            max_model_len=max_model_len,
            gpu_memory_utilization=util,
        )
    )
    assert result.kv_pool_per_gpu == (
        result.budget_per_gpu - result.weights_per_gpu - result.overhead_per_gpu
    )
    assert 0 < result.kv_bytes_per_token_per_gpu <= result.kv_bytes_per_token
    assert result.pool_tokens >= 0
    assert result.starts == (result.margin_bytes >= 0 and result.kv_pool_per_gpu > 0)
    more_gpus = fit(
        _inp(
            model_id,
            gpu=gpu,
            tensor_parallel=tp * 2,
            pipeline_parallel=pp,
            max_model_len=max_model_len,
            gpu_memory_utilization=util,
        )
    )
    assert more_gpus.weights_per_gpu <= result.weights_per_gpu
