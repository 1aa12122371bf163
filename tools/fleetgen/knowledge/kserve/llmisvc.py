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
# Curated: with spec.worker set the controller runs a LeaderWorkerSet (same name) instead of a
# Deployment (workload_multi_node.go).
DEPLOYMENT = ("apps/v1", "Deployment")
LEADER_WORKER_SET = ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")


def pool_name(name: str) -> str:
    return f"{name}{POOL_SUFFIX}"


def workload_name(name: str) -> str:
    return f"{name}{WORKLOAD_SUFFIX}"


def pod_labels(name: str) -> dict[str, str]:
    """Labels of the pods KServe creates for the main workload of `name` (curated)."""
    return {**_WORKLOAD_LABELS, "app.kubernetes.io/name": name}


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
