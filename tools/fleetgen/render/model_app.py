"""The overlay of one model on one cluster: JSON6902 patches over base/model.

Every value comes from the descriptor, the environment or naming; nothing here is typed in
twice. The placeholder contract these patches fill is base/README.md.

Long module: one short patch builder per object of a model app, all reading the same
Placement; side by side they show that every shared value comes from naming.
"""

from __future__ import annotations

from typing import Any

from fleetgen.checks.policy import image_location
from fleetgen.domain import layout, llmisvc_shape, naming
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.catalog.gpus import get_gpu
from fleetgen.knowledge.kserve import llmisvc as llmisvc_kserve
from fleetgen.knowledge.runtime_contract import contract_for
from fleetgen.render import kv_cache, llmisvc, promql
from fleetgen.render.canonical import dump_json, dump_yaml, embedded_json
from fleetgen.render.dashboard import dashboard
from fleetgen.render.model_common import GENERATED_BY, SCRATCH_GIB, policy_peers, weights_gib
from fleetgen.render.model_common import common as _common
from fleetgen.render.model_common import gib as _gib
from fleetgen.render.model_common import monitoring_labels as _monitoring_labels
from fleetgen.render.model_common import vllm_args as _vllm_args
from fleetgen.render.patches import Patch, pointer


def inference_service(p: Placement) -> Patch:
    desc, env, pool = p.descriptor, p.environment, p.pool
    rt, model, res = desc.runtime, desc.model, desc.resources
    isvc = naming.isvc(desc.name)
    patch = _common(Patch("serving.kserve.io", "v1beta1", "InferenceService", "model"), p, isvc)
    annotations = {
        "argocd.argoproj.io/compare-options": "ServerSideDiff=true",
        GENERATED_BY: desc.source.path,
    }
    if model.revision:
        annotations["fleetgen.dev/model-revision"] = model.revision
    if desc.cache_enabled and pool is not None and pool.cache_node_group:
        annotations["serving.kserve.io/nodegroup"] = pool.cache_node_group
    for key in sorted(annotations):
        patch.add(pointer("metadata", "annotations", key), annotations[key])
    predictor = ("spec", "predictor")
    patch.replace(pointer(*predictor, "minReplicas"), p.min_replicas, origin=p.replicas_at("min"))
    patch.replace(pointer(*predictor, "maxReplicas"), p.max_replicas, origin=p.replicas_at("max"))
    if env.service_account is not None:
        patch.replace(pointer(*predictor, "serviceAccountName"), env.service_account.name)
    else:
        patch.remove(pointer(*predictor, "serviceAccountName"))
    labels = dict(pool.node_labels) if pool is not None else {}
    patch.replace(pointer(*predictor, "nodeSelector"), {k: labels[k] for k in sorted(labels)})
    taints = pool.taints if pool is not None else ()
    if taints:
        patch.replace(
            pointer(*predictor, "tolerations"),
            [
                {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
                if t.value
                else {"key": t.key, "operator": "Exists", "effect": t.effect}
                for t in taints
            ],
        )
    else:
        patch.remove(pointer(*predictor, "tolerations"))
    container = (*predictor, "model")
    src = desc.source
    patch.replace(
        pointer(*container, "storageUri"),
        model.storage_uri,
        origin=src.at("spec", "model", "storageUri"),
    )
    patch.replace(pointer(*container, "image"), p.image, origin=image_location(p))
    # The base's args/0..3 placeholders (base/README.md), each from one descriptor field.
    placeholders = (
        (f"--served-model-name={model.served_name}", ("model", "servedName")),
        (f"--tensor-parallel-size={rt.tensor_parallel}", ("runtime", "tensorParallel")),
        (f"--max-model-len={rt.max_model_len}", ("runtime", "maxModelLen")),
        (
            f"--gpu-memory-utilization={rt.gpu_memory_utilization:g}",
            ("runtime", "gpuMemoryUtilization"),
        ),
    )
    for index, (arg, field) in enumerate(placeholders):
        patch.replace(pointer(*container, "args", index), arg, origin=src.at("spec", *field))
    for arg in _vllm_args(p):
        patch.add(pointer(*container, "args", "-"), arg)
    gpu = get_gpu(pool.gpu) if pool is not None else None
    resource = gpu.resource_name if gpu is not None else "nvidia.com/gpu"
    amounts = {
        "cpu": res.cpu,
        "memory": res.memory,
        "ephemeral-storage": _gib(weights_gib(p) * 1.1 + SCRATCH_GIB),
        resource: str(res.gpus_per_replica),
    }
    patch.replace(
        pointer(*container, "resources"),
        {"requests": amounts, "limits": amounts},
        origin=src.at("spec", "resources"),
    )
    return patch


def scaled_object(p: Placement) -> Patch:
    desc = p.descriptor
    scale = desc.autoscaling
    patch = _common(
        Patch("keda.sh", "v1alpha1", "ScaledObject", "model"), p, naming.isvc(desc.name)
    )
    src = desc.source
    if p.llmisvc:
        # KServe's workload: a Deployment, or a LeaderWorkerSet for a multi-node preset.
        api, kind, target = llmisvc_kserve.workload(
            naming.isvc(desc.name), llmisvc_shape.multi_node(desc)
        )
        if (api, kind) != llmisvc_kserve.DEPLOYMENT:
            refs_at = p.serving_api_at()
            patch.replace("/spec/scaleTargetRef/apiVersion", api, origin=refs_at)
            patch.replace("/spec/scaleTargetRef/kind", kind, origin=refs_at)
    else:
        target = naming.predictor(desc.name)
    patch.replace("/spec/scaleTargetRef/name", target, origin=patch.origin)
    patch.replace("/spec/minReplicaCount", p.min_replicas, origin=p.replicas_at("min"))
    patch.replace("/spec/maxReplicaCount", p.max_replicas, origin=p.replicas_at("max"))
    patch.replace(
        "/spec/pollingInterval",
        scale.polling_interval,
        origin=src.at("spec", "autoscaling", "pollingInterval"),
    )
    patch.replace("/spec/cooldownPeriod", scale.cooldown_period)
    trigger = "/spec/triggers/0/metadata"
    patch.replace(
        f"{trigger}/serverAddress",
        p.environment.prometheus.url,
        origin=p.environment.source.at("spec", "prometheus", "url"),
    )
    query = promql.autoscaler_query(scale.metric, p.namespace, desc.model.served_name)
    patch.replace(f"{trigger}/query", query, origin=src.at("spec", "autoscaling", "metric"))
    patch.replace(
        f"{trigger}/threshold",
        f"{scale.target_per_pod:g}",
        origin=src.at("spec", "autoscaling", "targetPerPod"),
    )
    if scale.scale_to_zero and scale.activation_threshold is not None:
        patch.add(f"{trigger}/activationThreshold", f"{scale.activation_threshold:g}")
    return patch


def gateway_objects(p: Placement) -> list[Patch]:
    desc, gw = p.descriptor, p.environment.gateway
    isvc, served = naming.isvc(desc.name), desc.model.served_name
    backend = _common(Patch("gateway.envoyproxy.io", "v1alpha1", "Backend", "model"), p, isvc)
    backend.replace("/spec/endpoints/0/fqdn/hostname", naming.predictor_host(isvc, p.namespace))
    ai_backend = _common(
        Patch("aigateway.envoyproxy.io", "v1beta1", "AIServiceBackend", "model"), p, isvc
    )
    ai_backend.replace("/spec/backendRef/name", isvc)
    route = _common(Patch("aigateway.envoyproxy.io", "v1beta1", "AIGatewayRoute", "model"), p, isvc)
    gw_at = p.environment.source.at("spec", "gateway")
    route.replace("/spec/parentRefs/0/name", gw.name, origin=gw_at)
    route.add("/spec/parentRefs/0/namespace", gw.namespace, origin=gw_at)
    route.replace(
        "/spec/rules/0/matches/0/headers/0/value",
        served,
        origin=desc.source.at("spec", "model", "servedName"),
    )
    route.replace("/spec/rules/0/backendRefs/0/name", isvc)
    for alias in desc.model.aliases:
        # An alias reaches the same backend; the gateway rewrites `model` to the served name
        # vLLM knows.
        route.add(
            "/spec/rules/-",
            {
                "matches": [
                    {"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": alias}]}
                ],
                "backendRefs": [{"name": isvc, "modelNameOverride": served}],
                "timeouts": {"request": "300s"},
            },
        )
    return [backend, ai_backend, route]


def monitoring_objects(p: Placement) -> list[Patch]:
    isvc = naming.isvc(p.descriptor.name)
    monitor = _common(Patch("monitoring.coreos.com", "v1", "PodMonitor", "model"), p, isvc)
    _monitoring_labels(monitor, p)
    monitor.replace(
        pointer("spec", "selector", "matchLabels", "serving.kserve.io/inferenceservice"), isvc
    )
    return [monitor, prometheus_rule(p), network_policy(p)]


def prometheus_rule(p: Placement) -> Patch:
    """The model's alerts (the same pointers in base/model and base/llmisvc)."""
    desc = p.descriptor
    isvc, served, ns = naming.isvc(desc.name), desc.model.served_name, p.namespace
    alerts = desc.observability.alerts
    rule = _common(Patch("monitoring.coreos.com", "v1", "PrometheusRule", "model"), p, isvc)
    _monitoring_labels(rule, p)
    contract = contract_for(p.vllm_version or "")
    exprs = (
        promql.queue_alert(ns, served, alerts.queue_depth),
        promql.kv_cache_alert(ns, served, alerts.kv_cache_usage, contract),
        promql.ttft_alert(ns, served, alerts.ttft_p95_seconds),
        promql.error_alert(ns, served, alerts.error_rate),
    )
    for index, expr in enumerate(exprs):
        rule.replace(f"/spec/groups/0/rules/{index}/expr", expr)
    if not promql.counts_errors(contract):
        # The release labels no request finished_reason="error": the alert could never fire.
        rule.remove("/spec/groups/0/rules/3")
    return rule


def network_policy(p: Placement) -> Patch:
    """Ingress from the gateway and Prometheus only; egress to DNS, traces and storage."""
    isvc = naming.isvc(p.descriptor.name)
    policy = _common(Patch("networking.k8s.io", "v1", "NetworkPolicy", "model"), p, isvc)
    policy.replace(
        pointer("spec", "podSelector", "matchLabels", "serving.kserve.io/inferenceservice"), isvc
    )
    if kv_cache.COMPONENT in components(p):
        # Before egress rule 1 may be removed: the component's rule sits at a fixed index.
        kv_cache.select_redis(policy, p)
    return policy_peers(policy, p)


def security_policy(p: Placement) -> Patch:
    """API keys on the model's route; only the tenants the descriptor admits (others: 403)."""
    desc, env = p.descriptor, p.environment
    isvc = naming.isvc(desc.name)
    header = env.gateway.client_id_header
    patch = _common(Patch("gateway.envoyproxy.io", "v1alpha1", "SecurityPolicy", "model"), p, isvc)
    patch.replace("/spec/targetRefs/0/name", isvc)
    patch.replace(
        "/spec/apiKeyAuth/credentialRefs/0/name",
        env.api_keys.secret_name,
        origin=env.source.at("spec", "apiKeys"),
    )
    patch.replace(
        "/spec/apiKeyAuth/forwardClientIDHeader", header, origin=env.source.at("spec", "gateway")
    )
    if desc.tenants:
        patch.replace("/spec/authorization/rules/0/principal/headers/0/name", header)
        patch.replace(
            "/spec/authorization/rules/0/principal/headers/0/values",
            sorted(t.name for t in desc.tenants),
        )
    else:
        # No tenant admitted: every key is refused.
        patch.remove("/spec/authorization/rules")
    return patch


def dashboard_object(p: Placement) -> Patch:
    desc = p.descriptor
    isvc = naming.isvc(desc.name)
    patch = _common(Patch("", "v1", "ConfigMap", "model-dashboard"), p, naming.dashboard(isvc))
    board = dashboard(isvc, p.namespace, desc.model.served_name, contract_for(p.vllm_version or ""))
    patch.replace(pointer("data", "dashboard.json"), embedded_json(board))
    return patch


def tracing(p: Placement) -> Patch:
    desc, phoenix = p.descriptor, p.environment.phoenix
    assert phoenix is not None
    patch = Patch("serving.kserve.io", "v1beta1", "InferenceService", "model")
    container = ("spec", "predictor", "model")
    patch.replace(
        pointer(*container, "args", 4),
        f"--otlp-traces-endpoint={phoenix.endpoint}",
        origin=p.environment.source.at("spec", "phoenix", "endpoint"),
    )
    values = (
        naming.isvc(desc.name),
        "true" if phoenix.endpoint.startswith("http://") else "false",
        phoenix.protocol,
        "parentbased_traceidratio",
        f"{desc.observability.sampling:g}",
    )
    # A protocol that does not fit the endpoint's port is the environment's line to fix.
    origins = {5: p.environment.source.at("spec", "phoenix", "protocol")}
    for index, value in enumerate(values, start=3):
        patch.replace(pointer(*container, "env", index, "value"), value, origin=origins.get(index))
    return patch


def token_limits(p: Placement) -> Patch:
    desc, gw = p.descriptor, p.environment.gateway
    isvc = naming.isvc(desc.name)
    patch = _common(
        Patch("gateway.envoyproxy.io", "v1alpha1", "BackendTrafficPolicy", "model-tokens"),
        p,
        naming.token_policy(isvc),
    )
    patch.replace("/spec/targetRefs/0/name", isvc)
    rules = "/spec/rateLimit/global/rules"
    first, *rest = desc.tenants
    patch.replace(f"{rules}/0/clientSelectors/0/headers/0/name", gw.client_id_header)
    patch.replace(f"{rules}/0/clientSelectors/0/headers/0/value", first.name)
    patch.replace(f"{rules}/0/clientSelectors/0/headers/1/value", desc.model.served_name)
    patch.replace(f"{rules}/0/limit", {"requests": first.tokens, "unit": first.unit})
    for tenant in rest:
        patch.add(
            f"{rules}/-",
            {
                "clientSelectors": [
                    {
                        "headers": [
                            {"name": gw.client_id_header, "type": "Exact", "value": tenant.name},
                            {
                                "name": "x-ai-eg-model",
                                "type": "Exact",
                                "value": desc.model.served_name,
                            },
                        ]
                    }
                ],
                "limit": {"requests": tenant.tokens, "unit": tenant.unit},
                "cost": {
                    "request": {"from": "Number", "number": 0},
                    "response": {
                        "from": "Metadata",
                        "metadata": {"namespace": "io.envoy.ai_gateway", "key": "llm_total_token"},
                    },
                },
            },
        )
    return patch


def model_cache(p: Placement) -> Patch:
    desc, pool = p.descriptor, p.pool
    assert pool is not None and pool.cache_node_group is not None
    patch = _common(
        Patch("serving.kserve.io", "v1alpha1", "LocalModelCache", "model"),
        p,
        naming.local_model_cache(desc.name),
        namespaced=False,
    )
    patch.replace(
        "/spec/sourceModelUri",
        desc.model.storage_uri,
        origin=desc.source.at("spec", "model", "storageUri"),
    )
    size = desc.cache_size or _gib(weights_gib(p) * 1.1)
    patch.replace("/spec/modelSize", size)
    patch.replace("/spec/nodeGroups", [pool.cache_node_group])
    return patch


def shared_kv_cache(p: Placement) -> list[Patch]:
    """LMCache settings on the InferenceService and the model's Redis objects."""
    name, base = naming.kv_cache(p.descriptor.name), "model-kv-cache"
    deployment = _common(Patch("apps", "v1", "Deployment", base), p, name)
    service = _common(Patch("", "v1", "Service", base), p, name)
    policy = _common(Patch("networking.k8s.io", "v1", "NetworkPolicy", base), p, name)
    traced = "tracing" in components(p)
    return [
        kv_cache.connector_config(p, traced=traced),
        *kv_cache.redis_objects(deployment, service, policy, p),
    ]


def components(p: Placement) -> list[str]:
    """The optional base components this placement uses, in a fixed order."""
    if p.llmisvc:
        # Traces and the CPU KV tier are fields of the LLMInferenceService itself; KServe's
        # local model cache and the shared Redis tier serve InferenceServices only.
        return [c for c in ("token-limits", "dashboard") if c in _common_components(p)]
    return _common_components(p)


def _common_components(p: Placement) -> list[str]:
    desc, pool = p.descriptor, p.pool
    chosen = []
    if desc.cache_enabled and pool is not None and pool.cache_node_group:
        chosen.append("model-cache")
    if desc.observability.tracing and p.environment.phoenix is not None:
        chosen.append("tracing")
    if desc.tenants:
        chosen.append("token-limits")
    if desc.observability.dashboard:
        chosen.append("dashboard")
    if p.shared_kv_cache:
        chosen.append(kv_cache.COMPONENT)
    return chosen


def app_patches(p: Placement) -> list[Patch]:
    """Every JSON6902 patch of one app, in a fixed order (base objects, then components)."""
    extra = {
        "model-cache": model_cache,
        "tracing": tracing,
        "token-limits": token_limits,
        "dashboard": dashboard_object,
    }
    if p.llmisvc:
        return [
            llmisvc.llm_inference_service(p),
            scaled_object(p),
            llmisvc.route(p),
            security_policy(p),
            llmisvc.monitor(p),
            prometheus_rule(p),
            llmisvc.network_policy(p),
            *(extra[name](p) for name in components(p)),
        ]
    return [
        inference_service(p),
        scaled_object(p),
        *gateway_objects(p),
        security_policy(p),
        *monitoring_objects(p),
        *(extra[name](p) for name in components(p) if name in extra),
        *(shared_kv_cache(p) if kv_cache.COMPONENT in components(p) else []),
    ]


def render_app(p: Placement) -> dict[str, bytes]:
    """The files of one app directory: kustomization.yaml and the Argo CD discovery file."""
    desc, env = p.descriptor, p.environment
    directory = layout.app_dir(env.name, p.cluster.name, desc.name)
    chosen = components(p)
    patches = app_patches(p)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [
            layout.relative(directory, layout.BASE_LLMISVC if p.llmisvc else layout.BASE_MODEL)
        ],
    }
    if chosen:
        kustomization["components"] = [
            layout.relative(directory, layout.component(name)) for name in chosen
        ]
    kustomization["patches"] = [patch.entry() for patch in patches]
    header = (
        f"Generated by fleetgen from {desc.source.path} and {env.source.path}.\n"
        "Do not edit: change the descriptor and run `fleetgen generate`."
    )
    app = {
        "app": naming.app_name(env.name, p.cluster.name, desc.name),
        "model": desc.name,
        "team": desc.team,
    }
    return {
        f"{directory}/kustomization.yaml": dump_yaml(kustomization, header=header),
        f"{directory}/{layout.APP_FILE}": dump_json(app),
    }
