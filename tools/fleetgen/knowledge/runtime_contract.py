"""What each vLLM minor release accepts on its command line and exports on ``/metrics``.

The data below is a base (0.8) plus one explicit change record per later version, each
citing its source; ``_build`` folds them into one :class:`RuntimeContract` per minor.

Scope and honesty notes:

* Metrics are those of the V1 engine, the default since 0.8 and the only engine after 0.10.
  Metrics that exist only under a flag or feature (LoRA, speculative decoding,
  ``--kv-cache-metrics``) are included: ``exports_metric`` answers "can this version emit
  the name", which is what an alert or scaler query needs.
* A minor's sets hold what every patch release of it has; the one patch-level change the
  sources show (0.9.2 added ``vllm:kv_cache_usage_perc``) is applied by ``contract_for``.
* ``flags`` is the curated set of long ``vllm serve`` options known per version, not a dump
  of ``--help``: treat a flag outside it as unknown (warn), and one in ``removed_flags`` as
  definitely rejected (error).

Long module: most of it is data, one change record per vLLM minor release.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# The KV connector fleetgen wires for kvCache.shared (render/kv_cache.py, checks/kv_cache.py).
LMCACHE_CONNECTOR = "LMCacheConnectorV1"


def _fs(*names: str) -> frozenset[str]:
    return frozenset(names)


def _bools(*names: str) -> frozenset[str]:
    """A boolean config flag together with the --no- form argparse's BooleanOptionalAction adds."""
    return frozenset(n for name in names for n in (f"--{name}", f"--no-{name}"))


@dataclass(frozen=True, slots=True)
class Change:
    """What one release changed relative to the previous covered one."""

    add_flags: frozenset[str] = frozenset()
    remove_flags: frozenset[str] = frozenset()
    add_metrics: frozenset[str] = frozenset()
    remove_metrics: frozenset[str] = frozenset()
    hide_metrics: frozenset[str] = frozenset()
    deprecate_metrics: frozenset[str] = frozenset()
    add_labels: frozenset[str] = frozenset()
    remove_labels: frozenset[str] = frozenset()
    add_kv_connectors: frozenset[str] = frozenset()


# ---------------------------------------------------------------------------------------
# Data. Sources: vllm-project/vllm vllm/v1/metrics/loggers.py at several commits,
# docs/design/metrics.md, docs/usage/metrics.md, the PRs cited per entry, and the
# docs.vllm.ai "vllm serve" pages of 0.12, 0.18 and 0.30. "approx." marks a change whose
# first release is inferred from the stored source/docs rather than read from a tag.
# ---------------------------------------------------------------------------------------

FLAG_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "-tp": "--tensor-parallel-size",
        "-pp": "--pipeline-parallel-size",
        "-dp": "--data-parallel-size",
        "-asc": "--api-server-count",
        "-q": "--quantization",
    }
)

# Histogram (and summary) base names: their series carry _bucket/_sum/_count suffixes.
HISTOGRAMS: frozenset[str] = _fs(
    "vllm:request_prompt_tokens",
    "vllm:request_generation_tokens",
    "vllm:iteration_tokens_total",
    "vllm:request_max_num_generation_tokens",
    "vllm:request_params_n",
    "vllm:request_params_max_tokens",
    "vllm:time_to_first_token_seconds",
    "vllm:time_per_output_token_seconds",
    "vllm:inter_token_latency_seconds",
    "vllm:request_time_per_output_token_seconds",
    "vllm:e2e_request_latency_seconds",
    "vllm:request_queue_time_seconds",
    "vllm:request_inference_time_seconds",
    "vllm:request_prefill_time_seconds",
    "vllm:request_decode_time_seconds",
    "vllm:request_prefill_kv_computed_tokens",
    "vllm:kv_block_lifetime_seconds",
    "vllm:kv_block_idle_before_evict_seconds",
    "vllm:kv_block_reuse_gap_seconds",
    "http_request_duration_seconds",
    "http_request_duration_highr_seconds",
    "http_request_size_bytes",
    "http_response_size_bytes",
)

# (old, new): renames and the metric that replaces a removed one. Legacy V0-engine names
# (never exported by the V1 engine this table models) are kept so replacement_for can
# still point a stale dashboard at the right series.
METRIC_RENAMES: tuple[tuple[str, str], ...] = (
    ("vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"),  # PR #18354
    ("vllm:gpu_prefix_cache_queries_total", "vllm:prefix_cache_queries_total"),  # PR #18354
    ("vllm:gpu_prefix_cache_hits_total", "vllm:prefix_cache_hits_total"),  # PR #18354
    ("vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"),  # PR #24110
    ("vllm:time_in_queue_requests", "vllm:request_queue_time_seconds"),  # V0, PR #15458
    ("vllm:gpu_prefix_cache_hit_rate", "vllm:prefix_cache_hits_total"),  # V0, PR #14136
    ("vllm:avg_prompt_throughput_toks_per_s", "vllm:prompt_tokens_total"),  # PR #12383: rate()
    ("vllm:avg_generation_throughput_toks_per_s", "vllm:generation_tokens_total"),  # PR #12383
)

_V08_FLAGS = _fs(
    # OpenAI-compatible frontend
    "--host", "--port", "--uvicorn-log-level", "--disable-uvicorn-access-log",
    "--allow-credentials", "--allowed-origins", "--allowed-methods", "--allowed-headers",
    "--api-key", "--lora-modules", "--prompt-adapters", "--chat-template",
    "--chat-template-content-format", "--response-role", "--ssl-keyfile", "--ssl-certfile",
    "--ssl-ca-certs", "--enable-ssl-refresh", "--ssl-cert-reqs", "--root-path", "--middleware",
    "--return-tokens-as-token-ids", "--disable-frontend-multiprocessing",
    "--enable-request-id-headers", "--enable-auto-tool-choice", "--tool-call-parser",
    "--tool-parser-plugin", "--reasoning-parser", "--max-log-len", "--disable-fastapi-docs",
    "--enable-prompt-tokens-details", "--config", "--disable-log-stats",
    "--disable-log-requests",
    # model
    "--model", "--task", "--tokenizer", "--tokenizer-mode", "--trust-remote-code",
    "--no-trust-remote-code", "--dtype", "--seed", "--hf-config-path",
    "--allowed-local-media-path", "--revision", "--code-revision", "--tokenizer-revision",
    "--rope-scaling", "--rope-theta", "--max-model-len", "--quantization", "--enforce-eager",
    "--max-seq-len-to-capture", "--max-logprobs", "--disable-sliding-window",
    "--disable-cascade-attn", "--skip-tokenizer-init", "--served-model-name",
    "--disable-async-output-proc", "--config-format", "--hf-overrides",
    "--override-generation-config", "--generation-config", "--enable-sleep-mode",
    "--model-impl", "--override-pooler-config", "--logits-processor-pattern",
    # load
    "--load-format", "--download-dir", "--model-loader-extra-config", "--ignore-patterns",
    "--use-tqdm-on-load", "--guided-decoding-backend",
    # parallel
    "--distributed-executor-backend", "--pipeline-parallel-size", "--tensor-parallel-size",
    "--data-parallel-size", "--enable-expert-parallel", "--max-parallel-loading-workers",
    "--ray-workers-use-nsight", "--disable-custom-all-reduce", "--worker-cls",
    # cache
    "--block-size", "--gpu-memory-utilization", "--swap-space", "--kv-cache-dtype",
    "--num-gpu-blocks-override", "--enable-prefix-caching", "--no-enable-prefix-caching",
    "--prefix-caching-hash-algo", "--cpu-offload-gb", "--calculate-kv-scales",
    # multimodal, LoRA, prompt adapters
    "--limit-mm-per-prompt", "--mm-processor-kwargs", "--disable-mm-preprocessor-cache",
    "--enable-lora", "--enable-lora-bias", "--max-loras", "--max-lora-rank",
    "--lora-extra-vocab-size", "--lora-dtype", "--long-lora-scaling-factors",
    "--max-cpu-loras", "--fully-sharded-loras", "--enable-prompt-adapter",
    "--max-prompt-adapters", "--max-prompt-adapter-token",
    # speculative, observability, scheduler, compilation, disaggregation
    "--speculative-config", "--show-hidden-metrics-for-version", "--otlp-traces-endpoint",
    "--collect-detailed-traces", "--max-num-batched-tokens", "--max-num-seqs",
    "--max-num-partial-prefills", "--max-long-partial-prefills",
    "--long-prefill-token-threshold", "--num-lookahead-slots", "--scheduler-delay-factor",
    "--preemption-mode", "--num-scheduler-steps", "--multi-step-stream-outputs",
    "--scheduling-policy", "--enable-chunked-prefill", "--disable-chunked-mm-input",
    "--scheduler-cls", "--compilation-config", "--kv-transfer-config", "--additional-config",
)  # fmt: skip

# V1 engine exports of 0.8 (loggers.py of that series; labels model_name + engine).
_V08_METRICS = _fs(
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:gpu_cache_usage_perc",
    "vllm:gpu_prefix_cache_queries_total",
    "vllm:gpu_prefix_cache_hits_total",
    "vllm:num_preemptions_total",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:request_success_total",
    "vllm:request_prompt_tokens",
    "vllm:request_generation_tokens",
    "vllm:iteration_tokens_total",
    "vllm:request_max_num_generation_tokens",
    "vllm:request_params_n",
    "vllm:request_params_max_tokens",
    "vllm:time_to_first_token_seconds",
    "vllm:time_per_output_token_seconds",
    "vllm:e2e_request_latency_seconds",
    "vllm:request_queue_time_seconds",
    "vllm:request_inference_time_seconds",
    "vllm:request_prefill_time_seconds",
    "vllm:request_decode_time_seconds",
    "vllm:lora_requests_info",  # only with --enable-lora
    "vllm:spec_decode_num_draft_tokens_total",  # speculative decoding only
    "vllm:spec_decode_num_accepted_tokens_total",
    "vllm:cache_config_info",
)

_GPU_PREFIXED = _fs(
    "vllm:gpu_cache_usage_perc",
    "vllm:gpu_prefix_cache_queries_total",
    "vllm:gpu_prefix_cache_hits_total",
)
_KV_RENAMED = _fs(
    "vllm:kv_cache_usage_perc", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total"
)

VERSION_CHANGES: tuple[tuple[str, Change], ...] = (
    (
        "0.8",
        Change(
            add_flags=_V08_FLAGS,
            add_metrics=_V08_METRICS,
            add_labels=_fs(
                "model_name",
                "engine",
                "finished_reason",
                "le",
                "max_lora",
                "waiting_lora_adapters",
                "running_lora_adapters",
            ),
        ),
    ),
    (
        "0.9",
        Change(
            # The V1 KV-connector API with LMCacheConnectorV1 (PR #16625, first in 0.8.5; in
            # the 0.9.0 API docs). --kv-transfer-config itself is older (0.8 flags above).
            add_kv_connectors=_fs(LMCACHE_CONNECTOR),
            # API-server scale-out (PR #17546), DP across nodes, KV events; config dataclasses
            # give every boolean engine option a --no- form (approx.).
            add_flags=_fs(
                "--api-server-count",
                "--headless",
                "--data-parallel-size-local",
                "--data-parallel-address",
                "--data-parallel-rpc-port",
                "--kv-events-config",
                "--pt-load-map-location",
                "--hf-token",
                "--enable-server-load-tracking",
            )
            | _bools(
                "enforce-eager",
                "disable-sliding-window",
                "disable-cascade-attn",
                "skip-tokenizer-init",
                "enable-sleep-mode",
                "use-tqdm-on-load",
                "enable-expert-parallel",
                "ray-workers-use-nsight",
                "disable-custom-all-reduce",
                "calculate-kv-scales",
                "enable-lora",
                "enable-lora-bias",
                "fully-sharded-loras",
                "enable-chunked-prefill",
                "disable-chunked-mm-input",
            ),
            # HTTP middleware metrics reinstated (PR #15657, 0.8.5); V1 spec-decode
            # counters per draft and per position (approx.).
            add_metrics=_fs(
                "http_requests_total",
                "http_request_duration_seconds",
                "http_request_duration_highr_seconds",
                "http_request_size_bytes",
                "http_response_size_bytes",
                "vllm:spec_decode_num_drafts_total",
                "vllm:spec_decode_num_accepted_tokens_per_pos_total",
            ),
            add_labels=_fs("handler", "method", "status", "position"),
        ),
    ),
    (
        "0.10",
        Change(
            # --runner/--convert supersede --task (PR #21470); --enable-log-requests
            # supersedes --disable-log-requests; prompt adapters removed (PR #20588).
            add_flags=_fs(
                "--runner",
                "--convert",
                "--enable-log-requests",
                "--no-enable-log-requests",
                "--enable-force-include-usage",
                "--enable-log-outputs",
                "--exclude-tools-when-tool-choice-none",
                "--enable-tokenizer-info-endpoint",
                "--async-scheduling",
            ),
            remove_flags=_fs(
                "--prompt-adapters",
                "--enable-prompt-adapter",
                "--max-prompt-adapters",
                "--max-prompt-adapter-token",
            ),
            # The renamed KV/prefix-cache metrics shipped in 0.9.2 (PR #18354); upstream
            # counts the gpu_* names as deprecated from 0.10 (PR #24245).
            add_metrics=_KV_RENAMED,
            deprecate_metrics=_GPU_PREFIXED,
        ),
    ),
    (
        "0.11",
        Change(
            # Structured outputs replace guided decoding as the config group; CUDA-graph
            # capture sizing replaces --max-seq-len-to-capture; the V0 engine and its
            # multi-step scheduler are gone (approx. for the removals).
            add_flags=_fs(
                "--structured-outputs-config",
                "--max-cudagraph-capture-size",
                "--cudagraph-capture-sizes",
                "--decode-context-parallel-size",
                "--data-parallel-rank",
                "--data-parallel-start-rank",
                "--tool-server",
                "--log-error-stack",
                "--h11-max-incomplete-event-size",
                "--h11-max-header-count",
            ),
            remove_flags=_fs(
                "--num-scheduler-steps",
                "--multi-step-stream-outputs",
                "--disable-async-output-proc",
                "--max-seq-len-to-capture",
            ),
            # gpu_* hidden behind --show-hidden-metrics-for-version=0.10 (PR #24245);
            # inter-token latency renamed, old TPOT histogram deprecated (PR #24110).
            hide_metrics=_GPU_PREFIXED,
            add_metrics=_fs(
                "vllm:inter_token_latency_seconds",
                "vllm:request_time_per_output_token_seconds",
                "vllm:mm_cache_queries_total",  # approx.
                "vllm:mm_cache_hits_total",  # approx.
                "vllm:external_prefix_cache_queries_total",  # KV connector only, approx.
                "vllm:external_prefix_cache_hits_total",
                "vllm:corrupted_requests_total",  # with VLLM_COMPUTE_NANS_IN_LOGITS, approx.
            ),
            deprecate_metrics=_fs("vllm:time_per_output_token_seconds"),
        ),
    ),
    (
        "0.12",
        Change(
            # PR #29330 (Nov 2025): gpu_* removed, old TPOT histogram hidden.
            remove_metrics=_GPU_PREFIXED,
            hide_metrics=_fs("vllm:time_per_output_token_seconds"),
            # KV-block residency histograms, only with --kv-cache-metrics (approx.).
            add_metrics=_fs(
                "vllm:kv_block_lifetime_seconds",
                "vllm:kv_block_idle_before_evict_seconds",
                "vllm:kv_block_reuse_gap_seconds",
            ),
        ),
    ),
    # --task no longer parses on 0.13.0 (gpustack issue #3991).
    ("0.13", Change(remove_flags=_fs("--task"))),
    (
        "0.14",
        Change(
            # Newer than stack.md §2, which stops at "hidden": PR #32661 (Jan 2026) deleted
            # the TPOT histogram. Prompt-token source counters and the sleep-state gauge
            # appear in loggers.py after it (approx.).
            remove_metrics=_fs("vllm:time_per_output_token_seconds"),
            add_metrics=_fs(
                "vllm:engine_sleep_state",
                "vllm:prompt_tokens_by_source_total",
                "vllm:prompt_tokens_cached_total",
                "vllm:prompt_tokens_recomputed_total",
                "vllm:request_prefill_kv_computed_tokens",
            ),
            add_labels=_fs("sleep_state", "source"),
        ),
    ),
    ("0.15", Change()),
    # KServe's LLMInferenceService gates this flag on vLLM >= 0.16.0 (kserve PR #5882).
    ("0.16", Change(add_flags=_fs("--disable-access-log-for-endpoints"))),
    ("0.17", Change()),
    (
        "0.18",
        Change(
            # --shutdown-timeout: PR #36666; the others first appear in the 0.18 serve docs.
            add_flags=_fs("--shutdown-timeout", "--gdn-prefill-backend")
            | _bools("fail-on-environ-validation"),
        ),
    ),
    ("0.19", Change()),
    ("0.20", Change()),
    ("0.21", Change()),
    ("0.22", Change()),
    ("0.23", Change()),
    ("0.24", Change()),
    ("0.25", Change()),
    ("0.26", Change()),
    ("0.27", Change()),
    ("0.28", Change()),
    ("0.29", Change()),
    # First seen in the 0.30 serve docs (approx.).
    ("0.30", Change(add_flags=_fs("--grpc", "--kda-prefill-backend"))),
    ("0.31", Change()),
    # First seen in the 0.32 metrics docs (approx.).
    ("0.32", Change(add_metrics=_fs("vllm:admission_rejections_total"))),
)

# Patch releases that changed a contract within a minor.
PATCH_CHANGES: tuple[tuple[str, Change], ...] = (
    # PR #18354 shipped in 0.9.2: the renamed metrics appear next to the gpu_* ones.
    ("0.9.2", Change(add_metrics=_KV_RENAMED, deprecate_metrics=_GPU_PREFIXED)),
    # PR #16625 (the V1 LMCache connector) shipped in 0.8.5 (approx.: LMCache PR #976 adapts
    # LMCache to "the vLLM 0.8.5 API" of KVConnectorBase_V1).
    ("0.8.5", Change(add_kv_connectors=_fs(LMCACHE_CONNECTOR))),
)

FLAGS_SET_BY_FLEETGEN: frozenset[str] = frozenset(
    {
        "--model",
        "--served-model-name",
        "--host",
        "--port",
        "--tensor-parallel-size",
        "--pipeline-parallel-size",
        "--max-model-len",
        "--max-num-seqs",
        "--gpu-memory-utilization",
        "--kv-cache-dtype",
        "--enable-prefix-caching",
        "--no-enable-prefix-caching",
        "--dtype",
        "--quantization",
        "--otlp-traces-endpoint",
        "--collect-detailed-traces",
        "--api-key",
    }
)

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.\d+)?(?:\.?(?:post|rc|dev)\d+)?$")
_IMAGE_TAG = re.compile(r"^v?(\d+\.\d+\.\d+(?:\.\d+)?(?:\.?(?:post|rc)\d+)?)$")


def canonical_flag(arg: str) -> str | None:
    """Normalise one argv token to its long flag: ``--max_model_len=4`` -> ``--max-model-len``.

    Short aliases (``-tp``, ``-O3``) map to their long form; JSON sub-keys
    (``--compilation-config.level``) map to the base flag. Non-flags return None.
    """
    if not arg.startswith("-") or arg in ("-", "--"):
        return None
    key = arg.split("=", 1)[0]
    if not key.startswith("--"):
        if key in FLAG_ALIASES:
            return FLAG_ALIASES[key]
        # -O3 / -O.level are the optimisation-level shorthand of --compilation-config.
        return "--compilation-config" if key.startswith("-O") else None
    # vLLM's FlexibleArgumentParser accepts underscores in long options.
    return key.split(".", 1)[0].replace("_", "-")


@dataclass(frozen=True, slots=True)
class RuntimeContract:
    """Flags and metrics of one vLLM version (a minor such as "0.11", or a patch)."""

    version: str
    flags: frozenset[str]
    metrics: frozenset[str]
    metric_labels: frozenset[str]
    # Exported only with --show-hidden-metrics-for-version=<previous minor>.
    hidden_metrics: frozenset[str] = frozenset()
    # Exported, but announced for removal: alerting on them is a ticking clock.
    deprecated_metrics: frozenset[str] = frozenset()
    # Flags an earlier covered version accepted and this one rejects.
    removed_flags: frozenset[str] = frozenset()
    # Names --kv-transfer-config's kv_connector accepts (those fleetgen wires).
    kv_connectors: frozenset[str] = frozenset()

    def accepts_flag(self, flag: str) -> bool:
        """True if ``flag`` ("--flag", "--flag=value", "-tp", "--x.y=z") is accepted."""
        name = canonical_flag(flag)
        return name is not None and name in self.flags

    def exports_metric(self, name: str) -> bool:
        """True if ``name`` is an exported series (histogram _bucket/_sum/_count included)."""
        return _base_metric(name) in self.metrics

    def replacement_for(self, metric: str) -> str | None:
        """The name to use instead of ``metric`` on this version, or None.

        Renamed metrics map forward (``vllm:gpu_cache_usage_perc`` ->
        ``vllm:kv_cache_usage_perc`` once the old name is gone) and, on versions older than
        the rename, backward to the name that version still exports; a counter written
        without ``_total`` gets it. Histogram suffixes are kept. Returns None when
        ``metric`` is exported or no exported alternative is known.
        """
        base = _base_metric(metric)
        if base in self.metrics:
            return None
        # Counters are exposed with a _total suffix; the bare name matches nothing.
        if base + "_total" in self.metrics:
            return base + "_total"
        suffix = metric[len(base) :]
        candidates = [new for old, new in METRIC_RENAMES if old == base]
        candidates += [old for old, new in METRIC_RENAMES if new == base]
        for candidate in candidates:
            if candidate in self.metrics:
                return candidate + (suffix if candidate in HISTOGRAMS else "")
        return None


def _base_metric(name: str) -> str:
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def _apply(contract: RuntimeContract, version: str, change: Change) -> RuntimeContract:
    flags = (contract.flags | change.add_flags) - change.remove_flags
    # A flag is "removed" once any covered version had it; re-adding clears the mark.
    removed = (contract.removed_flags | change.remove_flags) - change.add_flags
    metrics = (contract.metrics | change.add_metrics) - change.remove_metrics - change.hide_metrics
    # Hidden metrics stay re-enableable until a later change removes them for good.
    hidden = (contract.hidden_metrics | change.hide_metrics) - change.remove_metrics
    deprecated = (contract.deprecated_metrics | change.deprecate_metrics) & metrics
    return RuntimeContract(
        version=version,
        flags=flags,
        metrics=metrics,
        metric_labels=(contract.metric_labels | change.add_labels) - change.remove_labels,
        hidden_metrics=hidden,
        deprecated_metrics=deprecated,
        removed_flags=removed,
        kv_connectors=contract.kv_connectors | change.add_kv_connectors,
    )


def _build() -> Mapping[str, RuntimeContract]:
    table: dict[str, RuntimeContract] = {}
    current = RuntimeContract("", frozenset(), frozenset(), frozenset())
    for version, change in VERSION_CHANGES:
        current = _apply(current, version, change)
        table[version] = current
    return MappingProxyType(table)


CONTRACTS: Mapping[str, RuntimeContract] = _build()


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def known_versions() -> tuple[str, ...]:
    """The covered minor versions, oldest first (e.g. ``("0.8", "0.9", ...)``)."""
    return tuple(sorted(CONTRACTS, key=_key))


def contract_for(version: str) -> RuntimeContract | None:
    """The contract for ``version`` ("0.11", "0.11.2", "v0.10.1.1"), or None if not covered.

    Patch-level changes recorded in the data (e.g. 0.9.2) are applied on top of the minor.
    """
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    contract = CONTRACTS.get(minor)
    if contract is None or match.group(3) is None:
        return contract
    patch = int(match.group(3))
    for patch_version, change in PATCH_CHANGES:
        p_minor, _, p_patch = patch_version.rpartition(".")
        if p_minor == minor and patch >= int(p_patch):
            contract = _apply(contract, patch_version, change)
    return contract


def vllm_version_from_image(image: str) -> str | None:
    """The vLLM version in an image reference's tag, or None when the tag is not a release.

    ``vllm/vllm-openai:v0.11.2`` and ``…:v0.11.2@sha256:…`` give "0.11.2"; a digest-only
    reference, ``latest``, ``nightly-…`` or any other non-semver tag gives None. A registry
    port (``host:5000/…``) is not mistaken for a tag.
    """
    reference = image.strip().split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    match = _IMAGE_TAG.match(last.rsplit(":", 1)[1])
    return match.group(1) if match else None
