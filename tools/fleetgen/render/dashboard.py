"""A Grafana dashboard for one model, built from the same PromQL as its alerts."""

from __future__ import annotations

from typing import Any

from fleetgen.knowledge import metrics
from fleetgen.knowledge.runtime_contract import RuntimeContract
from fleetgen.render import promql


def panel(
    pid: int, title: str, expr: str, unit: str, x: int, y: int, *, legend: str = "{{model_name}}"
) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def dashboard(
    isvc: str, namespace: str, served: str, contract: RuntimeContract | None = None
) -> dict[str, Any]:
    """The dashboard JSON model (schema version 39), for the release the model pins."""
    sel = promql.selector(namespace, served)
    usage = promql.name_for(contract, metrics.KV_CACHE_USAGE)
    rows = [
        ("Requests waiting", f"sum({metrics.QUEUE}{sel})", "short"),
        ("Requests running", f"sum({metrics.RUNNING}{sel})", "short"),
        ("KV cache usage", f"max({usage}{sel})", "percentunit"),
        ("Time to first token p95", promql.ttft_p95(namespace, served), "s"),
        (
            "Tokens per second",
            f"sum(rate({metrics.PROMPT_TOKENS}{sel}[5m])) + "
            f"sum(rate({metrics.GENERATION_TOKENS}{sel}[5m]))",
            "short",
        ),
    ]
    if promql.counts_errors(contract):
        rows.append(("Error ratio", promql.error_ratio(namespace, served), "percentunit"))
    panels = [
        panel(i + 1, title, expr, unit, (i % 2) * 12, (i // 2) * 8)
        for i, (title, expr, unit) in enumerate(rows)
    ]
    return {
        "uid": f"fleetgen-{namespace}-{isvc}"[:40],
        "title": f"LLM {served} ({namespace})",
        "tags": ["fleetgen", "vllm"],
        "schemaVersion": 39,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
            ]
        },
        "panels": panels,
    }
