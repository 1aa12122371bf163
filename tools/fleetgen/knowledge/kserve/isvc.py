"""What KServe makes of an InferenceService: its deployment mode, autoscaler class and names.

The facts are derived from KServe's Go sources and shipped config at the pinned tag by
`extract_isvc.py` (data/isvc.json keeps each file's sha256). The one fact the extractor cannot
read from a single expression is curated below with its reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_ANNOTATION = "serving.kserve.io/autoscalerClass"
# Kubernetes: every label of a DNS name (RFC 1123), which KServe validates its hosts against.
DNS_LABEL_MAX = 63
# Curated: with class "none" the Deployment reconciler sets replicas to minReplicas on every
# reconcile (reconcilers/deployment/deployment_reconciler.go, the AutoscalerClassNone checks),
# so only "external" leaves the replica count to a ScaledObject fleetgen renders.
EXTERNAL_CLASS = "external"
_FIELD = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class IsvcFacts:
    tag: str
    modes: frozenset[str]
    legacy: dict[str, str]  # legacy mode -> the name the webhook stores instead
    modes_with_deployment: frozenset[str]
    classes: frozenset[str]
    default_class: str
    predictor_component: str
    domain_template: str


@cache
def facts() -> IsvcFacts:
    data = json.loads(
        resources.files("fleetgen.knowledge.kserve").joinpath("data/isvc.json").read_text()
    )
    return IsvcFacts(
        tag=str(data["source"]["tag"]),
        modes=frozenset(data["deploymentModes"]),
        legacy=dict(data["legacyModes"]),
        modes_with_deployment=frozenset(data["modesWithDeployment"]),
        classes=frozenset(data["autoscalerClasses"]),
        default_class=str(data["defaultAutoscalerClass"]),
        predictor_component=str(data["predictorComponent"]),
        domain_template=str(data["domainTemplate"]),
    )


def predictor_service(isvc: str, predictor_name: str = "") -> str:
    """PredictorServiceName: the predictor's Deployment and Service name."""
    component = facts().predictor_component
    return f"{isvc}-{predictor_name}-{component}" if predictor_name else f"{isvc}-{component}"


def host_labels(isvc: str, namespace: str, predictor_name: str = "") -> list[str]:
    """The DNS labels of the predictor host KServe renders from its domain template (the
    ingress domain left out: it is the cluster's, the same for every model)."""
    values = {"Name": predictor_service(isvc, predictor_name), "Namespace": namespace}
    host = _FIELD.sub(lambda m: values.get(m.group(1), ""), facts().domain_template)
    return [label for label in host.split(".") if label]


def too_long_host_label(isvc: str, namespace: str, predictor_name: str = "") -> str | None:
    """The first host label longer than a DNS label may be, if any."""
    return next(
        (
            label
            for label in host_labels(isvc, namespace, predictor_name)
            if len(label) > DNS_LABEL_MAX
        ),
        None,
    )
