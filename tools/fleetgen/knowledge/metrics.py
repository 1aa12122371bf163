"""vLLM metrics that the platform's shared objects (alert rules, dashboards) query.

The runtime-contract check verifies that every pinned vLLM version exports them; the base
manifests and the generator must only use names listed here.
"""

from __future__ import annotations

QUEUE = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_CACHE_USAGE = "vllm:kv_cache_usage_perc"
TTFT = "vllm:time_to_first_token_seconds"
E2E_LATENCY = "vllm:e2e_request_latency_seconds"
REQUEST_SUCCESS = "vllm:request_success_total"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"

PLATFORM_METRICS: tuple[str, ...] = (
    QUEUE,
    RUNNING,
    KV_CACHE_USAGE,
    TTFT,
    E2E_LATENCY,
    REQUEST_SUCCESS,
    PROMPT_TOKENS,
    GENERATION_TOKENS,
)

# The label of REQUEST_SUCCESS that says how a request ended, and the value vLLM gives a
# failed one (from 0.13; the error-ratio alert and panel exist only where it does).
FINISHED_REASON = "finished_reason"
ERROR_REASON = "error"
