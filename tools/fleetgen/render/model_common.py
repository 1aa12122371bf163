"""What the overlays of both serving APIs share: naming patches, sizes and the vLLM flags
fleetgen passes on top of the runtime's own."""

from __future__ import annotations

import math

from fleetgen.domain import naming
from fleetgen.domain.fitting import fit_placement
from fleetgen.domain.placement import Placement
from fleetgen.render.patches import Patch, pointer

GIB = 1024**3
# /tmp and $HOME emptyDirs of the base, on top of the downloaded weights.
SCRATCH_GIB = 24
NAME = "app.kubernetes.io/name"
GENERATED_BY = "fleetgen.dev/generated-from"


def gib(n: float) -> str:
    return f"{max(1, math.ceil(n))}Gi"


def weights_gib(p: Placement) -> float:
    """Size of the weights on disk (all GPUs together), for cache and scratch sizing."""
    fitted = fit_placement(p)
    if fitted is None:
        return 0.0
    rt = p.descriptor.runtime
    return fitted.result.weights_per_gpu * rt.tensor_parallel * rt.pipeline_parallel / GIB


def vllm_args(p: Placement) -> list[str]:
    rt, model = p.descriptor.runtime, p.descriptor.model
    args = []
    if rt.pipeline_parallel > 1:
        args.append(f"--pipeline-parallel-size={rt.pipeline_parallel}")
    args.append(f"--max-num-seqs={rt.max_num_seqs}")
    if rt.kv_cache_dtype != "auto":
        args.append(f"--kv-cache-dtype={rt.kv_cache_dtype}")
    if model.dtype != "auto":
        args.append(f"--dtype={model.dtype}")
    if not rt.prefix_caching:
        args.append("--no-enable-prefix-caching")
    return [*args, *rt.extra_args]


def common(patch: Patch, p: Placement, name: str, *, namespaced: bool = True) -> Patch:
    src = p.descriptor.source
    patch.origin = src.at("metadata", "name")
    patch.replace("/metadata/name", name, origin=patch.origin)
    if namespaced:
        patch.add(
            "/metadata/namespace", p.namespace, origin=p.environment.source.at("spec", "namespace")
        )
    patch.add(pointer("metadata", "labels", NAME), naming.isvc(p.descriptor.name))
    return patch


def monitoring_labels(patch: Patch, p: Placement) -> Patch:
    wanted = dict(p.environment.prometheus.selector_labels)
    if "release" not in wanted:
        patch.remove(pointer("metadata", "labels", "release"))
    where = p.environment.source.at("spec", "prometheus", "selectorLabels")
    for key in sorted(wanted):
        patch.add(pointer("metadata", "labels", key), wanted[key], origin=where)
    return patch


def policy_peers(policy: Patch, p: Placement) -> Patch:
    """The NetworkPolicy's peers: the gateway's proxies and Prometheus in (rules 0 and 1), the
    trace sink out (egress rule 1, removed when the model does not trace)."""
    env = p.environment
    ns_label = ("namespaceSelector", "matchLabels", "kubernetes.io/metadata.name")
    policy.replace(pointer("spec", "ingress", 0, "from", 0, *ns_label), env.gateway.proxy_namespace)
    policy.replace(pointer("spec", "ingress", 1, "from", 0, *ns_label), env.prometheus.namespace)
    phoenix = env.phoenix
    if p.descriptor.observability.tracing and phoenix is not None and phoenix.namespace:
        policy.replace(pointer("spec", "egress", 1, "to", 0, *ns_label), phoenix.namespace)
        policy.replace(
            pointer("spec", "egress", 1, "ports"), [{"protocol": "TCP", "port": phoenix.port}]
        )
    elif p.descriptor.observability.tracing and phoenix is not None:
        # The trace sink is outside the cluster: allow its port to any destination.
        policy.replace(
            pointer("spec", "egress", 1), {"ports": [{"protocol": "TCP", "port": phoenix.port}]}
        )
    else:
        policy.remove(pointer("spec", "egress", 1))
    return policy
