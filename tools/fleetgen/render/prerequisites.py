"""Platform prerequisites as concrete Argo CD Applications with Helm sources.

The environment file pins each chart; the values that wire the components to each other (the
AI gateway's extension hooks in Envoy Gateway, the rate-limit Redis, Prometheus selectors,
KServe's deployment mode and local model cache) are derived here from the same environment
settings the model apps use, so both sides agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetgen.domain.environment import Chart, Cluster, Environment

AI_GATEWAY_NAMESPACE = "envoy-ai-gateway-system"
# The AI gateway chart's controller Service (its default controller.fullnameOverride) and its
# extension-server port: Envoy Gateway dials it in the namespace the chart is installed into.
AI_GATEWAY_CONTROLLER = "ai-gateway-controller"
AI_GATEWAY_EXTENSION_PORT = 1063
# The Loki chart names its gateway Service `<fullname>-gateway`; both are pinned in Loki's
# values so the log agent's push URL is derived from the same two constants.
LOKI_FULLNAME = "loki"
LOKI_GATEWAY_PORT = 80


@dataclass(frozen=True, slots=True)
class Component:
    key: str
    namespace: str
    wave: int  # CRDs and operators first, then what uses them


COMPONENTS: tuple[Component, ...] = (
    Component("kserveCrd", "kserve", -4),
    Component("envoyGatewayCrd", "envoy-gateway-system", -4),
    Component("aiGatewayCrd", AI_GATEWAY_NAMESPACE, -4),
    Component("externalSecrets", "external-secrets", -3),
    Component("certManager", "cert-manager", -3),
    Component("kubePrometheusStack", "monitoring", -3),
    Component("keda", "keda", -3),
    Component("redis", "redis", -3),
    Component("kserve", "kserve", -2),
    Component("envoyGateway", "envoy-gateway-system", -2),
    Component("aiGateway", AI_GATEWAY_NAMESPACE, -2),
    Component("dcgmExporter", "monitoring", -2),
    Component("loki", "monitoring", -2),
    Component("alloy", "monitoring", -2),
    Component("phoenix", "observability", -2),
)


def kebab(key: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)


def _namespace(component: Component, env: Environment) -> str:
    chart = env.platform.prerequisites.get(component.key)
    if chart is not None and chart.namespace:
        return chart.namespace
    if component.key == "phoenix" and env.phoenix and env.phoenix.namespace:
        return env.phoenix.namespace
    return component.namespace


def _component(key: str) -> Component:
    (found,) = [c for c in COMPONENTS if c.key == key]
    return found


def ai_gateway_extension(env: Environment) -> str:
    """The AI gateway controller's host, in the namespace its chart is installed into."""
    namespace = _namespace(_component("aiGateway"), env)
    return f"{AI_GATEWAY_CONTROLLER}.{namespace}.svc.cluster.local"


def loki_push_url(env: Environment) -> str:
    """Where the log agent pushes: the Loki chart's gateway Service in Loki's namespace."""
    host = f"{LOKI_FULLNAME}-gateway.{_namespace(_component('loki'), env)}.svc.cluster.local"
    return f"http://{host}:{LOKI_GATEWAY_PORT}/loki/api/v1/push"


def _alloy_config(env: Environment, cluster: Cluster) -> str:
    """Tail every container on the agent's node through the API server and push to Loki."""
    # The Alloy chart sets HOSTNAME to spec.nodeName, so each DaemonSet pod takes its node.
    return f"""\
discovery.kubernetes "pods" {{
  role = "pod"
  selectors {{
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }}
}}

discovery.relabel "pods" {{
  targets = discovery.kubernetes.pods.targets
  rule {{
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }}
}}

loki.source.kubernetes "pods" {{
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}}

loki.write "default" {{
  endpoint {{
    url = "{loki_push_url(env)}"
  }}
  external_labels = {{
    cluster = "{cluster.name}",
  }}
}}
"""


def _values(key: str, env: Environment, cluster: Cluster, uses_cache: bool) -> dict[str, Any]:
    selector = dict(env.prometheus.selector_labels)
    if key == "kserve":
        return {
            "kserve": {
                "controller": {"deploymentMode": env.deployment_mode},
                "localmodel": {"enabled": uses_cache},
            }
        }
    if key == "envoyGateway":
        return {
            "config": {
                "envoyGateway": {
                    "extensionApis": {"enableBackend": True},
                    "extensionManager": {
                        "hooks": {
                            "xdsTranslator": {
                                "translation": {
                                    "listener": {"includeAll": True},
                                    "route": {"includeAll": True},
                                    "cluster": {"includeAll": True},
                                    "secret": {"includeAll": True},
                                },
                                "post": ["Translation", "Cluster", "Route"],
                            }
                        },
                        "service": {
                            "fqdn": {
                                "hostname": ai_gateway_extension(env),
                                "port": AI_GATEWAY_EXTENSION_PORT,
                            }
                        },
                    },
                    "rateLimit": {
                        "backend": {"type": "Redis", "redis": {"url": env.platform.redis_url}}
                    },
                }
            }
        }
    if key == "aiGateway":
        # The forwarded client id becomes the `tenant` label of the gateway's token metrics.
        return {
            "controller": {
                "metricsRequestHeaderAttributes": f"{env.gateway.client_id_header}:tenant"
            }
        }
    if key == "kubePrometheusStack":
        # ServiceMonitors too: the DCGM exporter's carries the same labels (below).
        kinds = ("podMonitor", "serviceMonitor", "rule")
        # A copy each: one shared dict would be written as a YAML anchor and its aliases.
        spec = {f"{kind}Selector": {"matchLabels": dict(selector)} for kind in kinds}
        return {"prometheus": {"prometheusSpec": spec}}
    if key == "dcgmExporter":
        return {"serviceMonitor": {"enabled": True, "additionalLabels": selector}}
    if key == "redis":
        return {"architecture": "standalone", "auth": {"enabled": False}}
    if key == "loki":
        return {
            "fullnameOverride": LOKI_FULLNAME,
            "gateway": {"enabled": True, "service": {"port": LOKI_GATEWAY_PORT}},
        }
    if key == "alloy":
        return {"alloy": {"configMap": {"content": _alloy_config(env, cluster)}}}
    if key == "certManager":
        # The chart installs the Certificate CRD the platform layer's Certificate needs.
        return {"crds": {"enabled": True}}
    return {}


def _wanted(key: str, env: Environment) -> bool:
    """Components that only exist for an opt-in feature of the environment."""
    if key in ("loki", "alloy"):
        return env.loki
    if key == "certManager":
        return env.gateway.cert_issuer is not None
    return True


@dataclass(frozen=True, slots=True)
class Release:
    """One prerequisite chart as fleetgen installs it: what the wiring checks compare with."""

    component: Component
    chart: Chart
    name: str  # the Helm release name
    namespace: str
    values: dict[str, Any]


def releases(env: Environment, cluster: Cluster, *, uses_cache: bool) -> list[Release]:
    """Every prerequisite the environment pins and uses (Loki and its log agent only when
    logs are enabled, cert-manager only for a gateway Certificate)."""
    found = []
    for component in COMPONENTS:
        chart = env.platform.prerequisites.get(component.key)
        if chart is None or not _wanted(component.key, env):
            continue
        found.append(
            Release(
                component,
                chart,
                kebab(component.key),
                _namespace(component, env),
                _values(component.key, env, cluster, uses_cache),
            )
        )
    return found


def prerequisite_apps(
    env: Environment, cluster: Cluster, *, uses_cache: bool
) -> list[dict[str, Any]]:
    """One Application per prerequisite release."""
    apps = []
    for release in releases(env, cluster, uses_cache=uses_cache):
        source: dict[str, Any] = {
            "repoURL": release.chart.repo_url,
            "chart": release.chart.chart,
            "targetRevision": release.chart.version,
            "helm": {"releaseName": release.name},
        }
        if release.values:
            source["helm"]["valuesObject"] = release.values
        apps.append(
            application(
                env,
                cluster,
                name=f"{env.name}-{cluster.name}-{release.name}",
                layer="prerequisites",
                wave=release.component.wave,
                source=source,
                namespace=release.namespace,
            )
        )
    return apps


def platform_project(env: Environment) -> str:
    return f"{env.argocd.project}-platform"


def application(
    env: Environment,
    cluster: Cluster,
    *,
    name: str,
    layer: str,
    wave: int,
    source: dict[str, Any],
    namespace: str,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": env.argocd.namespace,
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
            "labels": {
                "fleetgen.dev/environment": env.name,
                "fleetgen.dev/cluster": cluster.name,
                "fleetgen.dev/layer": layer,
            },
        },
        "spec": {
            "project": platform_project(env),
            "source": source,
            "destination": {"server": cluster.server, "namespace": namespace},
            "syncPolicy": {
                # The platform is shared: never prune it automatically.
                "automated": {"prune": False, "selfHeal": True},
                "retry": {
                    "limit": 10,
                    "backoff": {"duration": "15s", "factor": 2, "maxDuration": "10m"},
                },
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
            },
        },
    }
