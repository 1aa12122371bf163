"""The curated facts of KServe's controller and webhook (pinned tag): the workload it creates,
the pods' labels, its parallelism size and what its webhook refuses."""

from __future__ import annotations

from fleetgen.knowledge.kserve import llmisvc


def test_workload_names_follow_the_controller() -> None:
    assert llmisvc.workload("m", multi_node=False) == ("apps/v1", "Deployment", "m-kserve")
    assert llmisvc.workload("m", multi_node=True) == (
        "leaderworkerset.x-k8s.io/v1",
        "LeaderWorkerSet",
        "m-kserve-mn",
    )


def test_leader_pods_stay_in_the_scheduler_pool() -> None:
    scheduler = llmisvc.preset(llmisvc.SCHEDULER)
    assert scheduler is not None and scheduler.pool_selector is not None
    selector = llmisvc.selector_for(scheduler.pool_selector, "m")
    leader = llmisvc.pod_labels("m", multi_node=True)
    assert selector.items() <= leader.items()
    assert (
        leader["app.kubernetes.io/component"]
        != llmisvc.pod_labels("m")["app.kubernetes.io/component"]
    )


def test_parallelism_size_is_pods_per_replica() -> None:
    assert llmisvc.parallelism_size(None) == 1
    assert llmisvc.parallelism_size({"tensor": 4}) == 1
    assert llmisvc.parallelism_size({"data": 8, "dataLocal": 2}) == 4
    assert llmisvc.parallelism_size({"data": 3, "dataLocal": 2}) == 1  # integer division
    assert llmisvc.parallelism_size({"pipeline": 2}) == 2


def test_webhook_refusals() -> None:
    assert llmisvc.webhook_refusals({"tensor": 2}, has_worker=False) == []
    assert llmisvc.webhook_refusals({"data": 4, "dataLocal": 2}, has_worker=True) == []
    assert [f for f, _ in llmisvc.webhook_refusals({"tensor": 1}, has_worker=True)] == ["worker"]
    assert [f for f, _ in llmisvc.webhook_refusals({"data": 4}, has_worker=True)] == ["data"]
    both = llmisvc.webhook_refusals({"data": 2, "dataLocal": 1, "pipeline": 2}, has_worker=True)
    assert [f for f, _ in both] == ["pipeline"]
