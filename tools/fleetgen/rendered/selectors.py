"""FG930: every pod selector of a cluster selects at least one pod.

A NetworkPolicy whose podSelector matches no pod protects nothing (the pods it was meant for
stay open, or stay cut off when another policy denies by default); a peer selector that
matches nothing lets no traffic through; a Service whose selector matches no pod has no
endpoints. The pods are the ones the cluster will run: the predictor pods KServe creates
for each InferenceService (labels from `knowledge.kserve.predictor`), the main workload pods
of each LLMInferenceService (`knowledge.kserve.llmisvc`), and the pod templates of the
rendered workloads, as `rendered.pods` models them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.linker import LinkContext
from fleetgen.rendered.pods import PodIndex, pods

__all__ = ["check_selectors"]


_Requirement = tuple[str, str, str, tuple[str, ...]]


def _requirements(selector: Any) -> list[_Requirement]:
    """(pointer suffix, key, operator, values) of a LabelSelector or a plain label map."""
    if not isinstance(selector, dict):
        return []
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return [(f"/{_escape(k)}", str(k), "In", (str(v),)) for k, v in selector.items()]
    found: list[_Requirement] = [
        (f"/matchLabels/{_escape(k)}", str(k), "In", (str(v),))
        for k, v in (selector.get("matchLabels") or {}).items()
    ]
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        if isinstance(expr, dict):
            values = tuple(str(v) for v in expr.get("values") or ())
            found.append(
                (f"/matchExpressions/{i}", str(expr.get("key")), str(expr.get("operator")), values)
            )
    return found


def _escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _holds(pod: Mapping[str, str], key: str, operator: str, values: tuple[str, ...]) -> bool:
    if operator == "In":
        return pod.get(key) in values
    if operator == "NotIn":
        return pod.get(key) not in values
    if operator == "Exists":
        return key in pod
    if operator == "DoesNotExist":
        return key not in pod
    return True  # an operator the schema check reports


def _unmatched(
    ctx: LinkContext, known: PodIndex, obj: RenderedObject, pointer: str, selector: Any, what: str
) -> Iterator[Diagnostic]:
    required = _requirements(selector)
    if not required:
        return  # an empty selector selects every pod
    first = next(((k, v[0]) for _, k, op, v in required if op == "In" and len(v) == 1), None)
    quick = (
        known.by_label.get((obj.namespace, *first), [])
        if first is not None
        else known.by_namespace.get(obj.namespace, [])
    )
    if any(all(_holds(p.labels, *r[1:]) for r in required) for p in quick):
        return
    candidates = known.by_namespace.get(obj.namespace, [])
    # Point at the requirement that fails on the pods closest to matching (this app's first).
    closest = max(
        candidates,
        key=lambda p: (sum(_holds(p.labels, *r[1:]) for r in required), p.owner.app == obj.app),
        default=None,
    )
    failing = next(
        (r for r in required if closest is None or not _holds(closest.labels, *r[1:])),
        required[0],
    )
    shown = ", ".join(
        f"{k}={v[0]}" if op == "In" and len(v) == 1 else f"{k} {op} {list(v)}"
        for _, k, op, v in required
    )
    near = (
        f"; {closest.owner.kind} {closest.owner.name}'s pods carry "
        f"{failing[1]}={closest.labels.get(failing[1])!r}"
        if closest is not None
        else ""
    )
    edge = f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"
    yield diag(
        "FG930",
        f"{edge}: {what} {{{shown}}} selects no pod in namespace {obj.namespace}{near}",
        ctx.where.locate(obj, pointer + failing[0]),
        hint="select the labels the pods carry (KServe adds serving.kserve.io/inferenceservice "
        "and component: predictor to an InferenceService's pods)",
    )


def _policy(ctx: LinkContext, known: PodIndex, policy: RenderedObject) -> Iterator[Diagnostic]:
    spec = policy.doc.get("spec") or {}
    yield from _unmatched(
        ctx, known, policy, "/spec/podSelector", spec.get("podSelector"), "podSelector"
    )
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for r, rule in enumerate(spec.get(direction) or []):
            for p, peer in enumerate((rule or {}).get(peers) or []):
                if not isinstance(peer, dict) or "podSelector" not in peer:
                    continue
                if "namespaceSelector" in peer:
                    continue  # pods of other namespaces: not rendered here
                yield from _unmatched(
                    ctx,
                    known,
                    policy,
                    f"/spec/{direction}/{r}/{peers}/{p}/podSelector",
                    peer["podSelector"],
                    f"{direction} peer podSelector",
                )


def check_selectors(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG930 for every NetworkPolicy pod selector and every Service selector."""
    known = pods(ctx.graph)
    for policy in ctx.graph.of_kind("NetworkPolicy"):
        yield from _policy(ctx, known, policy)
    for service in ctx.graph.of_kind("Service"):
        selector = (service.doc.get("spec") or {}).get("selector")
        if selector:
            yield from _unmatched(ctx, known, service, "/spec/selector", selector, "selector")
