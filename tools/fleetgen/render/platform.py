"""The shared platform layer of one environment on one cluster: an overlay of base/platform."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fleetgen.domain import layout
from fleetgen.domain.environment import Cluster, Environment
from fleetgen.knowledge import metrics
from fleetgen.knowledge.runtime_contract import contract_for
from fleetgen.render import promql
from fleetgen.render.canonical import dump_yaml, embedded_json
from fleetgen.render.dashboard import panel
from fleetgen.render.patches import Patch, pointer
from fleetgen.render.prerequisites import application

PART_OF = "fleetgen"


def _named(env: Environment, patch: Patch, name: str, namespace: str) -> Patch:
    patch.origin = env.source.at("metadata", "name")
    patch.replace("/metadata/name", name, origin=patch.origin)
    patch.add("/metadata/namespace", namespace, origin=patch.origin)
    return patch


def gateway(env: Environment) -> list[Patch]:
    gw = env.gateway
    namespace = Patch("", "v1", "Namespace", "ai-gateway")
    namespace.origin = env.source.at("spec", "gateway", "namespace")
    namespace.replace("/metadata/name", gw.namespace, origin=namespace.origin)
    main = _named(
        env,
        Patch("gateway.networking.k8s.io", "v1", "Gateway", "ai-gateway"),
        gw.name,
        gw.namespace,
    )
    main.replace(
        pointer("metadata", "annotations", "aigateway.envoyproxy.io/gateway-config"), gw.name
    )
    main.replace("/spec/gatewayClassName", gw.class_name)
    main.replace(
        "/spec/listeners",
        [
            {
                "name": f"https-{index}",
                "protocol": "HTTPS",
                "port": 443,
                "hostname": host,
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "group": "", "name": gw.tls_secret}],
                },
                # Only the environment's model namespace may attach routes.
                "allowedRoutes": {
                    "namespaces": {
                        "from": "Selector",
                        "selector": {"matchLabels": {"kubernetes.io/metadata.name": env.namespace}},
                    }
                },
            }
            for index, host in enumerate(gw.hostnames)
        ],
    )
    traffic = _named(
        env,
        Patch("gateway.envoyproxy.io", "v1alpha1", "ClientTrafficPolicy", "ai-gateway"),
        gw.name,
        gw.namespace,
    )
    traffic.replace("/spec/targetRefs/0/name", gw.name)
    traffic.replace("/spec/connection/bufferLimit", gw.buffer_limit)
    config = _named(
        env,
        Patch("aigateway.envoyproxy.io", "v1beta1", "GatewayConfig", "ai-gateway"),
        gw.name,
        gw.namespace,
    )
    if env.phoenix is not None:
        # The same endpoint value as vLLM's --otlp-traces-endpoint (used as-is by both).
        config.replace("/spec/extProc/kubernetes/env/2/value", "otlp")
        config.origins["/spec/extProc/kubernetes/env"] = env.source.at(
            "spec", "phoenix", "endpoint"
        )
        for name, value in (
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.phoenix.endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", env.phoenix.protocol),
        ):
            config.add("/spec/extProc/kubernetes/env/-", {"name": name, "value": value})
    return [namespace, main, traffic, config]


def certificate(env: Environment) -> tuple[str | None, list[Patch]]:
    """The cert-manager component and its Certificate, when cert-manager issues the TLS Secret."""
    gw, issuer = env.gateway, env.gateway.cert_issuer
    if issuer is None:
        return None, []
    cert = _named(
        env,
        Patch("cert-manager.io", "v1", "Certificate", "ai-gateway-tls"),
        gw.tls_secret,
        gw.namespace,
    )
    tls_at = env.source.at("spec", "gateway", "tls")
    # The same value as every listener's certificateRef (gateway() above).
    cert.replace("/spec/secretName", gw.tls_secret, origin=tls_at)
    cert.replace("/spec/dnsNames", list(gw.hostnames), origin=env.source.at("spec", "gateway"))
    cert.replace(
        "/spec/issuerRef", {"group": "cert-manager.io", "kind": issuer.kind, "name": issuer.name}
    )
    return "cert-manager", [cert]


def monitoring(
    env: Environment, models: list[str], releases: Sequence[str | None] = ()
) -> list[Patch]:
    ns = env.prometheus.namespace
    rule = _named(
        env, Patch("monitoring.coreos.com", "v1", "PrometheusRule", "llm-fleet"), "llm-fleet", ns
    )
    wanted = dict(env.prometheus.selector_labels)
    if "release" not in wanted:
        rule.remove(pointer("metadata", "labels", "release"))
    for key in sorted(wanted):
        rule.add(pointer("metadata", "labels", key), wanted[key])
    if not env.dcgm_alerts:
        rule.remove("/spec/groups/1")
    board = _named(
        env, Patch("", "v1", "ConfigMap", "llm-fleet-dashboard"), "llm-fleet-dashboard", ns
    )
    board.replace(
        pointer("data", "dashboard.json"), embedded_json(fleet_dashboard(env, models, releases))
    )
    return [rule, board]


def _across(metric: str, sel: str, releases: Sequence[str | None]) -> str:
    """``metric{sel}``, or one selector per name when the pinned releases export it differently."""
    names = sorted(
        {promql.name_for(contract_for(r) if r else None, metric) for r in releases} or {metric}
    )
    return " or ".join(f"{name}{sel}" for name in names)


def fleet_dashboard(
    env: Environment, models: list[str], releases: Sequence[str | None] = ()
) -> dict[str, Any]:
    sel = f'{{namespace="{env.namespace}"}}'
    ttft = f"sum by (le, model_name) (rate({metrics.TTFT}_bucket{sel}[5m]))"
    usage = _across(metrics.KV_CACHE_USAGE, sel, releases)
    rows = [
        ("Requests waiting by model", f"sum by (model_name) ({metrics.QUEUE}{sel})", "short"),
        (
            "KV cache usage by model",
            f"max by (model_name) ({usage})",
            "percentunit",
        ),
        (
            "Time to first token p95 by model",
            f"histogram_quantile(0.95, {ttft})",
            "s",
        ),
        (
            "Tokens per second by tenant",
            "sum by (tenant) (tenant_model:gen_ai_tokens:rate5m)",
            "short",
        ),
        (
            "Tokens in the last hour by tenant",
            "sum by (tenant) (tenant:gen_ai_tokens:increase1h)",
            "short",
        ),
        ("GPU utilization", "avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "percent"),
    ]
    return {
        "uid": f"fleetgen-fleet-{env.name}"[:40],
        "title": f"LLM fleet ({env.name})",
        "description": f"Models: {', '.join(models) or 'none'}",
        "tags": ["fleetgen", "vllm", "fleet"],
        "schemaVersion": 39,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]
        },
        "panels": [
            panel(
                i + 1,
                title,
                expr,
                unit,
                (i % 2) * 12,
                (i // 2) * 8,
                legend="{{model_name}}{{tenant}}",
            )
            for i, (title, expr, unit) in enumerate(rows)
        ],
    }


def api_keys(env: Environment) -> tuple[str | None, list[Patch]]:
    """The component providing the API key Secret, and its patches (none for `secret`)."""
    keys, ns = env.api_keys, env.namespace
    if keys.source == "secret":
        return None, []
    secret = _named(
        env, Patch("external-secrets.io", "v1", "ExternalSecret", "api-keys"), keys.secret_name, ns
    )
    secret.replace("/spec/target/name", keys.secret_name)
    if keys.source == "vault":
        assert keys.vault_store is not None and keys.vault_path is not None
        secret.replace("/spec/secretStoreRef/name", keys.vault_store)
        secret.replace("/spec/dataFrom/0/extract/key", keys.vault_path)
        return "vault-keys", [secret]
    generator = _named(
        env,
        Patch("generators.external-secrets.io", "v1alpha1", "Password", "dummy-api-key"),
        "dummy-api-key",
        ns,
    )
    entries = [
        {
            "sourceRef": {
                "generatorRef": {
                    "apiVersion": "generators.external-secrets.io/v1alpha1",
                    "kind": "Password",
                    "name": "dummy-api-key",
                }
            },
            "rewrite": [{"regexp": {"source": "^password$", "target": tenant.name}}],
        }
        for tenant in env.tenants
    ]
    secret.replace("/spec/dataFrom", entries)
    return "dummy-keys", [generator, secret]


def platform_patches(
    env: Environment, models: list[str], releases: Sequence[str | None] = ()
) -> list[Patch]:
    """Every JSON6902 patch of one cluster's platform overlay."""
    _, key_patches = api_keys(env)
    _, cert_patches = certificate(env)
    return [*gateway(env), *monitoring(env, models, releases), *key_patches, *cert_patches]


def render_platform(
    env: Environment, cluster: Cluster, models: list[str], releases: Sequence[str | None] = ()
) -> dict[str, bytes]:
    """The platform overlay of one cluster, and the Application that delivers it.

    ``releases`` are the vLLM versions its models pin: the fleet dashboard queries each
    metric under the names those releases export.
    """
    directory = layout.platform_dir(env.name, cluster.name)
    chosen = [name for name in (api_keys(env)[0], certificate(env)[0]) if name]
    patches = platform_patches(env, models, releases)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [layout.relative(directory, layout.BASE_PLATFORM)],
    }
    if chosen:
        kustomization["components"] = [
            layout.relative(directory, layout.platform_component(name)) for name in chosen
        ]
    kustomization["patches"] = [p.entry() for p in patches]
    header = (
        f"Generated by fleetgen from {env.source.path}.\n"
        "Do not edit: change the environment file and run `fleetgen generate`."
    )
    return {f"{directory}/kustomization.yaml": dump_yaml(kustomization, header=header)}


# What the platform overlay's build reads, as manifest-generate-paths entries ("." is the
# overlay itself, the others are repository paths).
PLATFORM_REFRESH_PATHS = (".", f"/{layout.BASE_PLATFORM}", "/base/platform-components")


def platform_application(env: Environment, cluster: Cluster) -> dict[str, Any]:
    app = application(
        env,
        cluster,
        name=f"{env.name}-{cluster.name}-platform",
        layer="platform",
        wave=-1,
        source={
            "repoURL": env.argocd.repo_url,
            "targetRevision": env.argocd.target_revision,
            "path": layout.platform_dir(env.name, cluster.name),
        },
        namespace=env.namespace,
    )
    app["metadata"]["annotations"]["argocd.argoproj.io/manifest-generate-paths"] = ";".join(
        PLATFORM_REFRESH_PATHS
    )
    return app
