"""Facts about the API a cluster serves that Argo CD's checks need: which kinds are
cluster-scoped, and which CRD groups each prerequisite Helm chart installs.

``data/scopes.json`` is derived from upstream CRD manifests by a repeatable command
(``python -m fleetgen.knowledge.cluster_api CRD_FILES_OR_DIRS... > data/scopes.json``), each
source recorded with its sha256; the built-in Kubernetes kinds in it are curated (the API
server's discovery lists them; fleetgen runs offline). ``data/charts.json`` is curated: the
charts are not vendored, so the groups each installs were read from the chart sources at the
pinned versions, as each entry records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ChartCrds", "chart_crds", "is_cluster_scoped"]

# Built-in kinds without a namespace (curated: Kubernetes 1.32 API discovery).
BUILTIN_CLUSTER_SCOPED = (
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
)
# Groups every cluster serves without a CRD.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)


def _data(name: str) -> Any:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _cluster_scoped() -> frozenset[tuple[str, str]]:
    derived = {(str(g), str(k)) for g, k in _data("scopes.json")["clusterScoped"]}
    return frozenset(derived | set(BUILTIN_CLUSTER_SCOPED))


def is_cluster_scoped(group: str, kind: str) -> bool:
    return (group, kind) in _cluster_scoped()


@dataclass(frozen=True, slots=True)
class ChartCrds:
    """The CRD groups a chart installs; ``when``: values (dotted path -> value) it needs,
    ``unless``: values that switch them off."""

    chart: str
    groups: frozenset[str]
    when: Mapping[str, Any]
    unless: Mapping[str, Any]
    source: str

    def installs(self, values: Mapping[str, Any]) -> bool:
        def at(dotted: str) -> Any:
            node: Any = values
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            return node

        return all(at(k) == v for k, v in self.when.items()) and not any(
            at(k) == v for k, v in self.unless.items()
        )


@cache
def chart_crds() -> dict[str, ChartCrds]:
    return {
        name: ChartCrds(
            name,
            frozenset(entry["groups"]),
            dict(entry.get("when", {})),
            dict(entry.get("unless", {})),
            entry["source"],
        )
        for name, entry in _data("charts.json")["charts"].items()
    }


def derive_scopes(paths: Iterable[Path]) -> dict[str, Any]:
    """scopes.json from CRD manifests: every cluster-scoped kind, and each file's sha256."""
    files = sorted(f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.yaml"))))
    scoped: set[tuple[str, str]] = set()
    sources = []
    for path in files:
        data = path.read_bytes()
        for doc in yaml.safe_load_all(data):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                spec = doc.get("spec") or {}
                if spec.get("scope") == "Cluster":
                    scoped.add((str(spec.get("group")), str(spec["names"]["kind"])))
        sources.append({"file": path.name, "sha256": hashlib.sha256(data).hexdigest()})
    return {
        "generator": "python -m fleetgen.knowledge.cluster_api",
        "sources": sources,
        "clusterScoped": sorted([g, k] for g, k in scoped),
    }
