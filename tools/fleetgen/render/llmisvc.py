"""The objects of a model served through KServe's LLMInferenceService: patches over base/llmisvc.

The vLLM pod comes from the presets in baseRefs; fleetgen fills the model, parallelism, the pod
template (image, args, resources, placement) and the router, and points the AI Gateway route at
the InferencePool. The pointers are base/README.md's `base/llmisvc` table.
"""

from __future__ import annotations

from fleetgen.checks.policy import image_location
from fleetgen.domain import llmisvc_shape, naming
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.catalog.gpus import get_gpu
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.render.model_common import GENERATED_BY, common, gib, policy_peers, vllm_args
from fleetgen.render.model_common import monitoring_labels as _monitoring_labels
from fleetgen.render.patches import Patch, pointer

WORKLOAD = ("app.kubernetes.io/name",)


def pool_name(p: Placement) -> str:
    """The InferencePool the route sends to: the existing one named, else KServe's own."""
    return p.descriptor.serving.pool or naming.llmisvc_pool(p.descriptor.name)


def _args(p: Placement) -> list[str]:
    """The container's args, appended by the preset after its own flags (`$@`). The served
    name and tensor parallelism are the preset's (spec.model.name, spec.parallelism.tensor)."""
    rt = p.descriptor.runtime
    pipeline = f"--pipeline-parallel-size={rt.pipeline_parallel}"
    return [a for a in vllm_args(p) if a != pipeline]


def llm_inference_service(p: Placement) -> Patch:
    desc, env, pool = p.descriptor, p.environment, p.pool
    model, res, src = desc.model, desc.resources, desc.source
    name = naming.isvc(desc.name)
    patch = common(Patch("serving.kserve.io", "v1alpha2", llmisvc.KIND, "model"), p, name)
    annotations = {
        "argocd.argoproj.io/compare-options": "ServerSideDiff=true",
        GENERATED_BY: desc.source.path,
    }
    if model.revision:
        annotations["fleetgen.dev/model-revision"] = model.revision
    for key in sorted(annotations):
        patch.add(pointer("metadata", "annotations", key), annotations[key])
    patch.replace(
        "/spec/model/uri", model.storage_uri, origin=src.at("spec", "model", "storageUri")
    )
    patch.replace(
        "/spec/model/name", model.served_name, origin=src.at("spec", "model", "servedName")
    )
    patch.replace(
        "/spec/parallelism",
        llmisvc_shape.parallelism(desc),
        origin=src.at("spec", "runtime", "tensorParallel"),
    )
    refs_at = (
        src.at("spec", "serving", "baseRefs")
        if desc.serving.base_refs is not None
        else p.serving_api_at()
    )
    patch.replace(
        "/spec/baseRefs", [{"name": r} for r in llmisvc_shape.base_refs(desc)], origin=refs_at
    )
    if desc.serving.pool is not None:
        patch.replace(
            "/spec/router",
            {"scheduler": {"pool": {"ref": {"name": desc.serving.pool}}}},
            origin=src.at("spec", "serving", "pool"),
        )
    template = ("spec", "template")
    if env.service_account is not None:
        patch.replace(pointer(*template, "serviceAccountName"), env.service_account.name)
    else:
        patch.remove(pointer(*template, "serviceAccountName"))
    labels = dict(pool.node_labels) if pool is not None else {}
    patch.replace(pointer(*template, "nodeSelector"), {k: labels[k] for k in sorted(labels)})
    taints = pool.taints if pool is not None else ()
    if taints:
        patch.replace(
            pointer(*template, "tolerations"),
            [
                {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
                if t.value
                else {"key": t.key, "operator": "Exists", "effect": t.effect}
                for t in taints
            ],
        )
    else:
        patch.remove(pointer(*template, "tolerations"))
    container = (*template, "containers", 0)
    patch.replace(pointer(*container, "image"), p.image, origin=image_location(p))
    rt = desc.runtime
    placeholders = (
        (f"--max-model-len={rt.max_model_len}", ("runtime", "maxModelLen")),
        (
            f"--gpu-memory-utilization={rt.gpu_memory_utilization:g}",
            ("runtime", "gpuMemoryUtilization"),
        ),
    )
    for index, (arg, field) in enumerate(placeholders):
        patch.replace(pointer(*container, "args", index), arg, origin=src.at("spec", *field))
    for arg in _args(p):
        patch.add(pointer(*container, "args", "-"), arg)
    gpu = get_gpu(pool.gpu) if pool is not None else None
    resource = gpu.resource_name if gpu is not None else "nvidia.com/gpu"
    amounts = {"cpu": res.cpu, "memory": res.memory, resource: str(res.gpus_per_replica)}
    patch.replace(
        pointer(*container, "resources"),
        {"requests": amounts, "limits": amounts},
        origin=src.at("spec", "resources"),
    )
    phoenix = env.phoenix
    if desc.observability.tracing and phoenix is not None:
        patch.add(
            "/spec/tracing",
            {
                "exporter": "otlp",
                "exporterEndpoint": phoenix.endpoint,
                "sampler": "parentbased_traceidratio",
                "samplerArg": f"{desc.observability.sampling:g}",
            },
            origin=env.source.at("spec", "phoenix", "endpoint"),
        )
    cpu_tier = desc.kv_cache.local_cpu_gib
    if p.shared_kv_cache and cpu_tier > 0:
        # KServe's offloading connector keeps a CPU tier per pod (no shared Redis tier).
        patch.add(
            "/spec/kvCacheOffloading",
            {"cpu": gib(cpu_tier * res.gpus_per_replica)},
            origin=p.shared_kv_cache_at(),
        )
    return patch


def route(p: Placement) -> Patch:
    desc, gw = p.descriptor, p.environment.gateway
    name, served = naming.isvc(desc.name), desc.model.served_name
    target = pool_name(p)
    patch = common(Patch("aigateway.envoyproxy.io", "v1beta1", "AIGatewayRoute", "model"), p, name)
    gw_at = p.environment.source.at("spec", "gateway")
    patch.replace("/spec/parentRefs/0/name", gw.name, origin=gw_at)
    patch.add("/spec/parentRefs/0/namespace", gw.namespace, origin=gw_at)
    patch.replace(
        "/spec/rules/0/matches/0/headers/0/value",
        served,
        origin=desc.source.at("spec", "model", "servedName"),
    )
    pool_at = desc.source.at("spec", "serving", "pool") if desc.serving.pool else p.serving_api_at()
    patch.replace("/spec/rules/0/backendRefs/0/name", target, origin=pool_at)
    for alias in desc.model.aliases:
        patch.add(
            "/spec/rules/-",
            {
                "matches": [
                    {"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": alias}]}
                ],
                "backendRefs": [
                    {
                        "group": llmisvc.POOL_GROUP,
                        "kind": llmisvc.POOL_KIND,
                        "name": target,
                        "modelNameOverride": served,
                    }
                ],
                "timeouts": {"request": "300s"},
            },
        )
    return patch


def monitor(p: Placement) -> Patch:
    name = naming.isvc(p.descriptor.name)
    patch = common(Patch("monitoring.coreos.com", "v1", "PodMonitor", "model"), p, name)
    _monitoring_labels(patch, p)
    patch.replace(pointer("spec", "selector", "matchLabels", *WORKLOAD), name)
    return patch


def network_policy(p: Placement) -> Patch:
    name = naming.isvc(p.descriptor.name)
    policy = common(Patch("networking.k8s.io", "v1", "NetworkPolicy", "model"), p, name)
    policy.replace(pointer("spec", "podSelector", "matchLabels", *WORKLOAD), name)
    policy = policy_peers(policy, p)
    if llmisvc_shape.multi_node(p.descriptor):
        # The data-parallel ranks of a LeaderWorkerSet talk to each other on ports vLLM picks
        # at start (its RPC port, ZMQ, NCCL): the leader admits its workers on every port.
        group = [{"podSelector": {"matchLabels": llmisvc.group_labels(name)}}]
        at = p.serving_api_at()
        policy.add("/spec/ingress/-", {"from": group}, origin=at)
        policy.add("/spec/egress/-", {"to": group}, origin=at)
    return policy
