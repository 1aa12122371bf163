"""FG201-FG206: every environment, cluster, pool, tenant and service a model names exists."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet, focused_placements
from fleetgen.loading.schema import did_you_mean


def check_environments(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG201/FG204: named environments and clusters exist."""
    for desc in fleet.focused():
        for env_name, override in desc.environments.items():
            env = fleet.environments.get(env_name)
            if env is None:
                yield diag(
                    "FG201",
                    f"environment {env_name!r} does not exist",
                    desc.source.key_at("spec", "environments", env_name),
                    hint=did_you_mean(env_name, list(fleet.environments))
                    or f"environments: {', '.join(sorted(fleet.environments)) or 'none'}",
                )
                continue
            known = [c.name for c in env.clusters]
            for index, cluster in enumerate(override.clusters or ()):
                if cluster not in known:
                    yield diag(
                        "FG204",
                        f"cluster {cluster!r} is not part of environment {env_name!r}",
                        desc.source.at("spec", "environments", env_name, "clusters", index),
                        hint=did_you_mean(cluster, known) or f"clusters: {', '.join(known)}",
                    )


def check_placements(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG202/FG205/FG206: the pool, cache node group and Phoenix a placement needs exist."""
    for p in focused_placements(fleet):
        desc, env, src = p.descriptor, p.environment, p.descriptor.source
        pool = p.pool
        if pool is None:
            where = (
                src.at("spec", "environments", env.name, "gpuPool")
                if p.override.gpu_pool
                else src.at("spec", "resources", "gpuPool")
            )
            known = [q.name for q in p.cluster.pools]
            yield diag(
                "FG202",
                f"GPU pool {p.pool_name!r} does not exist on cluster {p.cluster.name!r} "
                f"of environment {env.name!r}",
                where,
                hint=did_you_mean(p.pool_name, known) or f"pools: {', '.join(known)}",
            )
        elif desc.cache_enabled and pool.cache_node_group is None:
            yield diag(
                "FG205",
                f"model cache requested, but pool {pool.name!r} on {env.name}/{p.cluster.name} "
                "has no cacheNodeGroup",
                src.at("spec", "cache", "enabled"),
                hint="ask the platform team for a LocalModelNodeGroup, or disable the cache",
            )
        if desc.observability.tracing and env.phoenix is None:
            yield diag(
                "FG206",
                f"tracing is enabled, but environment {env.name!r} has no Phoenix endpoint",
                src.at("spec", "observability", "tracing", "enabled"),
            )


def check_tenants(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG203: every tenant a model admits is declared by each environment it runs in."""
    for desc in fleet.focused():
        for env_name in desc.environments:
            env = fleet.environments.get(env_name)
            if env is None or not desc.active_in(env_name):
                continue
            known = [t.name for t in env.tenants]
            for index, tenant in enumerate(desc.tenants):
                if env.tenant(tenant.name) is None:
                    yield diag(
                        "FG203",
                        f"tenant {tenant.name!r} is not declared by environment {env_name!r}",
                        desc.source.at("spec", "gateway", "tenants", index, "name"),
                        hint=did_you_mean(tenant.name, known)
                        or f"tenants of {env_name}: {', '.join(known) or 'none'}",
                    )
