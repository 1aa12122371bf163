"""FG769: the pods of a multi-node LLMInferenceService (a LeaderWorkerSet's leader and its
workers) reach each other through the NetworkPolicies that select them; vLLM's data-parallel
ranks connect on ports chosen at start, so only a rule without a port list lets them through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.rendered import llmisvc_facts as facts
from fleetgen.rendered.graph import LLMISVC
from fleetgen.rendered.linker import LinkContext, _d

__all__ = ["check_multi_node_traffic"]


def _admits(rules: list[dict[str, Any]], side: str, pod: dict[str, str]) -> bool:
    """Whether some rule lets a pod of the same namespace through on every port."""
    for rule in rules:
        if rule.get("ports"):
            continue
        peers = rule.get(side)
        if not peers:
            return True
        for peer in peers:
            wanted = (peer.get("podSelector") or {}).get("matchLabels") or {}
            same_namespace = "namespaceSelector" not in peer and "ipBlock" not in peer
            labels = {str(k): str(v) for k, v in wanted.items()}
            if same_namespace and labels.items() <= pod.items():
                return True
    return False


def check_multi_node_traffic(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG769: a LeaderWorkerSet's leader and workers reach each other through the policies."""
    for service in ctx.graph.of_kind(LLMISVC):
        if not facts.multi_node(service):
            continue
        leader, worker = facts.pod_labels(service), llmisvc.worker_pod_labels(service.name)
        for policy in ctx.graph.of_kind("NetworkPolicy"):
            spec = policy.doc.get("spec") or {}
            selector = (spec.get("podSelector") or {}).get("matchLabels") or {}
            if policy.namespace != service.namespace or not selector.items() <= leader.items():
                continue
            types = spec.get("policyTypes") or ["Ingress"]
            for kind, side, key in (("Ingress", "from", "ingress"), ("Egress", "to", "egress")):
                if kind in types and not _admits(spec.get(key) or [], side, worker):
                    yield _d(
                        ctx,
                        "FG769",
                        policy,
                        f"/spec/{key}",
                        f"selects the leader pods of LLMInferenceService {service.name} but "
                        f"lets no {kind.lower()} traffic of its worker pods through on every "
                        "port: the data-parallel ranks never connect",
                        hint="admit the service's own pods (app.kubernetes.io/name, "
                        "app.kubernetes.io/part-of: llminferenceservice) without a port list",
                    )
