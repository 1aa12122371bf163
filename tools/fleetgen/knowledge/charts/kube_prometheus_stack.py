"""What the installed kube-prometheus-stack picks up: its Prometheus's monitor and rule
selectors and its Grafana dashboard sidecar's label, from the chart's defaults
(data/kube-prometheus-stack.json, derived by `extract.py` from the chart's values.yaml and
Prometheus template at the tag it names) with the Application's Helm values merged over them.

The merge follows the chart's template (templates/prometheus/prometheus.yaml): a non-empty
`<kind>Selector` value is used as given; otherwise, with `<kind>SelectorNilUsesHelmValues`
on, the selector is the Helm release's `release: <release name>`; otherwise it selects all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

CHART = "kube-prometheus-stack"
# The kinds a Prometheus selects, by the values key of their selector.
KINDS = {"PodMonitor": "podMonitor", "ServiceMonitor": "serviceMonitor", "PrometheusRule": "rule"}


@dataclass(frozen=True, slots=True)
class Selector:
    match_labels: Mapping[str, str]
    set_in_values: bool  # False: the chart's default decides


@dataclass(frozen=True, slots=True)
class Sidecar:
    label: str
    value: str
    search_namespace: str  # ALL, or a namespace list as the chart writes it


@cache
def _data() -> Mapping[str, Any]:
    text = resources.files(__package__).joinpath(f"data/{CHART}.json").read_text("utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


def source_tag() -> str:
    return str(_data()["source"]["tag"])


def _dig(values: Mapping[str, Any], *path: str) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def selector(kind: str, values: Mapping[str, Any], release: str) -> Selector:
    """The label selector the chart's Prometheus uses for objects of `kind`."""
    key = KINDS[kind]
    facts = _data()["prometheus"][key]
    given = _dig(values, "prometheus", "prometheusSpec", f"{key}Selector")
    if isinstance(given, Mapping) and given:
        labels = given.get("matchLabels") or {}
        return Selector({str(k): str(v) for k, v in labels.items()}, True)
    nil_uses = _dig(values, "prometheus", "prometheusSpec", f"{key}SelectorNilUsesHelmValues")
    if nil_uses is None:
        nil_uses = facts["nilUsesHelmValues"]
    if nil_uses and facts["releaseLabelFallback"]:
        return Selector({"release": release}, False)
    return Selector({}, False)


def dashboard_sidecar(values: Mapping[str, Any]) -> Sidecar | None:
    """The Grafana dashboard sidecar's label and value; None when Grafana or it is off."""
    defaults = _data()["grafana"]
    enabled = _dig(values, "grafana", "enabled")
    if not (defaults["enabled"] if enabled is None else enabled):
        return None
    own = _dig(values, "grafana", "sidecar", "dashboards") or {}
    merged = {**defaults["dashboards"], **(own if isinstance(own, Mapping) else {})}
    if not merged.get("enabled"):
        return None
    return Sidecar(str(merged["label"]), str(merged["labelValue"]), str(merged["searchNamespace"]))
