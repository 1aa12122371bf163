"""FG512-FG515: rendered queries mean what they say for the pinned vLLM release.

A scaler needs a gauge (a counter or histogram only grows unless wrapped in ``rate()``); a
label value in a matcher must be one the release emits (where its source enumerates them);
a flag in the rendered container args must not switch off the metrics the app queries; a
KEDA trigger's ``metricType`` must fit the shape of its query.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.runtime_contract import (
    METRICS_OFF_FLAGS,
    RuntimeContract,
    canonical_flag,
    contract_for,
    vllm_version_from_image,
)
from fleetgen.rendered.build import RenderedObject, is_model_app
from fleetgen.rendered.graph import LLMISVC, container, expressions
from fleetgen.rendered.linker import LinkContext
from fleetgen.rendered.promql_shape import metric_uses, outermost_call

# Functions under which a counter or histogram series reads as a per-second or windowed value.
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase", "delta", "idelta", "deriv"})
# AverageValue divides the query's result by the replica count: only a total fits.
_TOTALS = frozenset({"sum", "count"})
_REGEX_META = frozenset("\\^$.*+?()[]{}")


def _where(ctx: LinkContext, obj: RenderedObject, pointer: str) -> object:
    return ctx.where.locate(obj, pointer)


def _edge(obj: RenderedObject) -> str:
    return f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"


def pinned_contracts(ctx: LinkContext, obj: RenderedObject) -> list[RuntimeContract]:
    """The releases a query must hold for: its model's, or every one pinned in the cluster."""
    isvcs = list(ctx.graph.servers())
    if is_model_app(obj.app):
        isvcs = [i for i in isvcs if i.app == obj.app]
    found: dict[str, RuntimeContract] = {}
    for isvc in isvcs:
        version = vllm_version_from_image(str(container(isvc).get("image", "")))
        contract = contract_for(version) if version else None
        if contract is not None:
            found[contract.version] = contract
    return list(found.values())


def _literals(operator: str, value: str) -> list[str] | None:
    if operator == "=":
        return [value]
    if operator == "=~" and not (set(value.replace("|", "")) & _REGEX_META):
        return value.split("|")
    return None


def check_label_values(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG513: a matcher names a label value the pinned release never emits."""
    for obj in ctx.graph.objects:
        contracts: list[RuntimeContract] | None = None
        for pointer, expr in expressions(obj):
            for use in metric_uses(expr):
                for label, operator, value in use.matchers:
                    literals = _literals(operator, value)
                    if literals is None:
                        continue
                    contracts = contracts if contracts is not None else pinned_contracts(ctx, obj)
                    for contract in contracts:
                        emitted = contract.label_values(use.name, label)
                        missing = [v for v in literals if emitted is not None and v not in emitted]
                        if missing:
                            yield diag(
                                "FG513",
                                f"{_edge(obj)}: matches {label}={missing[0]!r} on {use.name!r}, "
                                f"which vLLM {contract.version} never sets",
                                _where(ctx, obj, pointer),  # type: ignore[arg-type]
                                hint=f"vLLM {contract.version} sets {label} to "
                                + ", ".join(sorted(emitted or ())),
                            )
                            break


def _triggers(obj: RenderedObject) -> Iterator[tuple[int, str, str]]:
    """(index, metricType, query) of every Prometheus trigger of a ScaledObject."""
    for index, trigger in enumerate(obj.doc.get("spec", {}).get("triggers", []) or []):
        if isinstance(trigger, dict) and trigger.get("type") == "prometheus":
            metadata = trigger.get("metadata") or {}
            query = str(metadata.get("query", "")) if isinstance(metadata, dict) else ""
            yield index, str(trigger.get("metricType") or "AverageValue"), query


def check_scaler_types(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG512: a scaler query reads a counter or histogram as if it were a gauge."""
    for obj in ctx.graph.of_kind("ScaledObject"):
        for index, _, query in _triggers(obj):
            pointer = f"/spec/triggers/{index}/metadata/query"
            for use in metric_uses(query):
                if set(use.calls) & RATE_FUNCTIONS:
                    continue
                for contract in pinned_contracts(ctx, obj):
                    kind = contract.metric_type(use.name)
                    if kind in ("counter", "histogram", "summary"):
                        yield diag(
                            "FG512",
                            f"{_edge(obj)}: scales on {use.name!r}, a {kind} in vLLM "
                            f"{contract.version}; it only grows, so the scaler never scales in",
                            _where(ctx, obj, pointer),  # type: ignore[arg-type]
                            hint="scale on a gauge such as 'vllm:num_requests_waiting'",
                        )
                        break


def check_metric_type_shape(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG515: a KEDA trigger's metricType does not fit its query."""
    for obj in ctx.graph.of_kind("ScaledObject"):
        for index, metric_type, query in _triggers(obj):
            pointer = f"/spec/triggers/{index}/metricType"
            outer = outermost_call(query)
            if metric_type == "Utilization":
                problem = "Utilization applies to CPU and memory triggers only"
            elif metric_type == "AverageValue" and outer is not None and outer not in _TOTALS:
                problem = (
                    f"AverageValue divides the query by the replica count, but the query is "
                    f"already a per-pod {outer}()"
                )
            else:
                continue
            yield diag(
                "FG515",
                f"{_edge(obj)}: {problem}",
                _where(ctx, obj, pointer),  # type: ignore[arg-type]
                hint="use AverageValue with a sum() over the pods, or Value with a per-pod query",
            )


def _args_pointer(server: RenderedObject, index: int) -> str:
    if server.kind == LLMISVC:
        containers = (server.doc.get("spec", {}).get("template") or {}).get("containers") or []
        at = next((i for i, c in enumerate(containers) if c.get("name") == "main"), 0)
        return f"/spec/template/containers/{at}/args/{index}"
    return f"/spec/predictor/model/args/{index}"


def check_metrics_switched_off(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG514: a flag in the rendered args (a base file, a hand-edited overlay) switches off
    metrics that its app's scaler, alerts or dashboard query. The descriptor's extraArgs
    are `fleetgen validate`'s (the same code, at the descriptor line)."""
    for server in ctx.graph.servers():
        version = vllm_version_from_image(str(container(server).get("image", "")))
        contract = contract_for(version) if version else None
        if contract is None:
            continue
        for index, arg in enumerate(container(server).get("args", []) or []):
            flag = canonical_flag(str(arg), contract.aliases)
            if flag is None or flag not in METRICS_OFF_FLAGS:
                continue
            where = ctx.where.locate(server, _args_pointer(server, index))
            if where.file.startswith("fleet/"):
                continue
            queried = sorted(
                {
                    use.name
                    for obj in ctx.graph.objects
                    if obj.app == server.app
                    for _, expr in expressions(obj)
                    for use in metric_uses(expr)
                    if contract.switched_off_by(str(arg), use.name)
                }
            )
            if queried:
                yield diag(
                    "FG514",
                    f"{_edge(server)}: {flag} switches off {', '.join(map(repr, queried[:3]))}"
                    f"{' and more' if len(queried) > 3 else ''} ({METRICS_OFF_FLAGS[flag]}), "
                    "which its scaler, alerts or dashboard query",
                    where,
                    hint="remove it; the autoscaler and alerts need vLLM's metrics",
                )


SEMANTIC_CHECKS = (
    check_label_values,
    check_scaler_types,
    check_metrics_switched_off,
    check_metric_type_shape,
)


def check_semantics(ctx: LinkContext) -> list[Diagnostic]:
    return [found for check in SEMANTIC_CHECKS for found in check(ctx)]
