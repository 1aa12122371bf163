"""PromQL for one model: the autoscaler query, alert expressions and dashboard panels.

Label values are a namespace (DNS label) and a served name (schema: [A-Za-z0-9._:/-]), so
they cannot close the quoted matcher they sit in.
"""

from __future__ import annotations

from fleetgen.knowledge import metrics


def selector(namespace: str, served: str, extra: str = "") -> str:
    """The label matcher every per-model query uses."""
    more = f",{extra}" if extra else ""
    return f'{{namespace="{namespace}",model_name="{served}"{more}}}'


def autoscaler_query(metric: str, namespace: str, served: str) -> str:
    """KEDA Prometheus trigger: a sum over the model's pods (AverageValue divides it)."""
    return f"sum({metric}{selector(namespace, served)})"


def queue_alert(namespace: str, served: str, threshold: int) -> str:
    sel = selector(namespace, served)
    return f"sum by (namespace, model_name) ({metrics.QUEUE}{sel}) > {threshold}"


def kv_cache_alert(namespace: str, served: str, threshold: float) -> str:
    sel = selector(namespace, served)
    return f"max by (namespace, model_name) ({metrics.KV_CACHE_USAGE}{sel}) > {threshold:g}"


def ttft_p95(namespace: str, served: str) -> str:
    sel = selector(namespace, served)
    return (
        f"histogram_quantile(0.95, sum by (le, namespace, model_name) "
        f"(rate({metrics.TTFT}_bucket{sel}[5m])))"
    )


def ttft_alert(namespace: str, served: str, seconds: float) -> str:
    return f"{ttft_p95(namespace, served)} > {seconds:g}"


def error_ratio(namespace: str, served: str) -> str:
    errors = selector(namespace, served, 'finished_reason="error"')
    total = selector(namespace, served)
    return (
        f"sum by (namespace, model_name) (rate({metrics.REQUEST_SUCCESS}{errors}[5m])) / "
        f"sum by (namespace, model_name) (rate({metrics.REQUEST_SUCCESS}{total}[5m]))"
    )


def error_alert(namespace: str, served: str, fraction: float) -> str:
    return f"{error_ratio(namespace, served)} > {fraction:g}"
