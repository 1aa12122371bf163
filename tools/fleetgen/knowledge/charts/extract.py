"""Derive what the kube-prometheus-stack chart selects by default.

Run `python -m fleetgen.knowledge.charts.extract <helm-charts checkout> <tag>` (a checkout of
prometheus-community/helm-charts with the tag `kube-prometheus-stack-<version>`): it writes
data/kube-prometheus-stack.json from the chart's values.yaml (the Prometheus selectors and
their `...NilUsesHelmValues` switches, the Grafana dashboard sidecar's label, value and search
namespace) and checks in the Prometheus template that an unset selector falls back to the Helm
release's `release` label. Nothing is executed; each file's sha256 is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

CHART = "charts/kube-prometheus-stack"
VALUES = f"{CHART}/values.yaml"
TEMPLATE = f"{CHART}/templates/prometheus/prometheus.yaml"
OUT = Path(__file__).parent / "data" / "kube-prometheus-stack.json"
KINDS = ("podMonitor", "serviceMonitor", "rule", "probe")
_FALLBACK = re.compile(
    r"else if \.Values\.prometheus\.prometheusSpec\.(\w+)SelectorNilUsesHelmValues\s*\}\}\s*"
    r"\1Selector:\s*matchLabels:\s*release: \{\{ \$\.Release\.Name \| quote \}\}"
)


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            raise ValueError(f"{VALUES}: no {'.'.join(path)}")
        node = node[part]
    return node


def derive(values_text: str, template_text: str) -> dict[str, Any]:
    """The selector and sidecar facts of one chart version."""
    values = yaml.safe_load(values_text)
    spec = _get(values, "prometheus", "prometheusSpec")
    falls_back = set(_FALLBACK.findall(template_text))
    selectors = {}
    for kind in KINDS:
        selectors[kind] = {
            "selector": spec.get(f"{kind}Selector") or {},
            "namespaceSelector": spec.get(f"{kind}NamespaceSelector") or {},
            "nilUsesHelmValues": bool(spec.get(f"{kind}SelectorNilUsesHelmValues")),
            "releaseLabelFallback": kind in falls_back,
        }
    dashboards = _get(values, "grafana", "sidecar", "dashboards")
    return {
        "prometheus": selectors,
        "grafana": {
            "enabled": bool(_get(values, "grafana", "enabled")),
            "dashboards": {
                "enabled": bool(dashboards.get("enabled")),
                "label": str(dashboards.get("label")),
                "labelValue": str(dashboards.get("labelValue")),
                "searchNamespace": str(dashboards.get("searchNamespace")),
            },
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    checkout, tag = Path(argv[0]), argv[1]
    values, template = (checkout / VALUES).read_bytes(), (checkout / TEMPLATE).read_bytes()
    data = derive(values.decode("utf-8"), template.decode("utf-8"))
    data["source"] = {
        "repository": "prometheus-community/helm-charts",
        "tag": tag,
        "derivedBy": "python -m fleetgen.knowledge.charts.extract <checkout> <tag>",
        "files": {
            VALUES: hashlib.sha256(values).hexdigest(),
            TEMPLATE: hashlib.sha256(template).hexdigest(),
        },
    }
    OUT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
