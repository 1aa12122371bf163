"""FG760-FG768 (and FG705 for pools; FG769 in llmisvc_traffic): an LLMInferenceService app as KServe will run it.

What KServe does with the rendered service (which presets pass which flag and field to vLLM,
which workload and pod labels the controller creates, what its webhook refuses) comes from
fleetgen.knowledge.kserve; every check is a pure function of one cluster's graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.knowledge.runtime_contract import canonical_flag
from fleetgen.rendered import llmisvc_facts as facts
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import LLMISVC, served_name
from fleetgen.rendered.linker import LinkContext, _contract, _d
from fleetgen.rendered.llmisvc_traffic import check_multi_node_traffic

_GPU_SUFFIX = "/gpu"
_ROUTE = "AIGatewayRoute"


def _main_index(service: RenderedObject) -> int:
    containers = (facts.spec(service).get("template") or {}).get("containers") or []
    return next((i for i, c in enumerate(containers) if c.get("name") == "main"), 0)


def _gpus(container: dict[str, Any]) -> int | None:
    resources = container.get("resources") or {}
    for part in ("limits", "requests"):
        for key, value in (resources.get(part) or {}).items():
            if str(key).endswith(_GPU_SUFFIX):
                try:
                    return int(str(value))
                except ValueError:
                    return None
    return None


def _int(value: object, default: int = 1) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def check_gpus(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG760: the main container requests tensor x pipeline x dataLocal GPUs."""
    for service in ctx.graph.of_kind(LLMISVC):
        par = facts.parallelism(service)
        wanted = _int(par.get("tensor")) * _int(par.get("pipeline")) * _int(par.get("dataLocal"))
        index = _main_index(service)
        containers = (facts.spec(service).get("template") or {}).get("containers") or []
        if not containers:
            continue
        got = _gpus(containers[index])
        if got is not None and got != wanted:
            yield _d(
                ctx,
                "FG760",
                service,
                f"/spec/template/containers/{index}/resources",
                f"the vLLM pod requests {got} GPUs, but spec.parallelism gives tensor x "
                f"pipeline x dataLocal = {wanted} workers",
                hint="request as many GPUs as vLLM starts workers",
            )


def check_autoscaler(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG761: the ScaledObject scales the workload KServe creates, and is its only scaler."""
    for scaled in ctx.graph.of_kind("ScaledObject"):
        services = [
            s
            for s in ctx.graph.of_kind(LLMISVC)
            if s.app == scaled.app and s.namespace == scaled.namespace
        ]
        if not services:
            continue
        ref = scaled.doc.get("spec", {}).get("scaleTargetRef") or {}
        got = (
            str(ref.get("apiVersion", "apps/v1")),
            str(ref.get("kind", "Deployment")),
            str(ref.get("name", "")),
        )
        targets = {facts.workload(s): s for s in services}
        service = targets.get(got)
        if service is None:
            wanted = " or ".join(f"{a} {k} {n}" for a, k, n in targets)
            kinds = {(a, k) for a, k, _ in targets}
            field = (
                "name"
                if got[:2] in kinds
                else ("kind" if got[1] != "Deployment" or "kind" in ref else "apiVersion")
            )
            yield _d(
                ctx,
                "FG761",
                scaled,
                f"/spec/scaleTargetRef/{field}",
                f"scales {got[1]} {got[2]!r} ({got[0]}), but KServe creates {wanted}",
                hint="a worker preset runs a LeaderWorkerSet <name>-kserve-mn, "
                "otherwise a Deployment <name>-kserve",
            )
            continue
        for field in ("replicas", "scaling"):
            if field in facts.spec(service):
                yield _d(
                    ctx,
                    "FG761",
                    service,
                    f"/spec/{field}",
                    f"sets spec.{field} while ScaledObject {scaled.name} scales its "
                    f"{got[1]}: two autoscalers would fight over the replica count",
                    hint=f"drop spec.{field}; the ScaledObject owns the replicas",
                )


def _managed_pools(ctx: LinkContext) -> dict[tuple[str | None, str], RenderedObject]:
    """(namespace, pool name) -> the service whose managed scheduler creates it."""
    found = {}
    for service in ctx.graph.of_kind(LLMISVC):
        router = facts.spec(service).get("router") or {}
        if "scheduler" in router and facts.pool_ref(service) is None:
            found[(service.namespace, llmisvc.pool_name(service.name))] = service
    return found


def _pool_users(ctx: LinkContext) -> dict[tuple[str | None, str], RenderedObject]:
    """(namespace, pool name) -> a service that routes through an existing pool it names."""
    found = {}
    for service in ctx.graph.of_kind(LLMISVC):
        ref = facts.pool_ref(service)
        if ref is not None:
            found[(service.namespace, ref)] = service
    return found


def _granted(ctx: LinkContext, route: RenderedObject, namespace: str) -> bool:
    for grant in ctx.graph.of_kind("ReferenceGrant"):
        if grant.namespace != namespace:
            continue
        spec = grant.doc.get("spec") or {}
        origin = any(
            f.get("kind") == _ROUTE and f.get("namespace") == route.namespace
            for f in spec.get("from") or []
        )
        target = any(t.get("kind") == llmisvc.POOL_KIND for t in spec.get("to") or [])
        if origin and target:
            return True
    return False


def check_pool_routes(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG762 dangling pool, FG765 empty backendRefs, FG766 another namespace, FG705 model."""
    g = ctx.graph
    managed, users = _managed_pools(ctx), _pool_users(ctx)
    for route in g.of_kind(_ROUTE):
        for r, rule in enumerate(route.doc.get("spec", {}).get("rules") or []):
            refs = rule.get("backendRefs") or []
            if not refs:
                yield _d(
                    ctx,
                    "FG765",
                    route,
                    f"/spec/rules/{r}",
                    f"rule {r} has no backendRefs: the gateway answers its requests with 500",
                )
            models = [
                h.get("value")
                for m in rule.get("matches") or []
                for h in m.get("headers") or []
                if h.get("name") == "x-ai-eg-model"
            ]
            for b, ref in enumerate(refs):
                if ref.get("kind") != llmisvc.POOL_KIND:
                    continue
                ptr = f"/spec/rules/{r}/backendRefs/{b}"
                ns, name = ref.get("namespace") or route.namespace, str(ref.get("name", ""))
                if ns != route.namespace and not _granted(ctx, route, str(ns)):
                    yield _d(
                        ctx,
                        "FG766",
                        route,
                        f"{ptr}/namespace",
                        f"sends to InferencePool {name!r} in namespace {ns!r} without a "
                        f"ReferenceGrant there: the gateway refuses the reference",
                        hint="route to the pool in the route's own namespace",
                    )
                    continue
                service = managed.get((ns, name)) or users.get((ns, name))
                if g.get(llmisvc.POOL_KIND, ns, name) is None and (ns, name) not in managed:
                    yield _d(
                        ctx,
                        "FG762",
                        route,
                        f"{ptr}/name",
                        f"sends to InferencePool {name!r}, which neither a rendered object nor "
                        f"the scheduler of an LLMInferenceService in {ns} creates",
                        hint="route to <LLMInferenceService>-inference-pool",
                    )
                    continue
                served = served_name(service) if service is not None else None
                expected = ref.get("modelNameOverride") or (models[0] if models else None)
                where = (
                    f"{ptr}/modelNameOverride"
                    if ref.get("modelNameOverride")
                    else f"/spec/rules/{r}/matches/0/headers/0/value"
                )
                if service is not None and expected and served and expected != served:
                    yield _d(
                        ctx,
                        "FG705",
                        route,
                        where,
                        f"requests for model {expected!r} reach vLLM serving {served!r} "
                        f"(LLMInferenceService {service.name})",
                        hint="the route's model match must equal spec.model.name",
                    )
    for (ns, name), service in sorted(users.items(), key=lambda kv: str(kv[0])):
        if g.get(llmisvc.POOL_KIND, ns, name) is None:
            yield _d(
                ctx,
                "FG762",
                service,
                "/spec/router/scheduler/pool/ref/name",
                f"routes through InferencePool {name!r}, which nothing on this cluster renders",
                hint="render the pool, or let KServe manage one (drop serving.pool)",
            )


def _selects(selector: dict[str, str], ctx: LinkContext, namespace: str | None) -> bool:
    return any(
        s.namespace == namespace and selector.items() <= facts.pod_labels(s).items()
        for s in ctx.graph.of_kind(LLMISVC)
    )


def check_pool_selectors(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG763: every pool selects the vLLM pods KServe creates, on vLLM's port."""
    for service in ctx.graph.of_kind(LLMISVC):
        selector = facts.managed_pool_selector(service)
        if selector is None:
            continue
        pods = facts.pod_labels(service)
        own = (facts.pool_spec(service).get("selector") or {}).get("matchLabels")
        where = "/spec/router/scheduler/pool/spec/selector" if own else "/spec/baseRefs"
        if not selector.items() <= pods.items():
            extra = {k: v for k, v in selector.items() if pods.get(k) != v}
            yield _d(
                ctx,
                "FG763",
                service,
                where,
                f"the pool KServe creates selects {extra}, which the pods of its "
                f"{facts.workload(service)[1]} do not carry: the pool has no endpoints",
                hint="select only on labels KServe sets (app.kubernetes.io/name, "
                "kserve.io/component: workload)",
            )
    for pool in ctx.graph.of_kind(llmisvc.POOL_KIND):
        spec = pool.doc.get("spec") or {}
        wanted = {
            str(k): str(v)
            for k, v in ((spec.get("selector") or {}).get("matchLabels") or {}).items()
        }
        if not _selects(wanted, ctx, pool.namespace):
            yield _d(
                ctx,
                "FG763",
                pool,
                "/spec/selector",
                f"selector {wanted} matches no pod of an LLMInferenceService in {pool.namespace}",
            )


def _flags(args: list[object]) -> list[tuple[int, str]]:
    found = []
    for index, arg in enumerate(args):
        flag = canonical_flag(str(arg))
        if flag is not None:
            found.append((index, flag))
    return found


def check_merged_args(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG764: the flags the presets and the container pass vLLM together."""
    for service in ctx.graph.of_kind(LLMISVC):
        contract = _contract(service)
        index = _main_index(service)
        containers = (facts.spec(service).get("template") or {}).get("containers") or []
        args = list((containers[index] if containers else {}).get("args") or [])
        preset_flags: dict[str, int] = {}
        for r, name in enumerate(facts.base_refs(service)):
            preset = llmisvc.preset(name)
            for flag in preset.flags if preset is not None else ():
                preset_flags.setdefault(flag, r)
                if contract is not None and not contract.accepts_flag(flag):
                    yield _d(
                        ctx,
                        "FG764",
                        service,
                        f"/spec/baseRefs/{r}",
                        f"preset {name} passes {flag}, which vLLM {contract.version} does not "
                        f"accept: the pod exits at start",
                        hint="pin a vLLM release that has it, or use another preset",
                    )
        seen: dict[str, int] = {}
        for a, flag in _flags(args):
            ptr = f"/spec/template/containers/{index}/args/{a}"
            if flag in preset_flags and flag not in llmisvc.TUNABLE_PRESET_FLAGS:
                yield _d(
                    ctx,
                    "FG764",
                    service,
                    ptr,
                    f"{flag} is passed by preset {facts.base_refs(service)[preset_flags[flag]]} "
                    f"already; the container's copy comes last and wins over the preset's "
                    f"(and the fields KServe derives it from)",
                    hint="set the LLMInferenceService field instead (model.name, parallelism)",
                )
            elif flag in seen:
                yield _d(
                    ctx,
                    "FG764",
                    service,
                    ptr,
                    f"{flag} is given twice (args {seen[flag]} and {a}); vLLM keeps the last",
                )
            seen.setdefault(flag, a)


def check_parallelism(ctx: LinkContext) -> Iterator[Diagnostic]:
    """FG767 what KServe's webhook refuses; FG768 a field no preset passes on."""
    for service in ctx.graph.of_kind(LLMISVC):
        par = facts.parallelism(service)
        for field, why in llmisvc.webhook_refusals(par, facts.multi_node(service)):
            if field == "worker":
                own = "worker" in facts.spec(service)
                ptr = "/spec/worker" if own else "/spec/baseRefs"
            else:
                ptr = f"/spec/parallelism/{field}"
            yield _d(ctx, "FG767", service, ptr, f"KServe's webhook refuses it: {why}")
        if not facts.all_refs_known(service):
            continue
        consumed = frozenset().union(*(p.consumes for p in facts.known_presets(service)))
        for field, value in par.items():
            default = field == "tensor" and value == 1
            if field not in consumed and not default and value not in (None, False):
                yield _d(
                    ctx,
                    "FG768",
                    service,
                    f"/spec/parallelism/{field}",
                    f"parallelism.{field} = {value} reaches vLLM through none of the presets "
                    f"in baseRefs ({', '.join(facts.base_refs(service))}): ignored while the "
                    "pods keep their GPUs",
                )


LLMISVC_LINKS: tuple[Callable[[LinkContext], Iterator[Diagnostic]], ...] = (
    check_gpus,
    check_autoscaler,
    check_pool_routes,
    check_pool_selectors,
    check_merged_args,
    check_parallelism,
    check_multi_node_traffic,
)


def link_llmisvc(ctx: LinkContext) -> list[Diagnostic]:
    return [found for check in LLMISVC_LINKS for found in check(ctx)]
