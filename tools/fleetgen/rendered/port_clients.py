"""FG916, FG917: what the vLLM pods dial, against what serves it and what lets them out.

A vLLM pod dials LMCache's Redis (`LMCACHE_REMOTE_URL`) and the OTLP trace sink
(`--otlp-traces-endpoint`, `OTEL_EXPORTER_OTLP_*`). Where the URL names a Service rendered
beside the pod, its port must be one the Service exposes (FG917), and the egress
NetworkPolicies around the pod must let the connection out to the *pod* port the Service
forwards to (FG916). The trace sink's port and protocol against the installed Phoenix chart
are FG906/FG907's, and its egress rule is generated from the same environment value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge import ports as facts
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import LLMISVC, OTLP_FLAG
from fleetgen.rendered.linker import LinkContext
from fleetgen.rendered.pods import Pod, PodIndex, pods, selected

LMCACHE_URL_ENV = "LMCACHE_REMOTE_URL"
_NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, slots=True)
class Dial:
    """One connection a pod opens: what for, the URL, and where the URL is written."""

    purpose: str
    url: str
    pointer: str
    traces_specific: bool = False  # used as-is by an HTTP exporter (no /v1/traces appended)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int | None:
        parts = urlsplit(self.url)
        try:
            return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return None

    def service(self) -> tuple[str, str] | None:
        """(Service, namespace) of an in-cluster host `<svc>.<ns>.svc[.cluster.local]`."""
        labels = self.host.split(".")
        if len(labels) >= 3 and labels[2] == "svc":
            return labels[0], labels[1]
        return None


def dials(pod: Pod) -> list[Dial]:
    found = []
    if LMCACHE_URL_ENV in pod.env:
        value, pointer = pod.env[LMCACHE_URL_ENV]
        found.append(Dial("LMCache's Redis", value, pointer))
    for arg, written in pod.args:
        if arg.startswith(OTLP_FLAG) and written is not None:
            found.append(Dial("traces", arg[len(OTLP_FLAG) :], written, traces_specific=True))
    for name, specific in (
        (facts.OTLP_TRACES_ENDPOINT_ENV, True),
        (facts.OTLP_ENDPOINT_ENV, False),
    ):
        if name in pod.env:
            value, pointer = pod.env[name]
            found.append(Dial("traces", value, pointer, traces_specific=specific))
    if pod.owner.kind == LLMISVC:
        tracing = pod.owner.doc.get("spec", {}).get("tracing") or {}
        if tracing.get("exporterEndpoint"):
            found.append(
                Dial("traces", str(tracing["exporterEndpoint"]), "/spec/tracing/exporterEndpoint")
            )
    return found


@dataclass(frozen=True, slots=True)
class ClientContext:
    link: LinkContext
    pods: PodIndex


def _edge(obj: RenderedObject) -> str:
    return f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"


def _at(
    ctx: ClientContext, code: str, obj: RenderedObject, pointer: str, message: str, hint: str
) -> Diagnostic:
    return diag(code, f"{_edge(obj)}: {message}", ctx.link.where.locate(obj, pointer), hint=hint)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a dial lands: the Service (if rendered here), its pods and the pod port."""

    namespace: str | None
    service: RenderedObject | None
    pods: list[Pod]
    pod_ports: set[int]  # the ports the connection reaches on the pods (after the Service)


def _target(ctx: ClientContext, dial: Dial) -> Target | None:
    where = dial.service()
    port = dial.port
    if where is None or port is None:
        return None
    name, namespace = where
    service = ctx.link.graph.get("Service", namespace, name)
    if service is None:
        return Target(namespace, None, [], {port})  # a chart's Service: its port is the pod's
    spec = service.doc.get("spec", {})
    behind = selected(ctx.pods, namespace, {"matchLabels": spec.get("selector") or {}})
    targets: set[int] = set()
    for entry in spec.get("ports") or []:
        if entry.get("port") != port:
            continue
        target = entry.get("targetPort", port)
        if isinstance(target, int) or str(target).isdigit():
            targets.add(int(target))
        else:
            targets.update(d.number for p in behind if (d := p.port_named(str(target))))
    return Target(namespace, service, behind, targets)


def check_client_ports(ctx: ClientContext) -> Iterator[Diagnostic]:
    """FG917: a URL dials a port its Service does not expose."""
    for pod in ctx.pods:
        for dial in dials(pod):
            target = _target(ctx, dial)
            if target is None or target.service is None:
                continue
            exposed = [e.get("port") for e in target.service.doc.get("spec", {}).get("ports") or []]
            if dial.port in exposed:
                continue  # a target name nothing declares is FG912's
            message = (
                f"{dial.purpose} at {dial.url} dials port {dial.port}, but Service "
                f"{target.service.name} exposes {', '.join(map(str, exposed))}"
            )
            hint = "dial a port the Service exposes"
            yield _at(ctx, "FG917", pod.owner, dial.pointer, message, hint)
            yield _at(ctx, "FG917", target.service, "/spec/ports/0/port", message, hint)


def _peer_matches(peer: Mapping[str, Any], policy_ns: str | None, target: Target) -> bool | None:
    """Whether a `to` peer covers the target: True, False, or None when fleetgen cannot tell."""
    if "ipBlock" in peer:
        return None
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None:
        wanted = (namespaces.get("matchLabels") or {}).items()
        if namespaces.get("matchExpressions") or any(k != _NAMESPACE_LABEL for k, _ in wanted):
            return None
        if wanted and dict(wanted).get(_NAMESPACE_LABEL) != target.namespace:
            return False
    elif target.namespace != policy_ns:
        return False
    pod_selector = peer.get("podSelector")
    if pod_selector is None:
        return True
    if not target.pods:
        return None  # a chart's pods: their labels are not in the graph
    return bool(selected(target.pods, target.namespace, pod_selector))


def _admits(entries: Sequence[Mapping[str, Any]], port: int, target: Target) -> bool:
    if not entries:
        return True
    for entry in entries:
        value = entry.get("port")
        if value is None:
            return True
        if isinstance(value, str) and not value.isdigit():
            if any((d := p.port_named(value)) and d.number == port for p in target.pods):
                return True
            continue
        end = entry.get("endPort") or value
        if int(value) <= port <= int(end):
            return True
    return False


def check_egress(ctx: ClientContext) -> Iterator[Diagnostic]:
    """FG916: the pod's egress NetworkPolicies drop a connection it must open."""
    policies = [
        p
        for p in ctx.link.graph.of_kind("NetworkPolicy")
        if "Egress" in (p.doc.get("spec", {}).get("policyTypes") or [])
    ]
    # Each policy's pods from the index, not each pod against every policy: both grow with
    # the fleet. Keyed by identity: a cluster's pods are built once.
    guards: dict[int, list[RenderedObject]] = {}
    for policy in policies:
        for pod in selected(
            ctx.pods, policy.namespace, policy.doc.get("spec", {}).get("podSelector")
        ):
            guards.setdefault(id(pod), []).append(policy)
    for pod in ctx.pods:
        guarding = guards.get(id(pod), [])
        if not guarding:
            continue
        for dial in dials(pod):
            target = _target(ctx, dial)
            if target is None or target.service is None or not target.pod_ports:
                continue  # a chart's Service: its policy rule is generated from the same URL
            near: list[tuple[RenderedObject, str]] = []
            let_out = False
            for policy in guarding:
                for r, rule in enumerate(policy.doc.get("spec", {}).get("egress") or []):
                    peers = rule.get("to") or []
                    matches = [_peer_matches(peer, policy.namespace, target) for peer in peers]
                    if peers and not any(m is not False for m in matches):
                        continue
                    if any(_admits(rule.get("ports") or [], n, target) for n in target.pod_ports):
                        let_out = True
                    elif peers and any(m is True for m in matches):
                        near.append((policy, f"/spec/egress/{r}/ports/0/port"))
            if let_out:
                continue
            ports = ", ".join(map(str, sorted(target.pod_ports)))
            message = (
                f"{dial.purpose} at {dial.url} reaches pod port {ports}, which no egress rule "
                "of the pod's NetworkPolicies lets out (egress rules match the pod port behind "
                "a Service, not the Service's port)"
            )
            hint = "let the pod out to the destination pod's port"
            yield _at(ctx, "FG916", pod.owner, dial.pointer, message, hint)
            for policy, pointer in near:
                yield _at(ctx, "FG916", policy, pointer, message, hint)


CLIENT_CHECKS: tuple[Callable[[ClientContext], Iterator[Diagnostic]], ...] = (
    check_client_ports,
    check_egress,
)


def check_clients(ctx: LinkContext, all_pods: PodIndex | None = None) -> list[Diagnostic]:
    context = ClientContext(ctx, all_pods if all_pods is not None else pods(ctx.graph))
    return [d for check in CLIENT_CHECKS for d in check(context)]
