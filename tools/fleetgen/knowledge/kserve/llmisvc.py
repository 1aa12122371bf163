"""What KServe does with an LLMInferenceService: its presets (derived) and its children (curated).

Preset facts come from data/presets.json, derived from KServe's own LLMInferenceServiceConfig
files by `extract.py` (each file's sha256 kept). Facts that live only in the controller's Go
code are curated below, each with where it was read and why it is not derived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

API_VERSION = "serving.kserve.io/v1alpha2"
KIND = "LLMInferenceService"
POOL_API_VERSION = "inference.networking.k8s.io/v1"
POOL_GROUP = "inference.networking.k8s.io"
POOL_KIND = "InferencePool"

# The presets a single-node model uses by default: the vLLM pod and the managed scheduler
# (InferencePool + endpoint picker). fleetgen renders its own AI Gateway route, so KServe's
# HTTPRoute preset (kserve-config-llm-router-route) is not referenced.
TEMPLATE = "kserve-config-llm-template"
WORKER_DATA_PARALLEL = "kserve-config-llm-worker-data-parallel"
SCHEDULER = "kserve-config-llm-scheduler"

# Curated: the controller's child names (kmeta.ChildName(name, suffix)). The pool and EPP
# names also appear in the scheduler and route presets ("{{ ChildName .ObjectMeta.Name
# `-inference-pool` }}"); the Deployment suffix is only in the controller
# (pkg/controller/llmisvc/workload_single_node.go, mainDeploymentName: "-kserve").
POOL_SUFFIX = "-inference-pool"
EPP_SUFFIX = "-epp-service"
WORKLOAD_SUFFIX = "-kserve"

# Curated: labels the controller puts on the single-node main workload's pods
# (workload_single_node.go: singleNodeLabels plus kserve.io/component and llm-d.ai/role;
# role "both" without a prefill workload). Not in any preset: the scheduler preset's pool
# selector is a subset of them, which is what routes traffic to the pods.
_WORKLOAD_LABELS = {
    "app.kubernetes.io/component": "llminferenceservice-workload",
    "app.kubernetes.io/part-of": "llminferenceservice",
    "kserve.io/component": "workload",
    "llm-d.ai/role": "both",
}
# Curated: with spec.worker set (a preset with a worker template, such as
# kserve-config-llm-worker-data-parallel) the controller deletes the Deployment and runs a
# LeaderWorkerSet named <name>-kserve-mn instead (workload_multi_node.go, mainLWSName:
# kmeta.ChildName(name, "-kserve-mn")). Its leader pods carry the workload labels with
# app.kubernetes.io/component "llminferenceservice-workload-leader" (expectedMainMultiNodeLWS).
MULTI_NODE_SUFFIX = "-kserve-mn"
DEPLOYMENT = ("apps/v1", "Deployment")
LEADER_WORKER_SET = ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
_LEADER_COMPONENT = "llminferenceservice-workload-leader"
_WORKER_COMPONENT = "llminferenceservice-workload-worker"

# Curated: what KServe's admission webhook refuses (pkg/apis/serving/v1alpha2/
# llm_inference_service_validation.go at the pinned tag): validateWorkloadParallelism, and
# validateImmutableParallelism, which refuses an update that changes the total parallelism
# size (GetSize in llm_inference_service_types_func.go: data / dataLocal with data
# parallelism, else pipeline, else 1). No CEL rule of the CRD marks a field immutable.
WEBHOOK_SOURCE = "pkg/apis/serving/v1alpha2/llm_inference_service_validation.go"


# Curated: the one flag of the presets' `vllm serve` line that is a tuning knob rather than
# derived from the service's spec or the controller (config-llm-worker-data-parallel.yaml:
# `--api-server-count ${VLLM_API_SERVER_COUNT:-8}`); a later copy in the container's args only
# changes how many API server processes vLLM runs. Every other preset flag mirrors a field
# KServe sized the pods for (parallelism, port, served name, TLS, data-parallel addressing).
TUNABLE_PRESET_FLAGS = frozenset({"--api-server-count"})


def pool_name(name: str) -> str:
    return f"{name}{POOL_SUFFIX}"


def workload_name(name: str) -> str:
    return f"{name}{WORKLOAD_SUFFIX}"


def multi_node_workload_name(name: str) -> str:
    return f"{name}{MULTI_NODE_SUFFIX}"


def workload(name: str, multi_node: bool) -> tuple[str, str, str]:
    """(apiVersion, kind, name) of the object KServe creates for the main workload."""
    if multi_node:
        return (*LEADER_WORKER_SET, multi_node_workload_name(name))
    return (*DEPLOYMENT, workload_name(name))


def pod_labels(name: str, multi_node: bool = False) -> dict[str, str]:
    """Labels of the pods KServe creates for the main workload of `name` (curated): the
    Deployment's pods, or the leader pods of the LeaderWorkerSet (the ones vLLM serves on)."""
    found = {**_WORKLOAD_LABELS, "app.kubernetes.io/name": name}
    if multi_node:
        found["app.kubernetes.io/component"] = _LEADER_COMPONENT
    return found


def worker_pod_labels(name: str) -> dict[str, str]:
    """Labels of a LeaderWorkerSet's worker pods when the service has a leader template
    (expectedMainMultiNodeLWS): outside the pool, so no kserve.io/component."""
    return {
        "app.kubernetes.io/component": _WORKER_COMPONENT,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": _WORKLOAD_LABELS["app.kubernetes.io/part-of"],
    }


def group_labels(name: str) -> dict[str, str]:
    """The labels every pod of the service's workload carries, leader and workers alike."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": _WORKLOAD_LABELS["app.kubernetes.io/part-of"],
    }


def _positive(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def parallelism_size(parallelism: Mapping[str, Any] | None) -> int:
    """KServe's total parallelism size (GetSize): pods per replica of a multi-node workload."""
    spec = parallelism or {}
    data, local = _positive(spec.get("data")), _positive(spec.get("dataLocal"))
    if data or local:
        return max(max(data, 1) // max(local, 1), 1)
    return _positive(spec.get("pipeline")) or 1


def webhook_refusals(
    parallelism: Mapping[str, Any] | None, has_worker: bool
) -> list[tuple[str, str]]:
    """(field of spec.parallelism or "worker", why) for each rule KServe's webhook enforces
    that the spec breaks; the API server refuses such an object on apply."""
    spec = parallelism or {}
    data_parallel = bool(_positive(spec.get("data")) or _positive(spec.get("dataLocal")))
    pipeline = bool(_positive(spec.get("pipeline")))
    found: list[tuple[str, str]] = []
    if has_worker and not (data_parallel or pipeline):
        found.append(
            (
                "worker",
                "a worker template (multi-node preset) needs data or pipeline parallelism",
            )
        )
    if data_parallel and pipeline:
        found.append(("pipeline", "pipeline and data parallelism cannot be set together"))
    if ("data" in spec) != ("dataLocal" in spec):
        missing = "dataLocal" if "data" in spec else "data"
        other = "data" if missing == "dataLocal" else "dataLocal"
        found.append((other, f"{missing} must be set when {other} is set"))
    return found


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    file: str
    sha256: str
    workloads: tuple[str, ...]
    consumes: frozenset[str]  # spec.parallelism fields the main container's command reads
    prefill_consumes: frozenset[str]
    flags: tuple[str, ...]  # flags `vllm serve` gets before the container's own args
    ports: tuple[int, ...]
    pool_selector: Mapping[str, str] | None  # "<name>" stands for the service's name
    pool_target_ports: tuple[int, ...]


def _preset(name: str, data: Mapping[str, Any]) -> Preset:
    selector = data.get("poolSelector")
    return Preset(
        name=name,
        file=str(data["file"]),
        sha256=str(data["sha256"]),
        workloads=tuple(data["workloads"]),
        consumes=frozenset(data["consumes"]),
        prefill_consumes=frozenset(data["prefillConsumes"]),
        flags=tuple(data["flags"]),
        ports=tuple(data["ports"]),
        pool_selector=dict(selector) if selector else None,
        pool_target_ports=tuple(data.get("poolTargetPorts", ())),
    )


@cache
def _data() -> Mapping[str, Any]:
    text = resources.files(__package__).joinpath("data/presets.json").read_text("utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


@cache
def presets() -> Mapping[str, Preset]:
    return {name: _preset(name, data) for name, data in _data()["presets"].items()}


def preset(name: str) -> Preset | None:
    return presets().get(name)


def source_tag() -> str:
    return str(_data()["source"]["tag"])


def selector_for(preset_selector: Mapping[str, str], name: str) -> dict[str, str]:
    """A preset's pool selector with its template filled for service `name`."""
    return {k: (name if v == "<name>" else v) for k, v in preset_selector.items()}
