"""vLLM runtime contracts read from the shipped data: flags and metrics per release.

The expectations are the release history as the artifacts show it (each file's provenance
names the wheel or sdist it was extracted from), so a wrong extraction fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetgen.knowledge.runtime_contract import (
    FLAGS_SET_BY_FLEETGEN,
    RuntimeContract,
    canonical_flag,
    contract_for,
    known_versions,
    resolve,
    vllm_version_from_image,
)
from fleetgen.knowledge.vllm.store import BUNDLED, release_key


def _c(version: str) -> RuntimeContract:
    contract = contract_for(version)
    assert contract is not None, version
    return contract


def test_every_minor_from_0_8_to_0_34_is_known() -> None:
    versions = known_versions()
    assert versions[0] == "0.8.0"
    minors = sorted({(release_key(v) or (0, 0))[:2] for v in versions})
    assert minors == [(0, minor) for minor in range(8, 35)]
    assert [release_key(v) for v in versions] == sorted(release_key(v) for v in versions)


def test_every_data_file_names_its_artifact() -> None:
    for path in sorted(BUNDLED.glob("*.json")):
        document = json.loads(path.read_text())
        provenance = document["provenance"]
        assert document["version"] == path.stem
        assert provenance["artifact"].startswith(f"vllm-{path.stem}")
        assert len(provenance["sha256"]) == 64
        assert provenance["extracted"] and provenance["extractor"]
        # Compact, key-sorted, one line: the importer's own encoding.
        assert path.read_text().count("\n") == 1


@pytest.mark.parametrize("version", known_versions())
def test_every_release_accepts_what_fleetgen_sets(version: str) -> None:
    contract = _c(version)
    assert contract.version == version
    assert contract.flags >= FLAGS_SET_BY_FLEETGEN
    assert {"model_name", "finished_reason"} <= contract.metric_labels
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
    assert _c("0.8.0").exports_metric(old) and not _c("0.8.0").exports_metric(new)
    # PR #18354 shipped in 0.9.2: both names, the old one deprecated.
    assert not _c("0.9.1").exports_metric(new)
    assert _c("0.9.2").exports_metric(new) and _c("0.9.2").exports_metric(old)
    assert old in _c("0.9.2").deprecated_metrics and old in _c("0.10.2").deprecated_metrics
    # Hidden behind --show-hidden-metrics-for-version in 0.11, gone in 0.12.
    assert not _c("0.11.0").exports_metric(old) and old in _c("0.11.0").hidden_metrics
    assert not _c("0.12.0").exports_metric(old) and old not in _c("0.12.0").hidden_metrics
    assert _c("0.34.0").exports_metric(new) and not _c("0.34.0").exports_metric(old)


def test_time_per_output_token_timeline() -> None:
    old = "vllm:time_per_output_token_seconds"
    assert _c("0.10.1").exports_metric(old)
    assert not _c("0.10.1").exports_metric("vllm:inter_token_latency_seconds")
    assert old in _c("0.10.2").deprecated_metrics and _c("0.11.0").exports_metric(old + "_bucket")
    assert old in _c("0.12.0").hidden_metrics and not _c("0.12.0").exports_metric(old)
    assert old not in _c("0.15.0").hidden_metrics and not _c("0.15.0").exports_metric(old)
    bucket = "vllm:inter_token_latency_seconds_bucket"
    assert _c("0.12.0").replacement_for(old + "_bucket") == bucket


def test_finished_reason_values_follow_the_finish_reason_enum() -> None:
    def reasons(version: str) -> frozenset[str] | None:
        return _c(version).label_values("vllm:request_success_total", "finished_reason")

    assert reasons("0.11.2") == {"stop", "length", "abort"}
    assert reasons("0.13.0") == {"stop", "length", "abort", "error"}
    assert reasons("0.34.0") == {"stop", "length", "abort", "error", "repetition"}
    # Labels whose values the source does not enumerate are not constrained.
    assert _c("0.34.0").label_values("vllm:request_success_total", "model_name") is None


def test_metric_types_come_from_the_constructors() -> None:
    c = _c("0.34.0")
    assert c.metric_type("vllm:num_requests_waiting") == "gauge"
    assert c.metric_type("vllm:request_success_total") == "counter"
    assert c.metric_type("vllm:e2e_request_latency_seconds_bucket") == "histogram"
    # prometheus_client adds _total to counters: the bare name is no series.
    assert not c.exports_metric("vllm:prompt_tokens")
    assert c.replacement_for("vllm:prompt_tokens") == "vllm:prompt_tokens_total"
    # A histogram whose own name ends in _total keeps it and gets the series suffixes.
    assert c.exports_metric("vllm:iteration_tokens_total_bucket")
    assert not c.exports_metric("vllm:num_requests_waiting_bucket")


@pytest.mark.parametrize(
    "legacy",
    [
        "vllm:num_requests_swapped",
        "vllm:cpu_cache_usage_perc",
        "vllm:time_in_queue_requests",
        "vllm:gpu_prefix_cache_hit_rate",
    ],
)
@pytest.mark.parametrize("version", ["0.8.0", "0.11.2", "0.34.0"])
def test_v0_engine_metrics_are_not_exported(legacy: str, version: str) -> None:
    assert not _c(version).exports_metric(legacy)


def test_replacements() -> None:
    c12 = _c("0.12.0")
    assert c12.replacement_for("vllm:gpu_cache_usage_perc") == "vllm:kv_cache_usage_perc"
    assert c12.replacement_for("vllm:time_in_queue_requests") == "vllm:request_queue_time_seconds"
    assert c12.replacement_for("vllm:num_requests_swapped") is None
    assert c12.replacement_for("vllm:kv_cache_usage_perc") is None  # exported
    # On a release older than the rename, point back at the name it exports.
    assert _c("0.8.0").replacement_for("vllm:kv_cache_usage_perc") == "vllm:gpu_cache_usage_perc"


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
    assert _c("0.11.2").accepts_flag(flag) is expected


def test_flag_changes_across_releases() -> None:
    assert _c("0.10.0").accepts_flag("--num-scheduler-steps=4")
    assert not _c("0.10.1").accepts_flag("--num-scheduler-steps=4")
    assert "--num-scheduler-steps" in _c("0.11.0").removed_flags
    assert _c("0.12.0").accepts_flag("--task=generate")
    assert not _c("0.13.0").accepts_flag("--task=generate")
    assert "--task" in _c("0.34.0").removed_flags
    assert not _c("0.10.0").accepts_flag("--runner") and _c("0.10.1").accepts_flag("--runner")
    assert not _c("0.17.1").accepts_flag("--shutdown-timeout=15")
    assert _c("0.18.0").accepts_flag("--shutdown-timeout=15")
    assert not _c("0.15.1").accepts_flag("--disable-access-log-for-endpoints")
    assert _c("0.16.0").accepts_flag("--disable-access-log-for-endpoints")
    # Config dataclasses give a bool field its --no- form (0.8.0 still had store_true).
    assert not _c("0.8.0").accepts_flag("--no-enforce-eager")
    assert _c("0.34.0").accepts_flag("--no-enforce-eager")


def test_deprecations_carry_their_announced_removal() -> None:
    c = _c("0.34.0")
    assert c.deprecated_flags["--disable-cascade-attn"] == "0.33.0"
    assert c.deprecated_flags["--mamba-cache-mode"] == "0.34.0"
    assert "--enforce-eager" not in c.deprecated_flags


def test_kv_connectors() -> None:
    assert "LMCacheConnectorV1" not in _c("0.8.4").kv_connectors
    assert "LMCacheConnectorV1" in _c("0.8.5").kv_connectors
    assert {"LMCacheConnectorV1", "NixlConnector"} <= _c("0.34.0").kv_connectors


def test_canonical_flag() -> None:
    assert canonical_flag("--served_model_name=x") == "--served-model-name"
    assert canonical_flag("-pp") == "--pipeline-parallel-size"
    assert canonical_flag("--speculative-config.method=ngram") == "--speculative-config"
    assert canonical_flag("value") is None
    assert canonical_flag("-x") is None


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.11", "0.11.0"),
        ("0.11.2", "0.11.2"),
        ("v0.11.2", "0.11.2"),
        ("0.10.1.1", "0.10.1.1"),
        ("0.8.5.post1", "0.8.5.post1"),
        ("0.9.3", "0.9.2"),  # no such patch: the newest one of its minor below it
    ],
)
def test_contract_for_resolves_releases(version: str, expected: str) -> None:
    assert _c(version).version == expected


def test_a_release_newer_than_the_data_is_checked_against_the_newest() -> None:
    newest = known_versions()[-1]
    for version in ("0.35.0", "0.34.1", "1.0.0"):
        found = resolve(version)
        assert found is not None and found.newer_than_known
        assert found.contract.version == newest
    known = resolve(newest)
    assert known is not None and not known.newer_than_known


@pytest.mark.parametrize("version", ["0.7.3", "0.6.0", "latest", "", "0.x"])
def test_older_or_unparsable_releases_have_no_contract(version: str) -> None:
    assert resolve(version) is None and contract_for(version) is None


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


def test_repository_data_wins(tmp_path: Path) -> None:
    from fleetgen.knowledge import runtime_contract

    target = tmp_path / "runtime" / "vllm"
    target.mkdir(parents=True)
    shipped = json.loads((BUNDLED / "0.34.0.json").read_text())
    shipped["version"] = "0.35.0"
    shipped["flags"]["--brand-new"] = {}
    (target / "0.35.0.json").write_text(json.dumps(shipped))
    runtime_contract.use_repository(tmp_path)
    try:
        found = resolve("0.35.0")
        assert found is not None and not found.newer_than_known
        assert found.contract.accepts_flag("--brand-new")
    finally:
        runtime_contract.use_repository(None)
    assert resolve("0.35.0") is not None and resolve("0.35.0").newer_than_known  # type: ignore[union-attr]
