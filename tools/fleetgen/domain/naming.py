"""Every Kubernetes and Argo CD name that two objects share, derived in exactly one place.

The generator, the checks and the rendered-manifest linker all call these functions, so a
gateway route can never point at an InferenceService spelt differently.
"""

from __future__ import annotations

from fleetgen.knowledge.kserve import isvc as kserve_isvc
from fleetgen.knowledge.kserve import llmisvc

# KServe: `<isvc>-predictor` must be a DNS-1035 label, and the host label KServe renders
# from its domain template (`<isvc>-predictor-<namespace>` at the pinned tag) must fit in
# one DNS label (kserve/kserve#4807); both derived from KServe's sources (knowledge/kserve).
DNS_LABEL_MAX = kserve_isvc.DNS_LABEL_MAX
VLLM_PORT = 8080
SERVICE_PORT = 80
KV_CACHE_PORT = 6379  # Redis; the Service, the container and LMCache's URL all use it


def isvc(model: str) -> str:
    """The InferenceService; every per-model object shares this name."""
    return model


def predictor(model: str) -> str:
    """Deployment and Service KServe creates for the predictor in Standard mode."""
    return kserve_isvc.predictor_service(isvc(model))


def predictor_host(model: str, namespace: str) -> str:
    """In-cluster FQDN the gateway's Backend dials (Service port 80 -> pod 8080)."""
    return f"{predictor(model)}.{namespace}.svc.cluster.local"


def host_label(model: str, namespace: str) -> str:
    """The Standard-mode host label KServe builds (must be a DNS label)."""
    return kserve_isvc.host_labels(isvc(model), namespace)[0]


def dashboard(model: str) -> str:
    return f"{isvc(model)}-dashboard"


def token_policy(model: str) -> str:
    return f"{isvc(model)}-tokens"


def local_model_cache(model: str) -> str:
    return isvc(model)


def kv_cache(model: str) -> str:
    """Deployment, Service and NetworkPolicy of the model's shared KV-cache Redis."""
    return f"{isvc(model)}-kv-cache"


def kv_cache_url(model: str, namespace: str) -> str:
    """LMCache's remote backend: the Redis Service of the model in its namespace."""
    return f"redis://{kv_cache(model)}.{namespace}.svc.cluster.local:{KV_CACHE_PORT}"


def app_name(env: str, cluster: str, model: str) -> str:
    """Argo CD Application name of one model on one cluster."""
    return f"{env}-{cluster}-{model}"


def applicationset(env: str, cluster: str) -> str:
    return f"{env}-{cluster}-models"


def rollout_applicationset(env: str) -> str:
    """The ApplicationSet of all model apps of an environment with a progressive rollout."""
    return f"{env}-models"


def limits_exceeded(model: str, namespace: str) -> list[str]:
    """Messages for every derived name of `model` in `namespace` that is too long."""
    problems = []
    if len(predictor(model)) > DNS_LABEL_MAX:
        problems.append(
            f"{predictor(model)!r} is {len(predictor(model))} characters; "
            f"KServe's predictor name must be at most {DNS_LABEL_MAX}"
        )
    label = kserve_isvc.too_long_host_label(isvc(model), namespace)
    if label is not None:
        spare = len(isvc(model)) + len(namespace) - (len(label) - DNS_LABEL_MAX)
        problems.append(
            f"name and namespace {namespace!r} total {len(isvc(model)) + len(namespace)} "
            f"characters; KServe needs at most {spare} "
            f"(host label {label!r} is {len(label)} > {DNS_LABEL_MAX}, kserve#4807)"
        )
    return problems


def llmisvc_pool(model: str) -> str:
    """The InferencePool KServe manages for an LLMInferenceService's scheduler."""
    return llmisvc.pool_name(isvc(model))


def llmisvc_workload(model: str) -> str:
    """The Deployment (or LeaderWorkerSet) KServe creates for the main workload."""
    return llmisvc.workload_name(isvc(model))
