"""FG932, FG933: what the installed kube-prometheus-stack picks up, in the committed tree.

On every cluster whose Argo CD Applications install the kube-prometheus-stack chart, its
Prometheus selects PodMonitors, ServiceMonitors and PrometheusRules by label, and its Grafana
sidecar loads dashboard ConfigMaps by label (`knowledge.charts.kube_prometheus_stack`: the
chart's defaults with the Application's Helm values over them). Every monitor, rule and
dashboard the Applications deliver to that cluster must carry those labels, or it is applied
without error and never used: no scrape, no alert, no dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.argocd.checks import Snapshot
from fleetgen.argocd.model import App, RenderedObject
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.knowledge.charts import kube_prometheus_stack as kps
from fleetgen.loading.yaml_source import ParsedFile, parse

__all__ = ["check_pickup"]

DCGM_CHART = "dcgm-exporter"


@dataclass(frozen=True, slots=True)
class _Stack:
    app: App
    source: tuple[str | int, ...]  # path of the chart's source in the Application
    values: Mapping[str, Any]
    release: str


@dataclass(frozen=True, slots=True)
class _Offered:
    """An object a Prometheus or Grafana should pick up, and where its labels are written."""

    kind: str
    name: str
    namespace: str | None
    labels: Mapping[str, str]
    origin: Location  # the file that writes it
    labels_at: tuple[str | int, ...] | None  # path of its labels in that file, when known
    app: App | None = None  # a chart-made object: the Application that sets its labels
    doc: Mapping[str, Any] | None = None  # the built object, when it is in this repository


def _values(source: Mapping[str, Any]) -> Mapping[str, Any]:
    helm = source.get("helm") or {}
    values = helm.get("valuesObject") if isinstance(helm, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def _release(app: App, source: Mapping[str, Any]) -> str:
    helm = source.get("helm") or {}
    name = helm.get("releaseName") if isinstance(helm, Mapping) else None
    return str(name or app.name)


def _stacks(snap: Snapshot) -> dict[str, _Stack]:
    found: dict[str, _Stack] = {}
    for app in snap.apps:
        for path, source in app.sources:
            if source.get("chart") == kps.CHART:
                found.setdefault(
                    app.server, _Stack(app, path, _values(source), _release(app, source))
                )
    return found


def _labels(doc: Mapping[str, Any]) -> dict[str, str]:
    found = (doc.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def _offered(snap: Snapshot, server: str) -> Iterator[_Offered]:
    for app, build in snap.built():
        if app.server != server:
            continue
        for obj in build.objects:
            if obj.kind in kps.KINDS or obj.kind == "ConfigMap":
                yield _from_build(obj)
    for app in snap.apps:
        if app.server != server:
            continue
        for path, source in app.sources:
            monitor = _values(source).get("serviceMonitor") or {}
            if source.get("chart") == DCGM_CHART and monitor.get("enabled"):
                # Curated: the dcgm-exporter chart labels its ServiceMonitor with
                # serviceMonitor.additionalLabels (templates/service-monitor.yaml); its other
                # labels are the chart's app labels, never a Prometheus release's.
                extra = monitor.get("additionalLabels") or {}
                yield _Offered(
                    "ServiceMonitor",
                    DCGM_CHART,
                    app.dest_namespace or None,
                    {str(k): str(v) for k, v in extra.items()},
                    app.at(*path),
                    (*path, "helm", "valuesObject", "serviceMonitor", "additionalLabels"),
                    app,
                )


def _from_build(obj: RenderedObject) -> _Offered:
    return _Offered(
        obj.kind,
        obj.name,
        obj.namespace,
        _labels(obj.doc),
        obj.origin,
        ("metadata", "labels"),
        doc=obj.doc,
    )


def _is_dashboard(doc: Mapping[str, Any]) -> bool:
    for key, text in (doc.get("data") or {}).items():
        if str(key).endswith(".json"):
            try:
                board = json.loads(str(text))
            except ValueError:
                continue
            if isinstance(board, dict) and ("panels" in board or board == {}):
                return True
    return False


def _parsed(root: Path, rel: str) -> ParsedFile | None:
    try:
        found = parse((root / rel).read_bytes(), rel)
    except OSError:
        return None
    return found if isinstance(found, ParsedFile) else None


def _at(root: Path, offered: _Offered, key: str) -> Location:
    """The line of the label `key` (or of the labels) where the object is written."""
    if offered.app is not None and offered.labels_at is not None:
        labels_at = [*offered.labels_at, key] if key in offered.labels else offered.labels_at
        return offered.app.at(*labels_at)
    parsed = _parsed(root, offered.origin.file) if offered.labels_at else None
    if parsed is None or offered.labels_at is None:
        return offered.origin
    line, column = parsed.positions.key([*offered.labels_at, key])
    return Location(offered.origin.file, line, column)


def _prometheus(snap: Snapshot, stack: _Stack, offered: list[_Offered]) -> Iterator[Diagnostic]:
    root = snap.repo.root
    for kind, key in kps.KINDS.items():
        wanted = kps.selector(kind, stack.values, stack.release)
        mine = [o for o in offered if o.kind == kind]
        missed = [o for o in mine if not wanted.match_labels.items() <= o.labels.items()]
        if not missed:
            continue
        shown = ", ".join(f"{k}={v}" for k, v in sorted(wanted.match_labels.items()))
        told = (
            "its Helm values set"
            if wanted.set_in_values
            else f"the chart's default (kube-prometheus-stack {kps.source_tag()}) is"
        )
        others = [
            kps.selector(k, stack.values, stack.release).match_labels
            for k in kps.KINDS
            if k != kind
        ]
        if (
            wanted.set_in_values
            and len(missed) == len(mine)
            and any(o != wanted.match_labels for o in others)
        ):
            # Nothing matches and the selector differs from its siblings: it is what changed.
            yield diag(
                "FG932",
                f"the Prometheus of {stack.app.name} selects {kind}s by {{{shown}}}, which none "
                f"of the {len(mine)} {kind}s on {stack.app.server} carries: none is used",
                stack.app.at(
                    *stack.source,
                    "helm",
                    "valuesObject",
                    "prometheus",
                    "prometheusSpec",
                    f"{key}Selector",
                ),
                hint="select the labels the environment's prometheus.selectorLabels give "
                "every monitor and rule",
            )
            continue
        for o in missed:
            failing = next(
                (k for k, v in sorted(wanted.match_labels.items()) if o.labels.get(k) != v), ""
            )
            yield diag(
                "FG932",
                f"{kind} {o.namespace + '/' if o.namespace else ''}{o.name} is not picked up by "
                f"the Prometheus of {stack.app.name}: {told} {{{shown}}}, the object has "
                f"{failing}={o.labels.get(failing)!r}",
                _at(root, o, failing),
                hint="give it the labels of the environment's prometheus.selectorLabels",
            )


def _grafana(snap: Snapshot, stack: _Stack, offered: list[_Offered]) -> Iterator[Diagnostic]:
    sidecar = kps.dashboard_sidecar(stack.values)
    if sidecar is None:
        return
    root = snap.repo.root
    watched = (
        None
        if sidecar.search_namespace == "ALL"
        else {n.strip() for n in sidecar.search_namespace.split(",") if n.strip()}
    )
    for o in offered:
        if o.kind != "ConfigMap" or o.app is not None:
            continue
        if o.doc is None or not _is_dashboard(o.doc):
            continue
        value = o.labels.get(sidecar.label)
        if value is None or (sidecar.value and value != sidecar.value):
            near = next((k for k in o.labels if "dashboard" in k or "grafana" in k), sidecar.label)
            yield diag(
                "FG933",
                f"dashboard ConfigMap {o.namespace}/{o.name} carries "
                f"{near}={o.labels.get(near)!r}; the Grafana sidecar of {stack.app.name} loads "
                f"ConfigMaps labelled {sidecar.label}={sidecar.value!r} "
                f"(kube-prometheus-stack {kps.source_tag()}): the dashboard never appears",
                _at(root, o, near),
                hint=f"label it {sidecar.label}: {json.dumps(sidecar.value)}",
            )
        elif watched is not None and o.namespace not in watched:
            yield diag(
                "FG933",
                f"dashboard ConfigMap {o.namespace}/{o.name} is outside the namespaces the "
                f"Grafana sidecar of {stack.app.name} searches ({sidecar.search_namespace})",
                o.origin,
            )


def check_pickup(snap: Snapshot) -> Iterator[Diagnostic]:
    for server, stack in sorted(_stacks(snap).items()):
        offered = list(_offered(snap, server))
        yield from _prometheus(snap, stack, offered)
        yield from _grafana(snap, stack, offered)
