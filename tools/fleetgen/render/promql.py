"""PromQL for one model: the autoscaler query, alert expressions and dashboard panels.

Every query is rendered for the vLLM release the model pins: metric names and label values
come from that release's contract (a KV-cache metric renamed in 0.9.2 is queried under the
name the pinned release exports; the error ratio exists only where the release counts
``finished_reason="error"``).

Label values are a namespace (DNS label) and a served name (schema: [A-Za-z0-9._:/-]), so
they cannot close the quoted matcher they sit in.
"""

from __future__ import annotations

from fleetgen.knowledge import metrics
from fleetgen.knowledge.runtime_contract import RuntimeContract


def selector(namespace: str, served: str, extra: str = "") -> str:
    """The label matcher every per-model query uses."""
    more = f",{extra}" if extra else ""
    return f'{{namespace="{namespace}",model_name="{served}"{more}}}'


def name_for(contract: RuntimeContract | None, metric: str) -> str:
    """``metric`` as the pinned release exports it (its renamed form where it differs)."""
    if contract is None or contract.exports_metric(metric):
        return metric
    return contract.replacement_for(metric) or metric


def autoscaler_query(metric: str, namespace: str, served: str) -> str:
    """KEDA Prometheus trigger: a sum over the model's pods (AverageValue divides it)."""
    return f"sum({metric}{selector(namespace, served)})"


def queue_alert(namespace: str, served: str, threshold: int) -> str:
    sel = selector(namespace, served)
    return f"sum by (namespace, model_name) ({metrics.QUEUE}{sel}) > {threshold}"


def kv_cache_alert(
    namespace: str, served: str, threshold: float, contract: RuntimeContract | None = None
) -> str:
    sel = selector(namespace, served)
    usage = name_for(contract, metrics.KV_CACHE_USAGE)
    return f"max by (namespace, model_name) ({usage}{sel}) > {threshold:g}"


def ttft_p95(namespace: str, served: str) -> str:
    sel = selector(namespace, served)
    return (
        f"histogram_quantile(0.95, sum by (le, namespace, model_name) "
        f"(rate({metrics.TTFT}_bucket{sel}[5m])))"
    )


def ttft_alert(namespace: str, served: str, seconds: float) -> str:
    return f"{ttft_p95(namespace, served)} > {seconds:g}"


def counts_errors(contract: RuntimeContract | None) -> bool:
    """True if the release labels failed requests ``finished_reason="error"`` (0.13 on)."""
    if contract is None:
        return False
    values = contract.label_values(metrics.REQUEST_SUCCESS, metrics.FINISHED_REASON)
    return values is not None and metrics.ERROR_REASON in values


def error_ratio(namespace: str, served: str) -> str:
    errors = selector(namespace, served, f'{metrics.FINISHED_REASON}="{metrics.ERROR_REASON}"')
    total = selector(namespace, served)
    return (
        f"sum by (namespace, model_name) (rate({metrics.REQUEST_SUCCESS}{errors}[5m])) / "
        f"sum by (namespace, model_name) (rate({metrics.REQUEST_SUCCESS}{total}[5m]))"
    )


def error_alert(namespace: str, served: str, fraction: float) -> str:
    return f"{error_ratio(namespace, served)} > {fraction:g}"
