"""kube-prometheus-stack facts: the extractor reads the chart's files, the reader merges the
Application's Helm values over the derived defaults as the chart's template does."""

from __future__ import annotations

import json
import re

from fleetgen.knowledge.charts import kube_prometheus_stack as kps
from fleetgen.knowledge.charts.extract import OUT, derive

VALUES = """
prometheus:
  prometheusSpec:
    ruleSelectorNilUsesHelmValues: true
    ruleSelector: {}
    serviceMonitorSelectorNilUsesHelmValues: false
    serviceMonitorSelector: {}
    podMonitorSelectorNilUsesHelmValues: true
    podMonitorSelector: {}
    probeSelectorNilUsesHelmValues: true
    probeSelector: {}
grafana:
  enabled: true
  sidecar:
    dashboards:
      enabled: true
      label: grafana_dashboard
      labelValue: "1"
      searchNamespace: ALL
"""
TEMPLATE = """
{{- else if .Values.prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues  }}
  podMonitorSelector:
    matchLabels:
      release: {{ $.Release.Name | quote }}
"""


def test_the_extractor_reads_switches_and_the_release_fallback() -> None:
    found = derive(VALUES, TEMPLATE)
    assert found["prometheus"]["podMonitor"]["releaseLabelFallback"] is True
    # Only the kinds whose template branch falls back to the release label say so.
    assert found["prometheus"]["rule"]["releaseLabelFallback"] is False
    assert found["prometheus"]["serviceMonitor"]["nilUsesHelmValues"] is False
    assert found["grafana"]["dashboards"] == {
        "enabled": True,
        "label": "grafana_dashboard",
        "labelValue": "1",
        "searchNamespace": "ALL",
    }


def test_the_committed_data_names_its_source_files() -> None:
    data = json.loads(OUT.read_text(encoding="utf-8"))
    assert data["source"]["tag"] == "kube-prometheus-stack-79.0.0"
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in data["source"]["files"].values())


def test_values_win_over_the_release_default() -> None:
    given = {"prometheus": {"prometheusSpec": {"podMonitorSelector": {"matchLabels": {"a": "b"}}}}}
    assert kps.selector("PodMonitor", given, "kps").match_labels == {"a": "b"}
    assert kps.selector("PodMonitor", given, "kps").set_in_values
    default = kps.selector("PrometheusRule", {}, "kps")
    assert (dict(default.match_labels), default.set_in_values) == ({"release": "kps"}, False)
    off = {"prometheus": {"prometheusSpec": {"ruleSelectorNilUsesHelmValues": False}}}
    assert kps.selector("PrometheusRule", off, "kps").match_labels == {}


def test_the_dashboard_sidecar_follows_grafana_values() -> None:
    sidecar = kps.dashboard_sidecar({})
    assert sidecar is not None and (sidecar.label, sidecar.value) == ("grafana_dashboard", "1")
    assert kps.dashboard_sidecar({"grafana": {"enabled": False}}) is None
    custom = kps.dashboard_sidecar({"grafana": {"sidecar": {"dashboards": {"labelValue": "yes"}}}})
    assert custom is not None and custom.value == "yes"
