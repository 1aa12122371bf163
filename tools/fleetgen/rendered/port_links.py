"""FG910-FG917: ports end to end, over the pods a cluster's objects run.

vLLM's `--port` (or Redis's) is what a connection must reach: the container's declared
ports, its probes, the Service KServe or a base creates in front of it, the PodMonitor, the
NetworkPolicies around it, and the clients that dial it. A mismatch is reported at both ends
(the argument that moved the port and the object that still names the old one), because
either may be what the person edited; each message names the other end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge import ports as facts
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import LLMISVC
from fleetgen.rendered.linker import LinkContext
from fleetgen.rendered.llmisvc_facts import managed_pool_selector
from fleetgen.rendered.pods import (
    Pod,
    PodIndex,
    pods,
    pool_target_ports,
    predictor_service_ports,
    selected,
)
from fleetgen.rendered.port_clients import check_clients


@dataclass(frozen=True, slots=True)
class PortContext:
    link: LinkContext
    pods: PodIndex


def _edge(obj: RenderedObject) -> str:
    return f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"


def _at(
    ctx: PortContext, code: str, obj: RenderedObject, pointer: str, message: str, hint: str | None
) -> Diagnostic:
    return diag(code, f"{_edge(obj)}: {message}", ctx.link.where.locate(obj, pointer), hint=hint)


def _both(
    ctx: PortContext,
    code: str,
    pod: Pod,
    other: tuple[RenderedObject, str | None],
    message: str,
    hint: str | None = None,
) -> Iterator[Diagnostic]:
    """One finding on the line that set the pod's port (when a person set it) and one on the
    other end (when a person wrote it); with neither, on the pod's container."""
    obj, pointer = other
    listen = pod.listen
    if listen is not None and listen.pointer is not None:
        yield _at(ctx, code, pod.owner, listen.pointer, message, hint)
    if pointer is not None:
        yield _at(ctx, code, obj, pointer, message, hint)
    elif listen is None or listen.pointer is None:
        yield _at(ctx, code, pod.owner, pod.container, message, hint)


def _listening(pod: Pod) -> str:
    listen = pod.listen
    if listen is None:
        return f"declares {', '.join(str(d.number) for d in pod.declared)}"
    return f"listens on {listen.number} ({listen.source})"


def check_container_ports(ctx: PortContext) -> Iterator[Diagnostic]:
    """FG910: a process listens on a port its container does not declare."""
    for pod in ctx.pods:
        listen = pod.listen
        if listen is None or not pod.declared:
            continue
        if listen.number in {d.number for d in pod.declared}:
            continue
        declared = ", ".join(str(d.number) for d in pod.declared)
        first = next((d.pointer for d in pod.declared if d.pointer), None)
        yield from _both(
            ctx,
            "FG910",
            pod,
            (pod.owner, f"{first}/containerPort" if first else None),
            f"the container {_listening(pod)} but declares containerPort {declared}",
            hint="declare the port the process listens on (Services and policies follow it)",
        )


def check_probes(ctx: PortContext) -> Iterator[Diagnostic]:
    """FG911 a probe on a port the process does not listen on; FG912 on a missing name."""
    for pod in ctx.pods:
        for probe in pod.probes:
            number = probe.port
            if isinstance(number, str):
                named = pod.port_named(number)
                if named is None:
                    yield _at(
                        ctx,
                        "FG912",
                        pod.owner,
                        probe.pointer or pod.container,
                        f"{probe.kind} uses port {number!r}, which the container does not declare",
                        hint="name a declared port, or use its number",
                    )
                    continue
                number = named.number
            if pod.listen is None or number == pod.listen.number:
                continue
            yield from _both(
                ctx,
                "FG911",
                pod,
                (pod.owner, probe.pointer),
                f"{probe.kind} checks port {number}, but the container {_listening(pod)}: "
                "the pod never becomes ready",
                hint="probe the port the process listens on",
            )


def check_services(ctx: PortContext) -> Iterator[Diagnostic]:
    """FG913: a Service (KServe's predictor Service, an InferencePool, a rendered Service)
    sends traffic to a port its pods do not listen on; FG912 a target name nobody declares."""
    for pod in ctx.pods:
        if pod.owner.kind == "InferenceService" and pod.listen is not None:
            first = predictor_service_ports(pod)[0]
            if first.target != pod.listen.number:
                declared = next((d.pointer for d in pod.declared if d.pointer), None)
                yield from _both(
                    ctx,
                    "FG913",
                    pod,
                    (pod.owner, f"{declared}/containerPort" if declared else None),
                    f"KServe's Service {pod.owner.name}-predictor sends port {first.port} to "
                    f"pod port {first.target} (its first containerPort, else the default), "
                    f"but vLLM {_listening(pod)}",
                    hint="declare vLLM's port first in the container's ports",
                )
        if pod.owner.kind == LLMISVC and pod.listen is not None:
            if managed_pool_selector(pod.owner) is None:
                continue
            targets = pool_target_ports(pod.owner)
            if targets and pod.listen.number not in {n for n, _ in targets}:
                shown = ", ".join(str(n) for n, _ in targets)
                yield from _both(
                    ctx,
                    "FG913",
                    pod,
                    (pod.owner, next((p for _, p in targets if p), None)),
                    f"its InferencePool sends traffic to port {shown}, but vLLM {_listening(pod)}",
                    hint="set the pool's targetPorts to vLLM's port",
                )
    for service in ctx.link.graph.of_kind("Service"):
        yield from _service(ctx, service)


def _service(ctx: PortContext, service: RenderedObject) -> Iterator[Diagnostic]:
    spec = service.doc.get("spec", {})
    selector = spec.get("selector")
    if not selector:
        return
    behind = [
        p for p in selected(ctx.pods, service.namespace, {"matchLabels": selector}) if p.declared
    ]
    if not behind:
        return  # whether a Service selects pods at all is a selector check
    for i, port in enumerate(spec.get("ports") or []):
        target = port.get("targetPort", port.get("port"))
        pointer = f"/spec/ports/{i}/targetPort"
        if isinstance(target, str) and not target.isdigit():
            named = [p.port_named(target) for p in behind]
            if not any(named):
                yield _at(
                    ctx,
                    "FG912",
                    service,
                    pointer,
                    f"targets port {target!r}, which no pod it selects declares",
                    hint="name a port the pods declare",
                )
                continue
            numbers = {d.number for d in named if d is not None}
        else:
            numbers = {int(target)}
        listening = [p for p in behind if p.listens_on() & numbers]
        if listening:
            continue
        for pod in behind:
            yield from _both(
                ctx,
                "FG913",
                pod,
                (service, pointer),
                f"Service {service.name} sends port {port.get('port')} to pod port "
                f"{', '.join(map(str, sorted(numbers)))}, but {pod.owner.name} {_listening(pod)}",
                hint="target the port the pods listen on",
            )


def _monitored(ctx: PortContext, monitor: RenderedObject) -> list[Pod]:
    spec = monitor.doc.get("spec", {})
    namespaces = (spec.get("namespaceSelector") or {}).get("matchNames") or [monitor.namespace]
    return [p for ns in namespaces for p in selected(ctx.pods, ns, spec.get("selector"))]


def check_monitors(ctx: PortContext) -> Iterator[Diagnostic]:
    """FG912 a PodMonitor names a port its pods do not declare; FG914 it scrapes vLLM on
    another path than /metrics (the port number itself is FG708's)."""
    for monitor in ctx.link.graph.of_kind("PodMonitor"):
        scraped = _monitored(ctx, monitor)
        if not scraped:
            continue  # FG708: the selector matches no pods
        for e, endpoint in enumerate(monitor.doc.get("spec", {}).get("podMetricsEndpoints", [])):
            at = f"/spec/podMetricsEndpoints/{e}"
            for key in ("port", "targetPort"):
                name = endpoint.get(key)
                if not isinstance(name, str) or name.isdigit():
                    continue
                if not any(p.port_named(name) for p in scraped):
                    yield _at(
                        ctx,
                        "FG912",
                        monitor,
                        f"{at}/{key}",
                        f"scrapes port {name!r}, which the pods it selects do not declare "
                        "(KServe's vLLM runtime declares no ports): Prometheus finds no target",
                        hint="use portNumber with vLLM's port",
                    )
            path = endpoint.get("path")
            if (
                path is not None
                and path != facts.VLLM_METRICS_PATH
                and any(p.vllm for p in scraped)
            ):
                yield _at(
                    ctx,
                    "FG914",
                    monitor,
                    f"{at}/path",
                    f"scrapes {path!r}; vLLM serves its metrics on {facts.VLLM_METRICS_PATH}",
                    hint=f"set path: {facts.VLLM_METRICS_PATH}",
                )


def _port_numbers(entry: Mapping[str, Any]) -> set[int] | str | None:
    """The numbers a NetworkPolicy port entry admits, its name, or None (every port)."""
    port = entry.get("port")
    if port is None:
        return None
    if isinstance(port, str) and not port.isdigit():
        return port
    end = entry.get("endPort")
    return set(range(int(port), int(end) + 1)) if end else {int(port)}


def check_ingress(ctx: PortContext) -> Iterator[Diagnostic]:
    """FG915: a NetworkPolicy ingress rule admits ports the pods it selects do not listen on
    (policies match pod ports, not Service ports); FG912 a port name they do not declare."""
    for policy in ctx.link.graph.of_kind("NetworkPolicy"):
        spec = policy.doc.get("spec", {})
        guarded = [
            p
            for p in selected(ctx.pods, policy.namespace, spec.get("podSelector"))
            if p.listens_on()
        ]
        if not guarded:
            continue
        for r, rule in enumerate(spec.get("ingress") or []):
            for i, entry in enumerate(rule.get("ports") or []):
                admitted = _port_numbers(entry)
                pointer = f"/spec/ingress/{r}/ports/{i}/port"
                if isinstance(admitted, str):
                    if not any(p.port_named(admitted) for p in guarded):
                        yield _at(
                            ctx,
                            "FG912",
                            policy,
                            pointer,
                            f"ingress rule {r} admits port {admitted!r}, which the pods it selects do not declare",
                            hint="use the port number the pods listen on",
                        )
                    continue
                if admitted is None or any(p.listens_on() & admitted for p in guarded):
                    continue
                for pod in guarded:
                    yield from _both(
                        ctx,
                        "FG915",
                        pod,
                        (policy, pointer),
                        f"NetworkPolicy {policy.name} ingress rule {r} admits port "
                        f"{entry.get('port')}, but {pod.owner.name} {_listening(pod)}: "
                        "policies match the pod's port, not the Service's, so the traffic is dropped",
                        hint="admit the port the pods listen on",
                    )


PORT_CHECKS: tuple[Callable[[PortContext], Iterator[Diagnostic]], ...] = (
    check_container_ports,
    check_probes,
    check_services,
    check_monitors,
    check_ingress,
)


def check_ports(ctx: LinkContext) -> list[Diagnostic]:
    """FG910-FG917 over one cluster; a finding both ends of a chain share is reported once."""
    context = PortContext(ctx, pods(ctx.graph))
    found: dict[tuple[str, str, int, int, str], Diagnostic] = {}
    every = [d for check in PORT_CHECKS for d in check(context)]
    for d in every + check_clients(ctx, context.pods):
        key = (d.code, d.location.file, d.location.line, d.location.column, d.message)
        found.setdefault(key, d)
    return list(found.values())
