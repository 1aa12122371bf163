"""FG971-FG974: what KServe makes of each rendered InferenceService, as the pinned release does.

The deployment mode decides whether KServe creates the `<isvc>-predictor` Deployment and
Service at all: the fleet's ScaledObject scales that Deployment and the gateway's Backend
dials that Service, so a mode without them (Knative, ModelMesh) leaves both pointing at
nothing. A legacy mode name is rewritten by KServe's webhook, which Argo CD then reports as
drift forever. The predictor host label KServe renders must be one DNS label.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.kserve import isvc as kserve
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import annotation
from fleetgen.rendered.linker import LinkContext

MODE_POINTER = "/metadata/annotations/serving.kserve.io~1deploymentMode"


def _edge(obj: RenderedObject) -> str:
    return f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"


def _mode_pointer(obj: RenderedObject) -> str:
    """The annotation's own line where it is set, else the object's annotations."""
    return MODE_POINTER if annotation(obj, kserve.MODE_ANNOTATION) is not None else "/metadata"


def _expecting(ctx: LinkContext, isvc: RenderedObject) -> list[str]:
    """What in the cluster expects the predictor Deployment or Service of `isvc`."""
    deployment = kserve.predictor_service(isvc.name, _predictor_name(isvc))
    host = f"{deployment}.{isvc.namespace}.svc.cluster.local"
    found: list[str] = []
    for scaled in ctx.graph.of_kind("ScaledObject"):
        ref = scaled.doc.get("spec", {}).get("scaleTargetRef") or {}
        if scaled.namespace == isvc.namespace and ref.get("name") == deployment:
            found.append(f"ScaledObject {scaled.name} scales Deployment {deployment}")
    for backend in ctx.graph.of_kind("Backend"):
        for endpoint in backend.doc.get("spec", {}).get("endpoints", []) or []:
            if ((endpoint or {}).get("fqdn") or {}).get("hostname") == host:
                found.append(f"Backend {backend.name} dials Service {deployment}")
    return found


def _predictor_name(isvc: RenderedObject) -> str:
    return str((isvc.doc.get("spec", {}).get("predictor") or {}).get("name") or "")


def check_deployment_modes(ctx: LinkContext) -> Iterator[Diagnostic]:
    facts = kserve.facts()
    for isvc in ctx.graph.of_kind("InferenceService"):
        set_mode = annotation(isvc, kserve.MODE_ANNOTATION)
        mode = set_mode if set_mode is not None else ctx.env.deployment_mode
        where = ctx.where.locate(isvc, _mode_pointer(isvc))
        if mode not in facts.modes:
            yield diag(
                "FG971",
                f"{_edge(isvc)}: deployment mode {mode!r} is not one KServe {facts.tag} knows "
                f"({', '.join(sorted(facts.modes))}); its controller refuses to reconcile it",
                where,
                hint="use Standard",
            )
            continue
        if mode in facts.legacy:
            yield diag(
                "FG973",
                f"{_edge(isvc)}: deployment mode {mode!r} is a legacy name; KServe's webhook "
                f"stores {facts.legacy[mode]!r} instead, which Argo CD reports as drift forever",
                where,
                hint=f"write {facts.legacy[mode]!r}",
            )
        if mode in facts.modes_with_deployment:
            continue
        expecting = _expecting(ctx, isvc)
        if expecting:
            yield diag(
                "FG972",
                f"{_edge(isvc)}: deployment mode {mode!r} creates no Deployment or Service "
                f"{kserve.predictor_service(isvc.name, _predictor_name(isvc))!r} "
                f"(KServe {facts.tag} creates them in {', '.join(sorted(facts.modes_with_deployment))} "
                f"mode only), but {'; '.join(expecting)}",
                where,
                hint="use Standard: KEDA and the gateway's Backend need the predictor Deployment",
            )


def check_host_labels(ctx: LinkContext) -> Iterator[Diagnostic]:
    for isvc in ctx.graph.of_kind("InferenceService"):
        namespace = isvc.namespace or ""
        label = kserve.too_long_host_label(isvc.name, namespace, _predictor_name(isvc))
        if label is not None:
            yield diag(
                "FG974",
                f"{_edge(isvc)}: KServe's predictor host label {label!r} is {len(label)} "
                f"characters, more than a DNS label's {kserve.DNS_LABEL_MAX}; KServe "
                f"{kserve.facts().tag} fails the InferenceService",
                ctx.where.locate(isvc, "/metadata/name"),
                hint="shorten the InferenceService name or the namespace",
            )


KSERVE_CHECKS = (check_deployment_modes, check_host_labels)


def check_kserve_rules(ctx: LinkContext) -> list[Diagnostic]:
    return [found for check in KSERVE_CHECKS for found in check(ctx)]
