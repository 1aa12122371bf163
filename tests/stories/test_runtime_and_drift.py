"""Stories about what Argo CD really applies (hand-edited generated overlays, a tree nobody
regenerated), about what the pinned vLLM release exports and accepts, and about the KServe
deployment mode and names; and the legitimate runtime changes that must stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Change, Story, assert_caught, run_change, run_story, story_id

LLAMA = "fleet/llama-3-1-8b-instruct.yaml"
QWEN = "fleet/qwen2-5-0-5b-instruct.yaml"
MIXTRAL = "fleet/mixtral-8x7b-instruct.yaml"
DEV_LLAMA = "applicationsets/dev/dev-a/models/llama-3-1-8b-instruct/kustomization.yaml"
STAGING_QWEN = "applicationsets/staging/staging-a/models/qwen2-5-0-5b-instruct/kustomization.yaml"
DEV_PLATFORM = "applicationsets/dev/dev-a/platform/kustomization.yaml"
RULES = "base/model/prometheusrule.yaml"
SCALER = "base/model/scaledobject.yaml"
ISVC = "base/model/inferenceservice.yaml"
PINNED = "vllm/vllm-openai:v0.34.0@sha256:"
QWEN_IMAGE = "    image: vllm/vllm-openai:v0.34.0\n"
DRIFT = frozenset({"FG714"})  # at --all, a hand edit is also drift from the generator

# A base alert a platform engineer adds: (alert name, expression).
_ALERT = """    - alert: {name}
      expr: {expr}
      for: 10m
      labels:
        severity: warning
      annotations:
        summary: {name}
"""


def _alert(name: str, expr: str) -> tuple[str, str, str]:
    """Append an alert to the base model rules (after the last one)."""
    last = "finishes {{ $value | humanizePercentage }} of requests with an error.'\n"
    return (RULES, last, last + _ALERT.format(name=name, expr=expr))


def _pin(path: str, version: str) -> tuple[str, str, str]:
    if path == QWEN:
        return (QWEN, QWEN_IMAGE, f"    image: vllm/vllm-openai:v{version}\n")
    return (path, PINNED, f"vllm/vllm-openai:v{version}@sha256:")


HAND_EDITS = (
    Story(
        "Someone hand-edits the dev llama overlay to set minReplicas to the word 'one'.",
        (
            (
                DEV_LLAMA,
                '"path": "/spec/predictor/minReplicas", "value": 1}',
                '"path": "/spec/predictor/minReplicas", "value": "one"}',
            ),
        ),
        "rendered",
        "FG701",
        DEV_LLAMA,
        '"value": "one"',
        regenerate=False,
    ),
    Story(
        "Someone shortens the ScaledObject's target in the committed dev overlay by hand.",
        (
            (
                DEV_LLAMA,
                '"value": "llama-3-1-8b-instruct-predictor"}',
                '"value": "llama-predictor"}',
            ),
        ),
        "rendered",
        "FG706",
        DEV_LLAMA,
        '"value": "llama-predictor"',
        regenerate=False,
    ),
    Story(
        "Someone hand-edits the committed queue alert to the metric name vLLM 0.8 used.",
        (
            (
                DEV_LLAMA,
                '(vllm:kv_cache_usage_perc{namespace=\\"llm-dev\\",model_name=\\"llama-3.1-8b-'
                'instruct\\"}) > 0.95"}',
                '(vllm:gpu_cache_usage_perc{namespace=\\"llm-dev\\",model_name=\\"llama-3.1-8b-'
                'instruct\\"}) > 0.95"}',
            ),
        ),
        "rendered",
        "FG707",
        DEV_LLAMA,
        "vllm:gpu_cache_usage_perc",
        regenerate=False,
    ),
    Story(
        "Someone hand-edits the committed scaler to scale on the request counter.",
        (
            (
                DEV_LLAMA,
                '"value": "sum(vllm:num_requests_waiting{',
                '"value": "sum(vllm:request_success_total{',
            ),
        ),
        "rendered",
        "FG512",
        DEV_LLAMA,
        '"value": "sum(vllm:request_success_total{',
        regenerate=False,
    ),
    Story(
        'Someone hand-edits the committed error alert to match finished_reason="failed".',
        (
            (
                DEV_LLAMA,
                'finished_reason=\\"error\\"}[5m])) / sum by (namespace, model_name) '
                '(rate(vllm:request_success_total{namespace=\\"llm-dev\\",model_name=\\"llama-3.1'
                '-8b-instruct\\"}[5m])) > 0.05"}',
                'finished_reason=\\"failed\\"}[5m])) / sum by (namespace, model_name) '
                '(rate(vllm:request_success_total{namespace=\\"llm-dev\\",model_name=\\"llama-3.1'
                '-8b-instruct\\"}[5m])) > 0.05"}',
            ),
        ),
        "rendered",
        "FG513",
        DEV_LLAMA,
        'finished_reason=\\"failed\\"}[5m])) / sum by (namespace, model_name) (rate(vllm:req',
        regenerate=False,
    ),
    Story(
        "Someone adds metricType Utilization to the committed scaler's trigger by hand.",
        (
            (
                DEV_LLAMA,
                '      {"op": "replace", "path": "/spec/triggers/0/metadata/threshold", '
                '"value": "5"}\n',
                '      {"op": "replace", "path": "/spec/triggers/0/metadata/threshold", '
                '"value": "5"},\n'
                '      {"op": "add", "path": "/spec/triggers/0/metricType", '
                '"value": "Utilization"}\n',
            ),
        ),
        "rendered",
        "FG515",
        DEV_LLAMA,
        '"value": "Utilization"',
        regenerate=False,
    ),
    Story(
        "Someone deletes a bracket from the committed dev overlay while resolving a conflict.",
        ((DEV_LLAMA, "patches:\n- target:\n", "patches:\n- target: [\n"),),
        "rendered",
        "FG700",
        DEV_LLAMA,
        "- target: [",
        regenerate=False,
    ),
    Story(
        "Someone patches a field the base has not got in the committed overlay, so kustomize "
        "refuses the build Argo CD runs.",
        (
            (
                DEV_LLAMA,
                '"path": "/spec/predictor/minReplicas", "value": 1}',
                '"path": "/spec/predictor/minReplica/count", "value": 1}',
            ),
        ),
        "rendered",
        "FG700",
        DEV_LLAMA,
        "/spec/predictor/minReplica/count",
        regenerate=False,
    ),
    Story(
        "Someone hand-edits the staging qwen overlay's scaler and the PR check runs --all.",
        (
            (
                STAGING_QWEN,
                '"value": "sum(vllm:num_requests_waiting{',
                '"value": "sum(vllm:generation_tokens_total{',
            ),
        ),
        "all",
        "FG512",
        STAGING_QWEN,
        '"value": "sum(vllm:generation_tokens_total{',
        regenerate=False,
        also=DRIFT,
    ),
    Story(
        "Someone hand-edits the committed overlay at --all: the drift is reported at the line.",
        (
            (
                DEV_LLAMA,
                '"path": "/spec/triggers/0/metadata/threshold", "value": "5"}',
                '"path": "/spec/triggers/0/metadata/threshold", "value": "50"}',
            ),
        ),
        "all",
        "FG714",
        DEV_LLAMA,
        '"value": "50"',
        regenerate=False,
    ),
    Story(
        "A model owner raises targetPerPod in the descriptor but commits without regenerating.",
        ((LLAMA, "    targetPerPod: 5", "    targetPerPod: 8"),),
        "all",
        "FG714",
        DEV_LLAMA,
        '"path": "/spec/triggers/0/metadata/threshold"',
        regenerate=False,
    ),
    Story(
        "A platform engineer renames the dev gateway host in the environment and commits "
        "without running fleetgen generate.",
        (("environments/dev/environment.yaml", "[llm.dev.example.com]", "[llm.dev.example.org]"),),
        "all",
        "FG714",
        DEV_PLATFORM,
        '"path": "/spec/listeners"',
        regenerate=False,
    ),
    Story(
        "Someone points the committed dev platform dashboard at the vLLM 0.8 KV-cache metric.",
        (
            (
                DEV_PLATFORM,
                'max by (model_name) (vllm:kv_cache_usage_perc{namespace=\\\\\\"llm-dev\\\\\\"})',
                'max by (model_name) (vllm:gpu_cache_usage_perc{namespace=\\\\\\"llm-dev\\\\\\"})',
            ),
        ),
        "rendered",
        "FG707",
        DEV_PLATFORM,
        "gpu_cache_usage_perc",
        regenerate=False,
    ),
)

METRIC_SEMANTICS = (
    Story(
        "A model owner scales on the request counter instead of the queue gauge.",
        ((LLAMA, "    metric: vllm:num_requests_waiting", "    metric: vllm:prompt_tokens_total"),),
        "validate",
        "FG512",
        LLAMA,
        "metric: vllm:prompt_tokens_total",
    ),
    Story(
        "A model owner adds --disable-log-stats to quiet the logs, and blinds scaler and alerts.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--disable-log-stats"]',
            ),
        ),
        "validate",
        "FG514",
        LLAMA,
        "--disable-log-stats",
    ),
    Story(
        "A platform engineer copies an old per-token latency alert into the base rules; "
        "vLLM renamed that histogram and the fleet's release no longer exports it.",
        (
            _alert(
                "VLLMTimePerOutputTokenHigh",
                "histogram_quantile(0.95, sum by (le, namespace, model_name) "
                "(rate(vllm:time_per_output_token_seconds_bucket[5m]))) > 0.2",
            ),
        ),
        "rendered",
        "FG707",
        RULES,
        "vllm:time_per_output_token_seconds_bucket",
    ),
    Story(
        "A platform engineer adds a base alert on inter-token latency, which the qwen pin "
        "(vLLM 0.8.5) does not export yet.",
        (
            _pin(QWEN, "0.8.5"),
            _alert(
                "VLLMInterTokenLatencyHigh",
                "histogram_quantile(0.95, sum by (le, namespace, model_name) "
                "(rate(vllm:inter_token_latency_seconds_bucket[5m]))) > 0.2",
            ),
        ),
        "rendered",
        "FG707",
        RULES,
        "vllm:inter_token_latency_seconds_bucket",
    ),
    Story(
        'A platform engineer adds a base alert on finished_reason="error", which vLLM 0.10 '
        "never sets, so the alert can never fire for qwen.",
        (
            _pin(QWEN, "0.10.2"),
            _alert(
                "VLLMAnyError",
                "sum by (namespace, model_name) (rate(vllm:request_success_total"
                '{finished_reason="error"}[5m])) > 0',
            ),
        ),
        "rendered",
        "FG513",
        RULES,
        'request_success_total{finished_reason="error"}',
    ),
    Story(
        "A platform engineer adds --disable-log-stats to the LLMInferenceService base args to "
        "cut log volume, which also switches off the metrics its scaler and alerts read.",
        (
            (
                "base/llmisvc/llminferenceservice.yaml",
                "      - --gpu-memory-utilization=0.9\n",
                "      - --gpu-memory-utilization=0.9\n      - --disable-log-stats\n",
            ),
        ),
        "rendered",
        "FG514",
        "base/llmisvc/llminferenceservice.yaml",
        "--disable-log-stats",
    ),
    Story(
        "Someone appends --disable-log-stats to the args in the committed dev overlay by hand.",
        (
            (
                DEV_LLAMA,
                '"value": "--enable-chunked-prefill"},\n',
                '"value": "--enable-chunked-prefill"},\n'
                '      {"op": "add", "path": "/spec/predictor/model/args/-", '
                '"value": "--disable-log-stats"},\n',
            ),
        ),
        "rendered",
        "FG514",
        DEV_LLAMA,
        '"value": "--disable-log-stats"',
        regenerate=False,
    ),
    Story(
        "A platform engineer sets the base trigger's metricType to Utilization.",
        ((SCALER, "    metricType: AverageValue", "    metricType: Utilization"),),
        "rendered",
        "FG515",
        SCALER,
        "metricType: Utilization",
    ),
    Story(
        "A platform engineer adds a base alert that matches a finished_reason vLLM never sets.",
        (
            _alert(
                "VLLMTimeouts",
                "sum by (namespace, model_name) (rate(vllm:request_success_total"
                '{finished_reason="timeout"}[5m])) > 0',
            ),
        ),
        "rendered",
        "FG513",
        RULES,
        'finished_reason="timeout"',
    ),
)

RUNTIME_PINS = (
    Story(
        "A model owner pins qwen to vLLM 0.8.5 but scales it on the KV-cache gauge of 0.9.",
        (
            _pin(QWEN, "0.8.5"),
            (
                QWEN,
                "    targetPerPod: 10",
                "    metric: vllm:kv_cache_usage_perc\n    targetPerPod: 1",
            ),
        ),
        "validate",
        "FG503",
        QWEN,
        "metric: vllm:kv_cache_usage_perc",
    ),
    Story(
        "A model owner switches qwen to the floating latest tag.",
        ((QWEN, QWEN_IMAGE, "    image: vllm/vllm-openai:latest\n"),),
        "validate",
        "FG507",
        QWEN,
        "vllm/vllm-openai:latest",
        also=frozenset({"FG504"}),
    ),
    Story(
        "A model owner pins mixtral to a vLLM release older than any fleetgen knows.",
        (_pin(MIXTRAL, "0.6.0"),),
        "validate",
        "FG504",
        MIXTRAL,
        "vllm/vllm-openai:v0.6.0",
    ),
    Story(
        "A model owner passes a flag that the pinned vLLM release does not accept.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--enable-turbo-mode"]',
            ),
        ),
        "validate",
        "FG505",
        LLAMA,
        "--enable-turbo-mode",
    ),
    Story(
        "A model owner sets the tensor parallel size in extraArgs, a flag fleetgen sets itself.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--tensor-parallel-size=2"]',
            ),
        ),
        "validate",
        "FG506",
        LLAMA,
        "--tensor-parallel-size=2",
    ),
)

STAGING_MIXTRAL = (
    "applicationsets/staging/staging-a/models/mixtral-8x7b-instruct/kustomization.yaml"
)
STAGING = "environments/staging/environment.yaml"
MODE = "    serving.kserve.io/deploymentMode: Standard"


def _mode(value: str) -> tuple[str, str, str]:
    return (ISVC, MODE, f"    serving.kserve.io/deploymentMode: {value}")


KSERVE = (
    Story(
        "A platform engineer switches the base InferenceService to Knative for scale to zero; "
        "KServe then creates no predictor Deployment for KEDA or the Backend.",
        (_mode("Knative"),),
        "rendered",
        "FG972",
        ISVC,
        "deploymentMode: Knative",
    ),
    Story(
        "A platform engineer copies the old Serverless mode from a KServe tutorial into base.",
        (_mode("Serverless"),),
        "rendered",
        "FG972",
        ISVC,
        "deploymentMode: Serverless",
    ),
    Story(
        "A platform engineer shortens the mode to Raw, which KServe does not know.",
        (_mode("Raw"),),
        "rendered",
        "FG971",
        ISVC,
        "deploymentMode: Raw",
    ),
    Story(
        "A platform engineer lower-cases the deployment mode.",
        (_mode("standard"),),
        "rendered",
        "FG971",
        ISVC,
        "deploymentMode: standard",
    ),
    Story(
        "A platform engineer writes the legacy RawDeployment, which KServe rewrites, so Argo CD "
        "shows every model OutOfSync.",
        (_mode("RawDeployment"),),
        "rendered",
        "FG973",
        ISVC,
        "deploymentMode: RawDeployment",
    ),
    Story(
        "A platform engineer moves the base InferenceService to ModelMesh.",
        (_mode("ModelMesh"),),
        "rendered",
        "FG972",
        ISVC,
        "deploymentMode: ModelMesh",
    ),
    Story(
        "Someone sets the deployment mode to Knative in the committed staging overlay by hand.",
        (
            (
                STAGING_MIXTRAL,
                '      {"op": "replace", "path": "/metadata/name", "value": "mixtral-8x7b-instruct"},\n',
                '      {"op": "replace", "path": "/metadata/name", "value": "mixtral-8x7b-instruct"},\n'
                '      {"op": "replace", "path": "/metadata/annotations/serving.kserve.io~1deploymentMode", '
                '"value": "Knative"},\n',
            ),
        ),
        "rendered",
        "FG972",
        STAGING_MIXTRAL,
        '"value": "Knative"',
        regenerate=False,
    ),
    Story(
        "A platform team gives staging a long namespace, so KServe's host label "
        "<isvc>-predictor-<namespace> no longer fits in 63 characters.",
        ((STAGING, "  namespace: llm\n", "  namespace: llm-staging-inference-serving-team-x\n"),),
        "validate",
        "FG303",
        "fleet/llama-3-1-70b-instruct-fp8.yaml",
        "name: llama-3-1-70b-instruct-fp8",
    ),
    Story(
        "Someone renames the InferenceService in the committed staging overlay to a longer "
        "name, whose predictor host label exceeds 63 characters.",
        (
            (
                STAGING_MIXTRAL,
                '      {"op": "replace", "path": "/metadata/name", "value": "mixtral-8x7b-instruct"},\n',
                '      {"op": "replace", "path": "/metadata/name", "value": '
                '"mixtral-8x7b-instruct-v0-1-for-the-staging-evaluation"},\n',
            ),
        ),
        "rendered",
        "FG974",
        STAGING_MIXTRAL,
        "mixtral-8x7b-instruct-v0-1-for-the-staging-evaluation",
        regenerate=False,
        also=frozenset({"FG704", "FG706", "FG708", "FG709", "FG711", "FG930"}),
    ),
)

STORIES = HAND_EDITS + METRIC_SEMANTICS + RUNTIME_PINS + KSERVE

CHANGES = (
    Change("A model owner pins qwen to the older supported vLLM 0.8.5.", (_pin(QWEN, "0.8.5"),)),
    Change("A model owner pins qwen to vLLM 0.10.2.", (_pin(QWEN, "0.10.2"),)),
    Change(
        "A model owner pins llama to vLLM 0.9.2, where the KV-cache metric got its new name.",
        (_pin(LLAMA, "0.9.2"),),
    ),
    Change("A model owner moves mixtral to vLLM 0.30.0.", (_pin(MIXTRAL, "0.30.0"),)),
    Change(
        "A platform engineer adds a base alert on preemptions, a counter every release exports.",
        (
            _alert(
                "VLLMPreempting",
                "sum by (namespace, model_name) (rate(vllm:num_preemptions_total[5m])) > 1",
            ),
        ),
    ),
    Change(
        "A model owner scales qwen on running requests, another gauge.",
        (
            (
                QWEN,
                "    targetPerPod: 10",
                "    metric: vllm:num_requests_running\n    targetPerPod: 4",
            ),
        ),
    ),
    Change(
        "A model owner pins qwen to vLLM 0.13.0 and keeps the error-ratio alert.",
        (_pin(QWEN, "0.13.0"),),
    ),
    Change(
        "A platform engineer drops the base mode annotation: the environment installs KServe "
        "with Standard as its default.",
        ((ISVC, MODE + "\n", ""),),
    ),
)


@pytest.mark.parametrize("story", STORIES, ids=story_id)
def test_the_mistake_is_caught(story: Story, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    assert_caught(root, story, run_story(root, story))


@pytest.mark.parametrize("change", CHANGES, ids=story_id)
def test_the_change_stays_clean(change: Change, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    report = run_change(root, change)
    assert not report.diagnostics, (change.says, [d.as_dict() for d in report.diagnostics])
