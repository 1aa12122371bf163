"""The LLMInferenceService link checks (FG760-FG768) on the example's dev app as the real
kustomize renders it: clean as generated, and each check fires once its object is broken the
way a base or overlay edit would break it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.loading.load import load_fleet
from fleetgen.rendered import llmisvc_links as links
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import ClusterGraph
from fleetgen.rendered.linker import LinkContext
from fleetgen.rendered.provenance import Provenance
from tests.conftest import REPO
from tests.rendered.test_rendered import GENERATED, LLMISVC_APPS, rendered

Check = Callable[[LinkContext], Iterator[Diagnostic]]
(APP,) = [a for a in LLMISVC_APPS if a.relative_to(GENERATED).parts[0] == "dev"]


def _context(edit: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> LinkContext:
    docs = [copy.deepcopy(d) for d in rendered(APP)]
    by_kind = {str(d["kind"]): d for d in docs}
    if edit is not None:
        edit(by_kind)
    app = APP.relative_to(REPO).as_posix()
    graph = ClusterGraph("dev", "dev-a")
    for doc in docs:
        graph.add(RenderedObject(doc, app, None))
    fleet, _ = load_fleet(REPO)
    return LinkContext(graph, fleet.environments["dev"], Provenance(REPO))


def _codes(check: Check, ctx: LinkContext) -> list[str]:
    return [d.code for d in check(ctx)]


def _main(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    main: dict[str, Any] = docs["LLMInferenceService"]["spec"]["template"]["containers"][0]
    return main


def test_the_generated_app_is_clean() -> None:
    assert links.link_llmisvc(_context()) == []


def _two_gpus(docs: dict[str, dict[str, Any]]) -> None:
    for part in ("requests", "limits"):
        _main(docs)["resources"][part]["nvidia.com/gpu"] = "2"


def _expert(docs: dict[str, dict[str, Any]]) -> None:
    docs["LLMInferenceService"]["spec"]["parallelism"]["expert"] = True


def _data_only(docs: dict[str, dict[str, Any]]) -> None:
    docs["LLMInferenceService"]["spec"]["parallelism"]["data"] = 2


def _worker_preset(docs: dict[str, dict[str, Any]]) -> None:
    spec = docs["LLMInferenceService"]["spec"]
    spec["baseRefs"][0] = {"name": llmisvc.WORKER_DATA_PARALLEL}
    spec["parallelism"].update({"data": 2, "dataLocal": 1})


def _old_vllm_on_workers(docs: dict[str, dict[str, Any]]) -> None:
    _worker_preset(docs)
    _main(docs)["image"] = "vllm/vllm-openai:v0.8.5"


def _duplicate_arg(docs: dict[str, dict[str, Any]]) -> None:
    _main(docs)["args"].append("--max-num-seqs=32")


def _replicas(docs: dict[str, dict[str, Any]]) -> None:
    docs["LLMInferenceService"]["spec"]["replicas"] = 2


def _route_to_other_pool(docs: dict[str, dict[str, Any]]) -> None:
    docs["AIGatewayRoute"]["spec"]["rules"][0]["backendRefs"][0]["name"] = "other-pool"


@pytest.mark.parametrize(
    ("edit", "check", "code"),
    [
        (_two_gpus, links.check_gpus, "FG760"),
        (_expert, links.check_parallelism, "FG768"),
        (_data_only, links.check_parallelism, "FG767"),
        # The worker preset makes KServe run a LeaderWorkerSet: the Deployment target misses.
        (_worker_preset, links.check_autoscaler, "FG761"),
        (_replicas, links.check_autoscaler, "FG761"),
        (_old_vllm_on_workers, links.check_merged_args, "FG764"),
        (_duplicate_arg, links.check_merged_args, "FG764"),
        (_route_to_other_pool, links.check_pool_routes, "FG762"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_the_broken_object_is_caught(
    edit: Callable[[dict[str, dict[str, Any]]], None], check: Check, code: str
) -> None:
    assert _codes(check, _context()) == []
    assert code in _codes(check, _context(edit))


def test_the_worker_preset_with_its_leaderworkerset_target_is_clean() -> None:
    def edit(docs: dict[str, dict[str, Any]]) -> None:
        _worker_preset(docs)
        name = docs["LLMInferenceService"]["metadata"]["name"]
        docs["ScaledObject"]["spec"]["scaleTargetRef"] = {
            "apiVersion": "leaderworkerset.x-k8s.io/v1",
            "kind": "LeaderWorkerSet",
            "name": llmisvc.multi_node_workload_name(name),
        }
        group = [{"podSelector": {"matchLabels": llmisvc.group_labels(name)}}]
        docs["NetworkPolicy"]["spec"]["ingress"].append({"from": group})
        docs["NetworkPolicy"]["spec"]["egress"].append({"to": group})

    assert links.link_llmisvc(_context(edit)) == []


def test_a_policy_that_cuts_the_leader_off_its_workers_is_caught() -> None:
    found = list(links.check_multi_node_traffic(_context(_worker_preset)))
    assert [(d.code, d.message.split(" lets no ")[1].split()[0]) for d in found] == [
        ("FG769", "ingress"),
        ("FG769", "egress"),
    ]

    def admitted(docs: dict[str, dict[str, Any]]) -> None:
        _worker_preset(docs)
        name = docs["LLMInferenceService"]["metadata"]["name"]
        group = [{"podSelector": {"matchLabels": llmisvc.group_labels(name)}}]
        docs["NetworkPolicy"]["spec"]["ingress"].append({"from": group})
        docs["NetworkPolicy"]["spec"]["egress"].append({"to": group})

    assert list(links.check_multi_node_traffic(_context(admitted))) == []


def test_old_vllm_is_refused_only_the_flags_it_lacks() -> None:
    found = list(links.check_merged_args(_context(_old_vllm_on_workers)))
    flags = {d.message.split(" passes ")[1].split(",")[0] for d in found}
    # vLLM 0.8.5 has --data-parallel-size but not the per-pod and headless flags.
    assert "--data-parallel-size-local" in flags and "--headless" in flags
    assert "--data-parallel-size" not in flags and "--tensor-parallel-size" not in flags
