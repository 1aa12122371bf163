"""The wiring linker: every reference between rendered objects of a cluster must resolve.

Each check is a pure function of one cluster's graph and returns diagnostics (FG704-FG713)
located through provenance: the descriptor or environment line that set the value, or the
base file line it came from.

Long module: a set of short pure checks that share LinkContext and the one helper
that locates a finding through provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain import naming
from fleetgen.domain.environment import Environment
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.knowledge.runtime_contract import (
    RuntimeContract,
    contract_for,
    vllm_version_from_image,
)
from fleetgen.rendered.build import RenderedObject, is_model_app
from fleetgen.rendered.graph import (
    LLMISVC,
    OTLP_FLAG,
    ClusterGraph,
    annotation,
    container,
    expressions,
    served_name,
    vllm_metrics,
)
from fleetgen.rendered.pods import server_pods
from fleetgen.rendered.provenance import Provenance

# Labels Prometheus adds to every scraped series (target labels), on top of vLLM's own.
TARGET_LABELS = frozenset(
    {"namespace", "pod", "container", "job", "instance", "endpoint", "service", "le"}
)


@dataclass(frozen=True, slots=True)
class LinkContext:
    graph: ClusterGraph
    env: Environment
    where: Provenance


def _d(
    ctx: LinkContext,
    code: str,
    obj: RenderedObject,
    pointer: str,
    message: str,
    hint: str | None = None,
) -> Diagnostic:
    edge = f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"
    return diag(code, f"{edge}: {message}", ctx.where.locate(obj, pointer), hint=hint)


def check_routes(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG704 route -> AIServiceBackend -> Backend -> predictor Service; FG705 model names."""
    g = ctx.graph
    for route in g.of_kind("AIGatewayRoute"):
        for r, rule in enumerate(route.doc.get("spec", {}).get("rules", [])):
            models = [
                h.get("value")
                for m in rule.get("matches", [])
                for h in m.get("headers", [])
                if h.get("name") == "x-ai-eg-model"
            ]
            for b, ref in enumerate(rule.get("backendRefs", [])):
                if ref.get("kind") == llmisvc.POOL_KIND:
                    continue  # an InferencePool: followed by rendered.llmisvc_links (FG762)
                ptr = f"/spec/rules/{r}/backendRefs/{b}"
                ns = ref.get("namespace") or route.namespace
                backend = g.get("AIServiceBackend", ns, ref.get("name", ""))
                if backend is None:
                    yield _d(
                        ctx,
                        "FG704",
                        route,
                        f"{ptr}/name",
                        f"backendRef {ref.get('name')!r} names no AIServiceBackend in {ns}",
                    )
                    continue
                isvc = yield from _follow_backend(ctx, backend)
                if isvc is None:
                    continue
                served = served_name(isvc)
                expected = ref.get("modelNameOverride") or (models[0] if models else None)
                where = (
                    f"{ptr}/modelNameOverride"
                    if ref.get("modelNameOverride")
                    else f"/spec/rules/{r}/matches/0/headers/0/value"
                )
                if expected is not None and served is not None and expected != served:
                    yield _d(
                        ctx,
                        "FG705",
                        route,
                        where,
                        f"requests for model {expected!r} reach vLLM serving {served!r} (InferenceService {isvc.name})",
                        hint="the route's model match must equal --served-model-name",
                    )


def _follow_backend(
    ctx: LinkContext, backend: RenderedObject
) -> Generator[Diagnostic, None, RenderedObject | None]:
    g = ctx.graph
    ref = backend.doc.get("spec", {}).get("backendRef", {})
    target = g.get("Backend", ref.get("namespace") or backend.namespace, ref.get("name", ""))
    if ref.get("kind", "Backend") != "Backend" or target is None:
        yield _d(
            ctx,
            "FG704",
            backend,
            "/spec/backendRef",
            f"backendRef {ref.get('name')!r} names no Envoy Gateway Backend",
        )
        return None
    for e, endpoint in enumerate(target.doc.get("spec", {}).get("endpoints", [])):
        fqdn = endpoint.get("fqdn") or {}
        host, port = str(fqdn.get("hostname", "")), fqdn.get("port")
        isvc = g.lookup("predictor-host", host)
        if isvc is not None and port == naming.SERVICE_PORT:
            return isvc
        yield _d(
            ctx,
            "FG704",
            target,
            f"/spec/endpoints/{e}/fqdn",
            f"endpoint {host}:{port} is not the predictor Service of any InferenceService",
        )
    return None


def check_autoscaling(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG706: a ScaledObject scales the Deployment KServe creates, for an external autoscaler."""
    g = ctx.graph
    for scaled in g.of_kind("ScaledObject"):
        spec = scaled.doc.get("spec", {})
        ref = spec.get("scaleTargetRef", {})
        owner = g.lookup("predictor", (scaled.namespace, ref.get("name")))
        if any(s.app == scaled.app for s in g.of_kind(LLMISVC)):
            pass  # the target of an LLMInferenceService's autoscaler: FG761
        elif owner is None or (ref.get("kind", "Deployment"), ref.get("apiVersion", "apps/v1")) != (
            "Deployment",
            "apps/v1",
        ):
            yield _d(
                ctx,
                "FG706",
                scaled,
                "/spec/scaleTargetRef",
                f"scales {ref.get('kind', 'Deployment')} {ref.get('name')!r}, no InferenceService's predictor",
            )
        elif annotation(owner, "serving.kserve.io/autoscalerClass") != "external":
            yield _d(
                ctx,
                "FG706",
                owner,
                "/metadata/annotations",
                "is scaled by a ScaledObject but its autoscalerClass is not external: two autoscalers would fight",
                hint="set serving.kserve.io/autoscalerClass: external",
            )
        for t, trigger in enumerate(spec.get("triggers", [])):
            address = (trigger.get("metadata") or {}).get("serverAddress")
            if trigger.get("type") == "prometheus" and address != ctx.env.prometheus.url:
                yield _d(
                    ctx,
                    "FG706",
                    scaled,
                    f"/spec/triggers/{t}/metadata/serverAddress",
                    f"queries {address!r}, not the environment's Prometheus {ctx.env.prometheus.url!r}",
                )


def _contract(isvc: RenderedObject) -> RuntimeContract | None:
    version = vllm_version_from_image(str(container(isvc).get("image", "")))
    return contract_for(version) if version else None


def _contracts(ctx: LinkContext, obj: RenderedObject) -> list[RuntimeContract]:
    """The vLLM versions an object's queries must work with: its app's, or the cluster's."""
    if is_model_app(obj.app):
        isvcs = [i for i in ctx.graph.servers() if i.app == obj.app]
        return [c for c in map(_contract, isvcs) if c is not None]
    every = {c.version: c for c in map(_contract, ctx.graph.servers()) if c}
    return list(every.values())


def check_metrics(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG707: queries name only metrics the pinned vLLM exports and labels it sets."""
    for obj in ctx.graph.objects:
        contracts = None
        for pointer, expr in expressions(obj):
            for metric, used_labels in vllm_metrics(expr):
                contracts = contracts if contracts is not None else _contracts(ctx, obj)
                if not is_model_app(obj.app) and any(c.exports_metric(metric) for c in contracts):
                    # A fleet-wide query names each metric as every pinned release exports
                    # it (``a or b``): each name need only exist in one of them.
                    continue
                for contract in contracts:
                    if not contract.exports_metric(metric):
                        better = contract.replacement_for(metric)
                        yield _d(
                            ctx,
                            "FG707",
                            obj,
                            pointer,
                            f"queries {metric!r}, which vLLM {contract.version} does not export",
                            hint=f"use {better!r}" if better else None,
                        )
                        break
                    unknown = sorted(set(used_labels) - contract.metric_labels - TARGET_LABELS)
                    if unknown:
                        yield _d(
                            ctx,
                            "FG707",
                            obj,
                            pointer,
                            f"filters {metric!r} on {', '.join(unknown)}, which vLLM {contract.version} does not set",
                        )
                        break


def check_monitors(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG708: a PodMonitor selects vLLM pods (a predictor's, or an LLMInferenceService's main
    workload) and scrapes vLLM's port on them."""
    g = ctx.graph
    for monitor in g.of_kind("PodMonitor"):
        spec = monitor.doc.get("spec", {})
        wanted = (spec.get("selector") or {}).get("matchLabels") or {}
        selected = [
            (server, port)
            for server, pod, port in _vllm_pods(g, monitor.namespace, wanted)
            if wanted.items() <= pod.items()
        ]
        if not selected:
            yield _d(
                ctx,
                "FG708",
                monitor,
                "/spec/selector",
                f"selector {wanted} matches no vLLM pods",
            )
        ports = {port for _, port in selected}
        for e, endpoint in enumerate(spec.get("podMetricsEndpoints", [])):
            if endpoint.get("portNumber") is None and endpoint.get("port") is not None:
                continue  # a named port: FG912 checks the pods declare it
            if ports and endpoint.get("portNumber") not in ports:
                yield _d(
                    ctx,
                    "FG708",
                    monitor,
                    f"/spec/podMetricsEndpoints/{e}",
                    f"scrapes port {endpoint.get('portNumber') or endpoint.get('port')!r}, "
                    f"not {', '.join(map(str, sorted(ports)))}",
                )


def _vllm_pods(
    g: ClusterGraph, namespace: str | None, wanted: Mapping[str, object]
) -> Iterator[tuple[RenderedObject, dict[str, str], int]]:
    """(owner, labels of its vLLM pods, vLLM's port) of the servers in a namespace whose pods
    may carry `wanted` (looked up in the cluster's pod index, not scanned)."""
    for pod in server_pods(g).candidates(namespace, wanted):
        if pod.namespace == namespace and pod.listen is not None:
            yield pod.owner, pod.labels, pod.listen.number


def check_policies(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG709: policy targets, credential Secrets and Gateway parents resolve."""
    g = ctx.graph
    produced = {
        (es.namespace, str((es.doc.get("spec", {}).get("target") or {}).get("name") or es.name))
        for es in g.of_kind("ExternalSecret")
    }
    for kind in ("SecurityPolicy", "BackendTrafficPolicy", "ClientTrafficPolicy"):
        for policy in g.of_kind(kind):
            spec = policy.doc.get("spec", {})
            for t, ref in enumerate(spec.get("targetRefs", [])):
                if (
                    ref.get("kind") == "HTTPRoute"
                    and g.get("AIGatewayRoute", policy.namespace, ref.get("name", "")) is None
                ):
                    yield _d(
                        ctx,
                        "FG709",
                        policy,
                        f"/spec/targetRefs/{t}",
                        f"targets HTTPRoute {ref.get('name')!r}: no AIGatewayRoute in {policy.namespace}",
                    )
                if (
                    ref.get("kind") == "Gateway"
                    and g.get("Gateway", policy.namespace, ref.get("name", "")) is None
                ):
                    yield _d(
                        ctx,
                        "FG709",
                        policy,
                        f"/spec/targetRefs/{t}",
                        f"targets Gateway {ref.get('name')!r}, which does not exist in {policy.namespace}",
                    )
            for c, cred in enumerate((spec.get("apiKeyAuth") or {}).get("credentialRefs", [])):
                key = (cred.get("namespace") or policy.namespace, cred.get("name"))
                if ctx.env.api_keys.source != "secret" and key not in produced:
                    yield _d(
                        ctx,
                        "FG709",
                        policy,
                        f"/spec/apiKeyAuth/credentialRefs/{c}/name",
                        f"reads Secret {cred.get('name')!r}, which no ExternalSecret produces in {key[0]}",
                    )
    for route in g.of_kind("AIGatewayRoute"):
        for p, parent in enumerate(route.doc.get("spec", {}).get("parentRefs", [])):
            if (
                g.get("Gateway", parent.get("namespace") or route.namespace, parent.get("name", ""))
                is None
            ):
                yield _d(
                    ctx,
                    "FG709",
                    route,
                    f"/spec/parentRefs/{p}",
                    f"attaches to Gateway {parent.get('name')!r}, which the environment does not create",
                )


def check_caches(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG710: a LocalModelCache is used only if its source is a path prefix of a storageUri."""
    uris = [
        str(container(i).get("storageUri", "")).rstrip("/")
        for i in ctx.graph.of_kind("InferenceService")
    ]
    for cache in ctx.graph.of_kind("LocalModelCache"):
        source = str(cache.doc.get("spec", {}).get("sourceModelUri", "")).rstrip("/")
        if not any(uri == source or uri.startswith(source + "/") for uri in uris):
            yield _d(
                ctx,
                "FG710",
                cache,
                "/spec/sourceModelUri",
                f"{source!r} is not a path prefix of any InferenceService storageUri: the cache would never be used",
            )


def check_traces(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG711: every OTLP endpoint is the environment's Phoenix endpoint."""
    phoenix = ctx.env.phoenix.endpoint if ctx.env.phoenix else None
    for obj in ctx.graph.objects:
        if obj.kind == LLMISVC:
            tracing = obj.doc.get("spec", {}).get("tracing") or {}
            found = (
                [("/spec/tracing/exporterEndpoint", str(tracing["exporterEndpoint"]))]
                if "exporterEndpoint" in tracing
                else []
            )
        elif obj.kind == "InferenceService":
            model = container(obj)
            found = [
                (f"/spec/predictor/model/args/{i}", str(a)[len(OTLP_FLAG) :])
                for i, a in enumerate(model.get("args", []))
                if str(a).startswith(OTLP_FLAG)
            ]
            found += [
                (f"/spec/predictor/model/env/{i}/value", str(e.get("value")))
                for i, e in enumerate(model.get("env", []))
                if e.get("name")
                in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
            ]
        elif obj.kind == "GatewayConfig":
            env_vars = (
                obj.doc.get("spec", {}).get("extProc", {}).get("kubernetes", {}).get("env", [])
            )
            found = [
                (f"/spec/extProc/kubernetes/env/{i}/value", str(e.get("value")))
                for i, e in enumerate(env_vars)
                if e.get("name")
                in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
            ]
        else:
            continue
        for pointer, value in found:
            if value != phoenix:
                yield _d(
                    ctx,
                    "FG711",
                    obj,
                    pointer,
                    f"sends traces to {value!r}, not the environment's Phoenix endpoint {phoenix!r}",
                )


def check_namespaces(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG712: model apps stay in the environment's namespace; cluster-scoped kinds have none."""
    env = ctx.env
    platform = {env.namespace, env.gateway.namespace, env.prometheus.namespace}
    for obj in ctx.graph.objects:
        if obj.kind in ("LocalModelCache", "Namespace"):
            if obj.namespace:
                yield _d(
                    ctx,
                    "FG712",
                    obj,
                    "/metadata/namespace",
                    "is cluster-scoped but carries a namespace",
                )
            continue
        allowed = {env.namespace} if is_model_app(obj.app) else platform
        if obj.namespace not in allowed:
            yield _d(
                ctx,
                "FG712",
                obj,
                "/metadata/namespace",
                f"is in namespace {obj.namespace!r}; this app may use {', '.join(sorted(allowed))}",
            )


def check_duplicates(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG713: no two apps on one cluster render the same object."""
    seen: dict[tuple[str, str | None, str], RenderedObject] = {}
    for obj in ctx.graph.objects:
        key = (obj.kind, obj.namespace, obj.name)
        first = seen.setdefault(key, obj)
        if first is not obj and first.app != obj.app:
            yield _d(
                ctx,
                "FG713",
                obj,
                "/metadata/name",
                f"is also rendered by {first.app}: the two apps would fight over it",
            )


LINKS: tuple[Callable[[LinkContext], Iterator[Diagnostic]], ...] = (
    check_routes,
    check_autoscaling,
    check_metrics,
    check_monitors,
    check_policies,
    check_caches,
    check_traces,
    check_namespaces,
    check_duplicates,
)


def link(ctx: LinkContext) -> list[Diagnostic]:
    return [found for check in LINKS for found in check(ctx)]
