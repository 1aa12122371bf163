"""What KServe builds for an InferenceService predictor on the vLLM runtime (Standard mode).

The numbers and names come from data/predictor.json, derived from KServe's own runtime file
and Go constants by `predictor_extract.py` (each file's sha256 kept). The rules that combine
them live only in the controller's control flow, so they are curated here, each with the file
it was read from at the data's tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class RuntimeProbe:
    handler: str  # httpGet, tcpSocket, grpc or exec
    port: int | str | None
    path: str | None


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A port of the `<isvc>-predictor` Service: clients dial `port`, the pod gets `target`."""

    name: str | None
    port: int
    target: int


@cache
def _data() -> Mapping[str, Any]:
    text = resources.files(__package__).joinpath("data/predictor.json").read_text("utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


def source_tag() -> str:
    return str(_data()["source"]["tag"])


def runtime_name() -> str:
    return str(_data()["runtime"]["name"])


def runtime_args() -> tuple[str, ...]:
    return tuple(_data()["runtime"]["args"])


def runtime_ports() -> tuple[int, ...]:
    return tuple(_data()["runtime"]["ports"])


def runtime_probes() -> dict[str, RuntimeProbe]:
    return {
        kind: RuntimeProbe(str(p["handler"]), p.get("port"), p.get("path"))
        for kind, p in _data()["runtime"]["probes"].items()
    }


def service_port() -> int:
    return int(_data()["controller"]["servicePort"])


def default_target_port() -> int:
    return int(_data()["controller"]["defaultTargetPort"])


def merged_args(own: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """The predictor's vLLM command line as (arg, where it was written): the runtime's args
    (written nowhere a person edits), then the InferenceService's (curated: utils.go
    MergeRuntimeContainers concatenates rather than replaces)."""
    return [*((a, None) for a in runtime_args()), *own]


def service_ports(declared: Sequence[tuple[str | None, int]]) -> list[ServicePort]:
    """The predictor Service's ports from the container's declared (name, containerPort)s.

    Curated from service_reconciler.go createDefaultSvc: port 80 targets the first declared
    containerPort, every further one is exposed as itself; with none declared, 80 targets the
    default port.
    """
    if not declared:
        return [ServicePort(None, service_port(), default_target_port())]
    (first_name, first), *rest = declared
    return [
        ServicePort(first_name, service_port(), first),
        *(ServicePort(name, number, number) for name, number in rest),
    ]


def pod_labels(isvc: str, own: Mapping[str, str]) -> dict[str, str]:
    """Labels of the predictor pods: the InferenceService's own, plus what the controller adds
    (the keys are derived; the `predictor` component value is curated from the reconciler)."""
    controller = _data()["controller"]
    predictor = f"{isvc}-predictor"
    return {
        **own,
        str(controller["isvcLabel"]): isvc,
        str(controller["componentLabel"]): "predictor",
        str(controller["appLabel"]): f"{controller['appLabelPrefix']}{predictor}",
    }
