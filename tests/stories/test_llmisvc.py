"""Stories of models served through KServe's LLMInferenceService: parallelism the presets
ignore or KServe refuses, autoscalers and routes that miss what KServe creates, flags the
presets already pass; and the legitimate moves between serving APIs and presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import (
    Change,
    Edit,
    Story,
    assert_caught,
    run_change,
    run_story,
    story_id,
)

QWEN = "fleet/qwen2-5-0-5b-instruct.yaml"
DEV = "environments/dev/environment.yaml"
OVERLAY = "applicationsets/dev/dev-a/models/qwen2-5-0-5b-instruct/kustomization.yaml"
SERVICE = "base/llmisvc/llminferenceservice.yaml"
SCALED = "base/llmisvc/scaledobject.yaml"
ROUTE = "base/llmisvc/aigatewayroute.yaml"
MONITOR = "base/llmisvc/podmonitor.yaml"


def qwen_serving(block: str) -> Edit:
    """A serving block in the qwen descriptor (its dev override stays LLMInferenceService)."""
    return (QWEN, "  observability:\n", f"  serving:\n{block}  observability:\n")


def qwen_gpus(count: int) -> Edit:
    return (QWEN, "    gpusPerReplica: 1\n", f"    gpusPerReplica: {count}\n")


# Every environment of qwen on LLMInferenceService, so parallelism applies everywhere.
ALL_LLMISVC = "    api: LLMInferenceService\n"

STORIES = (
    Story(
        "A model owner adds pipeline parallelism for the dev LLMInferenceService, which no "
        "KServe preset hands to vLLM.",
        (
            (QWEN, "    maxNumSeqs: 64\n", "    maxNumSeqs: 64\n    pipelineParallel: 2\n"),
            qwen_gpus(2),
            qwen_serving(ALL_LLMISVC),
        ),
        "validate",
        "FG412",
        QWEN,
        "pipelineParallel: 2",
    ),
    Story(
        "A model owner turns on expert parallelism while keeping the single-node template "
        "preset, which never passes --enable-expert-parallel.",
        (qwen_serving(ALL_LLMISVC + "    parallelism: {expert: true}\n"),),
        "validate",
        "FG412",
        QWEN,
        "parallelism: {expert: true}",
    ),
    Story(
        "A model owner types kserve-config-llm-templates in baseRefs.",
        (
            qwen_serving(
                ALL_LLMISVC
                + "    baseRefs: [kserve-config-llm-templates, kserve-config-llm-scheduler]\n"
            ),
        ),
        "validate",
        "FG413",
        QWEN,
        "baseRefs: [kserve-config-llm-templates",
    ),
    Story(
        "A model owner adds data parallelism for dev's LLMInferenceService, but staging still "
        "serves the model through an InferenceService.",
        (qwen_serving("    parallelism: {data: 2, dataLocal: 1}\n"),),
        "validate",
        "FG414",
        QWEN,
        "parallelism: {data: 2",
    ),
    Story(
        "A model owner sets data parallelism without dataLocal, which KServe's webhook refuses.",
        (qwen_serving(ALL_LLMISVC + "    parallelism: {data: 4}\n"),),
        "validate",
        "FG415",
        QWEN,
        "parallelism: {data: 4}",
    ),
    Story(
        "A model owner picks the data-parallel worker preset but sets no data parallelism.",
        (
            qwen_serving(
                ALL_LLMISVC + "    baseRefs: [kserve-config-llm-worker-data-parallel, "
                "kserve-config-llm-scheduler]\n"
            ),
        ),
        "validate",
        "FG415",
        QWEN,
        "baseRefs: [kserve-config-llm-worker-data-parallel",
    ),
    Story(
        "A model owner asks for 3 data-parallel ranks at 2 per pod.",
        (qwen_serving(ALL_LLMISVC + "    parallelism: {data: 3, dataLocal: 2}\n"), qwen_gpus(2)),
        "validate",
        "FG416",
        QWEN,
        "parallelism: {data: 3",
    ),
    Story(
        "A model owner puts 2 data-parallel ranks in each pod but keeps 1 GPU per pod.",
        (qwen_serving(ALL_LLMISVC + "    parallelism: {data: 4, dataLocal: 2}\n"),),
        "validate",
        "FG411",
        QWEN,
        "gpusPerReplica: 1",
    ),
    Story(
        "A platform engineer shrinks dev's L4 nodes to 2 GPUs, below the 4 GPUs a data-local "
        "qwen pod holds.",
        (
            qwen_serving(ALL_LLMISVC + "    parallelism: {data: 4, dataLocal: 4}\n"),
            qwen_gpus(4),
            (
                DEV,
                "          gpusPerNode: 4\n          nodes: 2\n",
                "          gpusPerNode: 2\n          nodes: 4\n",
            ),
        ),
        "validate",
        "FG417",
        QWEN,
        "parallelism: {data: 4, dataLocal: 4}",
    ),
    Story(
        "A model owner moves to the data-parallel preset but keeps an old vLLM image in dev, "
        "which lacks the preset's --api-server-count.",
        (
            qwen_serving(ALL_LLMISVC + "    parallelism: {data: 2, dataLocal: 1}\n"),
            (
                QWEN,
                "    dev:\n      serving: {api: LLMInferenceService}\n",
                "    dev:\n      serving: {api: LLMInferenceService}\n"
                "      image: vllm/vllm-openai:v0.9.0\n",
            ),
        ),
        "validate",
        "FG418",
        QWEN,
        "image: vllm/vllm-openai:v0.9.0",
    ),
    Story(
        "A model owner raises the data-parallel size through extraArgs, past the ranks KServe "
        "sized the pods for.",
        (
            qwen_serving(ALL_LLMISVC + "    parallelism: {data: 2, dataLocal: 1}\n"),
            (
                QWEN,
                "    maxNumSeqs: 64\n",
                "    maxNumSeqs: 64\n    extraArgs: [--data-parallel-size=4]\n",
            ),
        ),
        "validate",
        "FG419",
        QWEN,
        "extraArgs: [--data-parallel-size=4]",
        also=frozenset({"FG953"}),  # and 4 ranks want more GPUs than the pod requests
    ),
    Story(
        "A platform engineer switches the base ScaledObject to a LeaderWorkerSet for every "
        "LLMInferenceService, though single-node presets run a Deployment.",
        ((SCALED, "    kind: Deployment\n", "    kind: LeaderWorkerSet\n"),),
        "rendered",
        "FG761",
        SCALED,
        "kind: LeaderWorkerSet",
    ),
    Story(
        "An SRE hand-edits the dev overlay to scale the predictor Deployment an "
        "InferenceService would have, not the one KServe creates for the LLMInferenceService.",
        (
            (
                OVERLAY,
                '"value": "qwen2-5-0-5b-instruct-kserve"',
                '"value": "qwen2-5-0-5b-instruct-predictor"',
            ),
        ),
        "all",
        "FG714",
        OVERLAY,
        '"value": "qwen2-5-0-5b-instruct-predictor"',  # the first line that differs
        regenerate=False,
        also=frozenset({"FG761"}),
    ),
    Story(
        "A platform engineer adds --tensor-parallel-size=2 to the base LLMInferenceService "
        "args; the template preset passes spec.parallelism.tensor itself, and the last copy wins.",
        (
            (
                SERVICE,
                "      - --gpu-memory-utilization=0.9\n",
                "      - --gpu-memory-utilization=0.9\n      - --tensor-parallel-size=2\n",
            ),
        ),
        "rendered",
        "FG764",
        SERVICE,
        "--tensor-parallel-size=2",
    ),
    Story(
        "An SRE hand-edits the dev overlay to give the vLLM pod 2 GPUs at tensor parallel 1.",
        (
            (
                OVERLAY,
                '"memory": "16Gi", "nvidia.com/gpu": "1"}, "limits": {"cpu": "2", "memory": '
                '"16Gi", "nvidia.com/gpu": "1"}',
                '"memory": "16Gi", "nvidia.com/gpu": "2"}, "limits": {"cpu": "2", "memory": '
                '"16Gi", "nvidia.com/gpu": "2"}',
            ),
        ),
        "all",
        "FG714",
        OVERLAY,
        '"nvidia.com/gpu": "2"}',
        regenerate=False,
        also=frozenset({"FG760"}),
    ),
    Story(
        "A platform engineer adds a catch-all rule to the base route for unknown model names, "
        "and forgets its backendRefs.",
        (
            (
                ROUTE,
                "  # Token counts land",
                "  - matches: [{headers: [{type: RegularExpression, name: x-ai-eg-model, "
                'value: ".*"}]}]\n  # Token counts land',
            ),
        ),
        "rendered",
        "FG765",
        ROUTE,
        "RegularExpression",
    ),
    Story(
        "A platform engineer points the base route at pools in a shared namespace, with no "
        "ReferenceGrant there.",
        (
            (
                ROUTE,
                "      name: model-inference-pool\n",
                "      name: model-inference-pool\n      namespace: inference-pools\n",
            ),
        ),
        "rendered",
        "FG766",
        ROUTE,
        "namespace: inference-pools",
    ),
    Story(
        "A model owner routes dev through an existing pool, which nothing on the cluster renders.",
        (qwen_serving("    pool: shared-inference-pool\n"),),
        "rendered",
        "FG762",
        QWEN,
        "pool: shared-inference-pool",
    ),
    Story(
        "A platform engineer narrows the managed pool's selector to the predictor label of "
        "base/model, which KServe's LLMInferenceService pods never carry.",
        (
            (
                SERVICE,
                "  router:\n    scheduler: {}\n",
                "  router:\n    scheduler:\n      pool:\n        spec:\n          selector:\n"
                "            matchLabels: {component: predictor}\n"
                "          targetPorts:\n          - number: 8000\n"
                "          endpointPickerRef:\n            kind: Service\n"
                "            name: model-epp-service\n            port: {number: 9002}\n",
            ),
        ),
        "rendered",
        "FG763",
        SERVICE,
        "selector:",
    ),
    Story(
        "An SRE hand-edits the served model name in the dev overlay; the route still matches "
        "the descriptor's name.",
        (
            (
                OVERLAY,
                '"path": "/spec/model/name", "value": "qwen2.5-0.5b-instruct"',
                '"path": "/spec/model/name", "value": "qwen-small"',
            ),
        ),
        "all",
        "FG714",
        OVERLAY,
        '"value": "qwen-small"',
        regenerate=False,
        also=frozenset({"FG705"}),
    ),
    Story(
        "A platform engineer adds a worker pod template to the base LLMInferenceService for "
        "multi-node serving; single-node models now have a worker but no data parallelism.",
        (
            (
                SERVICE,
                "  template:\n",
                "  worker:\n    containers:\n    - name: main\n      image: vllm/vllm-openai:v0.34.0\n"
                "  template:\n",
            ),
        ),
        "rendered",
        "FG767",
        SERVICE,
        "  worker:",
        # a worker also means a LeaderWorkerSet to scale, and ranks the policy must let through
        also=frozenset({"FG761", "FG769"}),
    ),
    Story(
        "A platform engineer copies base/model's scrape port 8080 into the LLMInferenceService "
        "PodMonitor; the preset's vLLM listens on 8000.",
        ((MONITOR, "  - portNumber: 8000\n", "  - portNumber: 8080\n"),),
        "rendered",
        "FG708",
        MONITOR,
        "portNumber: 8080",
    ),
)

CHANGES = (
    Change(
        "A model owner moves staging onto LLMInferenceService too.",
        ((QWEN, "    staging: {}\n", "    staging:\n      serving: {api: LLMInferenceService}\n"),),
    ),
    Change(
        "A model owner moves dev back to an InferenceService.",
        (
            (
                QWEN,
                "    dev:\n      serving: {api: LLMInferenceService}\n",
                "    dev: {}\n",
            ),
        ),
    ),
    Change(
        "A model owner moves the model to the data-parallel worker preset everywhere, with two "
        "ranks per pod and GPUs to match.",
        (
            qwen_serving(ALL_LLMISVC + "    parallelism: {data: 2, dataLocal: 2}\n"),
            qwen_gpus(2),
        ),
    ),
    Change(
        "A model owner tunes the data-parallel preset's API server count through extraArgs.",
        (
            qwen_serving(ALL_LLMISVC + "    parallelism: {data: 2, dataLocal: 1}\n"),
            (
                QWEN,
                "    maxNumSeqs: 64\n",
                "    maxNumSeqs: 64\n    extraArgs: [--api-server-count=2]\n",
            ),
        ),
    ),
    Change(
        "A model owner names the presets explicitly, in KServe's default order.",
        (
            qwen_serving(
                "    baseRefs: [kserve-config-llm-template, kserve-config-llm-scheduler]\n"
            ),
        ),
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
