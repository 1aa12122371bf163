"""vLLM runtime contracts: flags and metrics per release."""

from __future__ import annotations

import pytest

from fleetgen.knowledge.runtime_contract import (
    CONTRACTS,
    FLAGS_SET_BY_FLEETGEN,
    RuntimeContract,
    canonical_flag,
    contract_for,
    known_versions,
    vllm_version_from_image,
)


def _c(version: str) -> RuntimeContract:
    contract = contract_for(version)
    assert contract is not None
    return contract


def test_versions_cover_0_8_to_0_32_in_order() -> None:
    versions = known_versions()
    assert versions[0] == "0.8" and versions[-1] == "0.32"
    minors = [int(v.split(".")[1]) for v in versions]
    assert minors == list(range(8, 33))
    assert set(versions) == set(CONTRACTS)


@pytest.mark.parametrize("version", known_versions())
def test_every_version_accepts_what_fleetgen_sets(version: str) -> None:
    contract = CONTRACTS[version]
    assert contract.version == version
    assert contract.flags >= FLAGS_SET_BY_FLEETGEN
    assert {"model_name", "engine", "finished_reason"} <= contract.metric_labels
    core = {
        "vllm:num_requests_waiting",
        "vllm:num_requests_running",
        "vllm:time_to_first_token_seconds",
        "vllm:prompt_tokens_total",
        "vllm:generation_tokens_total",
        "vllm:request_success_total",
    }
    assert core <= contract.metrics
    assert not contract.hidden_metrics & contract.metrics
    assert contract.deprecated_metrics <= contract.metrics
    assert not contract.removed_flags & contract.flags


def test_kv_cache_usage_rename_timeline() -> None:
    old, new = "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"
    assert _c("0.8").exports_metric(old) and not _c("0.8").exports_metric(new)
    # PR #18354 shipped in 0.9.2: both names, the old one deprecated.
    assert not _c("0.9.1").exports_metric(new)
    assert _c("0.9.2").exports_metric(new) and _c("0.9.2").exports_metric(old)
    assert old in _c("0.9.2").deprecated_metrics and old in _c("0.10").deprecated_metrics
    # Hidden in 0.11 (PR #24245), removed in 0.12 (PR #29330).
    assert not _c("0.11").exports_metric(old) and old in _c("0.11").hidden_metrics
    assert not _c("0.12").exports_metric(old) and old not in _c("0.12").hidden_metrics
    assert _c("0.32").exports_metric(new) and not _c("0.32").exports_metric(old)


def test_prefix_cache_counters_follow_the_same_rename() -> None:
    assert _c("0.8").exports_metric("vllm:gpu_prefix_cache_hits_total")
    assert not _c("0.12").exports_metric("vllm:gpu_prefix_cache_hits_total")
    assert _c("0.12").exports_metric("vllm:prefix_cache_hits_total")
    assert (
        _c("0.12").replacement_for("vllm:gpu_prefix_cache_queries_total")
        == "vllm:prefix_cache_queries_total"
    )


def test_time_per_output_token_timeline() -> None:
    old = "vllm:time_per_output_token_seconds"
    assert _c("0.10").exports_metric(old)
    assert not _c("0.10").exports_metric("vllm:inter_token_latency_seconds")
    assert old in _c("0.11").deprecated_metrics and _c("0.11").exports_metric(old + "_bucket")
    assert old in _c("0.12").hidden_metrics and not _c("0.12").exports_metric(old)
    assert old not in _c("0.14").hidden_metrics and not _c("0.14").exports_metric(old)
    assert _c("0.12").replacement_for(old + "_bucket") == "vllm:inter_token_latency_seconds_bucket"


@pytest.mark.parametrize(
    "legacy",
    [
        "vllm:num_requests_swapped",
        "vllm:cpu_cache_usage_perc",
        "vllm:avg_prompt_throughput_toks_per_s",
        "vllm:avg_generation_throughput_toks_per_s",
        "vllm:time_in_queue_requests",
        "vllm:gpu_prefix_cache_hit_rate",
    ],
)
@pytest.mark.parametrize("version", ["0.8", "0.11", "0.32"])
def test_legacy_v0_metrics_are_not_exported(legacy: str, version: str) -> None:
    assert not _c(version).exports_metric(legacy)


def test_replacements() -> None:
    c12 = _c("0.12")
    assert c12.replacement_for("vllm:gpu_cache_usage_perc") == "vllm:kv_cache_usage_perc"
    assert c12.replacement_for("vllm:time_in_queue_requests") == "vllm:request_queue_time_seconds"
    assert (
        c12.replacement_for("vllm:avg_prompt_throughput_toks_per_s") == "vllm:prompt_tokens_total"
    )
    assert c12.replacement_for("vllm:num_requests_swapped") is None
    assert c12.replacement_for("vllm:kv_cache_usage_perc") is None  # exported
    # On a release older than the rename, point back at the name it exports.
    assert _c("0.8").replacement_for("vllm:kv_cache_usage_perc") == "vllm:gpu_cache_usage_perc"
    # A counter without its _total suffix matches no series.
    assert not c12.exports_metric("vllm:prompt_tokens")
    assert c12.replacement_for("vllm:prompt_tokens") == "vllm:prompt_tokens_total"


def test_histogram_suffixes() -> None:
    c = _c("0.11")
    for suffix in ("", "_bucket", "_sum", "_count"):
        assert c.exports_metric("vllm:e2e_request_latency_seconds" + suffix)
    # Suffixes only apply to histograms.
    assert not c.exports_metric("vllm:num_requests_waiting_bucket")
    assert c.exports_metric("vllm:iteration_tokens_total_bucket")


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--max-model-len", True),
        ("--max-model-len=8192", True),
        ("--max_model_len=8192", True),
        ("-tp", True),
        ("-O3", True),
        ("--compilation-config.level=3", True),
        ("--no-enable-prefix-caching", True),
        ("--max-modle-len", False),
        ("max-model-len", False),
        ("--", False),
    ],
)
def test_accepts_flag_forms(flag: str, expected: bool) -> None:
    assert _c("0.11").accepts_flag(flag) is expected


def test_flag_changes_across_versions() -> None:
    assert _c("0.10").accepts_flag("--num-scheduler-steps=4")
    assert not _c("0.11").accepts_flag("--num-scheduler-steps=4")
    assert "--num-scheduler-steps" in _c("0.11").removed_flags
    assert _c("0.12").accepts_flag("--task=generate")
    assert not _c("0.13").accepts_flag("--task=generate")
    assert "--task" in _c("0.32").removed_flags
    assert not _c("0.9").accepts_flag("--runner") and _c("0.10").accepts_flag("--runner")
    assert not _c("0.17").accepts_flag("--shutdown-timeout=15")
    assert _c("0.18").accepts_flag("--shutdown-timeout=15")
    assert _c("0.15").accepts_flag("--disable-access-log-for-endpoints") is False
    assert _c("0.16").accepts_flag("--disable-access-log-for-endpoints")
    assert not _c("0.8").accepts_flag("--no-enforce-eager")
    assert _c("0.9").accepts_flag("--no-enforce-eager")


def test_canonical_flag() -> None:
    assert canonical_flag("--served_model_name=x") == "--served-model-name"
    assert canonical_flag("-pp") == "--pipeline-parallel-size"
    assert canonical_flag("--speculative-config.method=ngram") == "--speculative-config"
    assert canonical_flag("value") is None
    assert canonical_flag("-x") is None


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.11", "0.11"),
        ("0.11.2", "0.11"),
        ("v0.11.2", "0.11"),
        ("0.10.1.1", "0.10"),
        ("0.8.5.post1", "0.8.5"),  # the LMCache connector patch record
        ("0.9.2", "0.9.2"),
        ("0.9.3", "0.9.2"),
        ("0.9.0", "0.9"),
    ],
)
def test_contract_for_resolves_minor_and_patch(version: str, expected: str) -> None:
    assert _c(version).version == expected


@pytest.mark.parametrize("version", ["0.7.3", "1.0.0", "latest", "", "0.x"])
def test_contract_for_unknown(version: str) -> None:
    assert contract_for(version) is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("vllm/vllm-openai:v0.11.2", "0.11.2"),
        ("vllm/vllm-openai:v0.11.2@sha256:" + "a" * 64, "0.11.2"),
        ("registry.example.com/vllm/vllm-openai:0.10.1.1", "0.10.1.1"),
        ("registry.local:5000/vllm/vllm-openai:v0.12.0", "0.12.0"),
        ("vllm/vllm-openai@sha256:" + "b" * 64, None),
        ("registry.local:5000/vllm/vllm-openai", None),
        ("vllm/vllm-openai:latest", None),
        ("vllm/vllm-openai:nightly-2f1e3a", None),
        ("vllm/vllm-openai:v0.11", None),
    ],
)
def test_vllm_version_from_image(image: str, expected: str | None) -> None:
    assert vllm_version_from_image(image) == expected


def test_image_version_round_trips_to_a_contract() -> None:
    version = vllm_version_from_image("vllm/vllm-openai:v0.11.2")
    assert version is not None
    assert _c(version).accepts_flag("--max-cudagraph-capture-size")
