"""The frozen model of one environment (environments/<env>/environment.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from fleetgen.domain.model import Source
from fleetgen.domain.rollout import Rollout, rollout_from


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str | None
    effect: str


@dataclass(frozen=True, slots=True)
class Pool:
    """A GPU node pool of one cluster."""

    name: str
    gpu: str
    gpus_per_node: int
    nodes: int
    node_labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    cache_node_group: str | None
    index: int  # position in the cluster's pool list, for diagnostics
    price_per_gpu_hour: float | None = None  # US dollars; None: the pool is not priced

    @property
    def capacity(self) -> int:
        return self.gpus_per_node * self.nodes


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    server: str
    pools: tuple[Pool, ...]
    team_budgets: Mapping[str, int]
    index: int

    def pool(self, name: str) -> Pool | None:
        return next((p for p in self.pools if p.name == name), None)


@dataclass(frozen=True, slots=True)
class Cost:
    """How GPU hours are priced into monthly team budgets."""

    hours_per_month: float
    team_monthly_budgets: Mapping[str, float]  # US dollars per team per month


@dataclass(frozen=True, slots=True)
class ArgoCD:
    namespace: str
    project: str
    repo_url: str
    target_revision: str


@dataclass(frozen=True, slots=True)
class Prometheus:
    url: str
    namespace: str
    selector_labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Phoenix:
    endpoint: str
    protocol: str
    namespace: str | None  # where Phoenix runs, when known (egress NetworkPolicy)

    @property
    def port(self) -> int:
        parsed = urlsplit(self.endpoint)
        return parsed.port or (443 if parsed.scheme == "https" else 80)


def _phoenix_namespace(endpoint: str, declared: str | None) -> str | None:
    """The namespace of an in-cluster endpoint host <svc>.<namespace>.svc[.cluster.local]."""
    if declared:
        return declared
    labels = (urlsplit(endpoint).hostname or "").split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return labels[1]
    return None


@dataclass(frozen=True, slots=True)
class Chart:
    """A Helm chart of a platform prerequisite, version pinned."""

    repo_url: str
    chart: str
    version: str
    namespace: str | None


@dataclass(frozen=True, slots=True)
class Platform:
    redis_url: str
    prerequisites: Mapping[str, Chart]


@dataclass(frozen=True, slots=True)
class CertIssuer:
    """The cert-manager issuer of the gateway certificate."""

    kind: str  # ClusterIssuer or Issuer
    name: str


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str
    namespace: str
    class_name: str
    hostnames: tuple[str, ...]
    client_id_header: str
    proxy_namespace: str
    tls_secret: str
    buffer_limit: str
    cert_issuer: CertIssuer | None  # set: cert-manager writes tls_secret


@dataclass(frozen=True, slots=True)
class ApiKeys:
    source: str
    secret_name: str
    vault_store: str | None
    vault_path: str | None
    vault_shared_with: tuple[str, ...] = ()  # environments that may read the same path


@dataclass(frozen=True, slots=True)
class Tenant:
    name: str
    team: str | None


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    name: str
    annotations: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Environment:
    """One environment and the clusters, pools and shared services it offers."""

    name: str
    tier: str
    namespace: str
    argocd: ArgoCD
    clusters: tuple[Cluster, ...]
    prometheus: Prometheus
    phoenix: Phoenix | None
    gateway: Gateway
    api_keys: ApiKeys
    tenants: tuple[Tenant, ...]
    service_account: ServiceAccount | None
    deployment_mode: str
    allowed_repositories: tuple[str, ...] | None
    promotion: str
    kubernetes_version: str
    dcgm_alerts: bool
    loki: bool
    platform: Platform
    source: Source
    failure_budget: int = 0  # clusters the environment must survive losing at once
    cost: Cost = Cost(730.0, MappingProxyType({}))
    rollout: Rollout | None = None  # progressive rollout over its clusters; None: all at once

    @property
    def production(self) -> bool:
        return self.tier == "prod"

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def tenant(self, name: str) -> Tenant | None:
        return next((t for t in self.tenants if t.name == name), None)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


def environment_from(data: Mapping[str, Any], source: Source) -> Environment:
    """Build an Environment from schema-valid data with defaults applied."""
    name, spec = data["metadata"]["name"], data["spec"]
    argocd, prom, gw, keys = spec["argocd"], spec["prometheus"], spec["gateway"], spec["apiKeys"]
    phoenix, sa = spec.get("phoenix"), spec.get("serviceAccount")
    return Environment(
        name=name,
        tier=spec["tier"],
        namespace=spec["namespace"],
        argocd=ArgoCD(
            namespace=argocd["namespace"],
            project=argocd.get("project", name),
            repo_url=argocd["repoURL"],
            target_revision=argocd["targetRevision"],
        ),
        clusters=tuple(
            Cluster(
                name=c["name"],
                server=c["server"],
                pools=tuple(
                    Pool(
                        name=p["name"],
                        gpu=p["gpu"],
                        gpus_per_node=p["gpusPerNode"],
                        nodes=p["nodes"],
                        node_labels=_frozen(p.get("nodeLabels")),
                        taints=tuple(
                            Taint(t["key"], t.get("value"), t["effect"])
                            for t in p.get("taints", ())
                        ),
                        cache_node_group=p.get("cacheNodeGroup"),
                        index=pi,
                        price_per_gpu_hour=p.get("pricePerGpuHour"),
                    )
                    for pi, p in enumerate(c["pools"])
                ),
                team_budgets=_frozen(c.get("teamBudgets")),
                index=ci,
            )
            for ci, c in enumerate(spec["clusters"])
        ),
        prometheus=Prometheus(prom["url"], prom["namespace"], _frozen(prom.get("selectorLabels"))),
        phoenix=(
            Phoenix(
                phoenix["endpoint"],
                phoenix["protocol"],
                _phoenix_namespace(phoenix["endpoint"], phoenix.get("namespace")),
            )
            if phoenix
            else None
        ),
        gateway=Gateway(
            name=gw["name"],
            namespace=gw["namespace"],
            class_name=gw["className"],
            hostnames=tuple(gw["hostnames"]),
            client_id_header=gw["clientIdHeader"],
            proxy_namespace=gw["proxyNamespace"],
            tls_secret=gw["tls"]["secretName"],
            buffer_limit=str(gw["bufferLimit"]),
            cert_issuer=(
                CertIssuer(
                    gw["tls"]["certManager"]["issuer"]["kind"],
                    gw["tls"]["certManager"]["issuer"]["name"],
                )
                if "certManager" in gw["tls"]
                else None
            ),
        ),
        api_keys=ApiKeys(
            source=keys["source"],
            secret_name=keys["secretName"],
            vault_store=keys.get("vault", {}).get("store"),
            vault_path=keys.get("vault", {}).get("path"),
            vault_shared_with=tuple(keys.get("vault", {}).get("sharedWith", ())),
        ),
        tenants=tuple(Tenant(t["name"], t.get("team")) for t in spec.get("tenants", ())),
        service_account=ServiceAccount(sa["name"], _frozen(sa.get("annotations"))) if sa else None,
        deployment_mode=spec["kserve"]["deploymentMode"],
        allowed_repositories=(
            tuple(spec["images"]["allowedRepositories"])
            if "allowedRepositories" in spec["images"]
            else None
        ),
        promotion=spec["policy"]["promotion"],
        kubernetes_version=spec["kubernetesVersion"],
        dcgm_alerts=spec["observability"]["dcgmAlerts"],
        loki=spec["observability"]["loki"],
        platform=Platform(
            redis_url=spec["platform"]["redisURL"],
            prerequisites=_frozen(
                {
                    key: Chart(c["repoURL"], c["chart"], c["version"], c.get("namespace"))
                    for key, c in spec["platform"].get("prerequisites", {}).items()
                }
            ),
        ),
        source=source,
        failure_budget=spec["failureBudget"]["clusters"],
        cost=Cost(
            hours_per_month=float(spec["cost"]["hoursPerMonth"]),
            team_monthly_budgets=_frozen(spec["cost"].get("teamMonthlyBudgets")),
        ),
        rollout=rollout_from(spec.get("rollout")),
    )
