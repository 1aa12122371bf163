"""`fleetgen plan` on real git repositories: a model that switches serving API, and a change
to an LLMInferenceService that KServe cannot apply in place."""

from __future__ import annotations

from pathlib import Path

from fleetgen.review.serving_notes import recreate_notes
from tests.conftest import RunCli
from tests.review.test_plan import edit, repo  # noqa: F401  (the fixture)

QWEN = Path("fleet") / "qwen2-5-0-5b-instruct.yaml"
DEV_APP = "dev-dev-a-qwen2-5-0-5b-instruct"


def test_switching_to_inference_service_warns_of_the_gap(
    repo: Path,  # noqa: F811
    run_cli: RunCli,
) -> None:
    edit(repo / QWEN, "    dev:\n      serving: {api: LLMInferenceService}\n", "    dev: {}\n")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert (
        f"{DEV_APP}: serving API LLMInferenceService → InferenceService: the route moves from "
        "InferencePool qwen2-5-0-5b-instruct-inference-pool of LLMInferenceService "
        "qwen2-5-0-5b-instruct to the Backend of InferenceService qwen2-5-0-5b-instruct" in out
    )
    assert "requests fail until they are ready" in out
    # Staging keeps its API: no note for it; and an API switch is no in-place recreate.
    assert "staging-staging-a-qwen2-5-0-5b-instruct: serving API" not in out
    assert "needs a recreate" not in out


def test_more_pods_per_replica_needs_a_recreate(
    repo: Path,  # noqa: F811
    run_cli: RunCli,
) -> None:
    edit(
        repo / QWEN,
        "  observability:\n",
        "  serving:\n    api: LLMInferenceService\n    parallelism: {data: 4, dataLocal: 2}\n"
        "  observability:\n",
    )
    edit(repo / QWEN, "    gpusPerReplica: 1\n", "    gpusPerReplica: 2\n")
    edit(repo / QWEN, "    maxReplicas: 2\n", "    maxReplicas: 1\n")
    result = run_cli(["plan", "--base", "main"], cwd=repo)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert (
        f"{DEV_APP}: LLMInferenceService qwen2-5-0-5b-instruct needs a recreate: its total "
        "parallelism size changes 1 → 2 pods per replica" in out
    )
    assert (
        f"{DEV_APP}: KServe replaces Deployment qwen2-5-0-5b-instruct-kserve with "
        "LeaderWorkerSet qwen2-5-0-5b-instruct-kserve-mn" in out
    )
    # Staging moves from InferenceService: a switch note, not a recreate of a service.
    assert "staging-staging-a-qwen2-5-0-5b-instruct: serving API InferenceService → " in out
    assert "staging-staging-a-qwen2-5-0-5b-instruct: LLMInferenceService" not in out
    # The generated ScaledObject follows KServe to the LeaderWorkerSet.
    assert (
        "+    kind: LeaderWorkerSet" in out and "+    name: qwen2-5-0-5b-instruct-kserve-mn" in out
    )


def test_a_change_kserve_rolls_in_place_is_no_recreate() -> None:
    def service(parallelism: dict[str, object], preset: str) -> dict[str, object]:
        return {
            "kind": "LLMInferenceService",
            "metadata": {"name": "m", "namespace": "ns"},
            "spec": {"parallelism": parallelism, "baseRefs": [{"name": preset}]},
        }

    template, workers = "kserve-config-llm-template", "kserve-config-llm-worker-data-parallel"
    # Tensor parallelism is not part of KServe's size: an image or TP change rolls the pods.
    assert not list(
        recreate_notes("a", [service({"tensor": 1}, template)], [service({"tensor": 2}, template)])
    )
    same_size = recreate_notes(
        "a",
        [service({"data": 2, "dataLocal": 1}, workers)],
        [service({"data": 4, "dataLocal": 2}, workers)],
    )
    assert not list(same_size)
    bigger = recreate_notes(
        "a",
        [service({"data": 2, "dataLocal": 1}, workers)],
        [service({"data": 4, "dataLocal": 1}, workers)],
    )
    assert [n.split(":")[1].strip() for n in bigger] == ["LLMInferenceService m needs a recreate"]
