"""FG301-FG304: names that must be unique, and derived names that must fit their limits."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen import naming
from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location
from fleetgen.loading.fleet import Fleet
from fleetgen.model import Descriptor


def check_model_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG301: no two descriptors declare the same model."""
    first: dict[str, Descriptor] = {}
    for desc in fleet.descriptors:
        owner = first.setdefault(desc.name, desc)
        if owner is not desc:
            yield diag(
                "FG301",
                f"model {desc.name!r} is already declared in {owner.source.path}",
                desc.source.at("metadata", "name"),
            )


def _served_locations(desc: Descriptor) -> Iterator[tuple[str, Location]]:
    yield desc.model.served_name, desc.source.at("spec", "model", "servedName")
    for index, alias in enumerate(desc.model.aliases):
        yield alias, desc.source.at("spec", "model", "aliases", index)


def check_served_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG302: a served name or alias routes to one model per gateway and environment."""
    owners: dict[tuple[str, str, str, str], str] = {}
    for desc in fleet.descriptors:
        for env_name in desc.environments:
            env = fleet.environments.get(env_name)
            if env is None or not desc.active_in(env_name):
                continue
            gateway = (env.name, env.gateway.namespace, env.gateway.name)
            seen_here: set[str] = set()
            for served, where in _served_locations(desc):
                owner = owners.setdefault((*gateway, served), desc.name)
                if served in seen_here or owner != desc.name:
                    other = "this model" if owner == desc.name else f"model {owner!r}"
                    yield diag(
                        "FG302",
                        f"served name {served!r} is already routed to {other} "
                        f"on gateway {env.gateway.namespace}/{env.gateway.name} in {env.name}",
                        where,
                        hint="clients would reach one model or the other; pick another name",
                    )
                seen_here.add(served)


def check_name_lengths(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG303: names KServe derives stay within Kubernetes' limits in every namespace."""
    for desc in fleet.descriptors:
        namespaces = sorted(
            {fleet.environments[e].namespace for e in desc.environments if e in fleet.environments}
        )
        for namespace in namespaces:
            for problem in naming.limits_exceeded(desc.name, namespace):
                yield diag(
                    "FG303",
                    problem,
                    desc.source.at("metadata", "name"),
                    hint="shorten the model name (40 characters or fewer is safe)",
                )


def check_unique_lists(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG304: tenants, clusters and pools are not listed twice."""
    for desc in fleet.descriptors:
        seen: set[str] = set()
        for index, tenant in enumerate(desc.tenants):
            if tenant.name in seen:
                yield diag(
                    "FG304",
                    f"tenant {tenant.name!r} is listed twice",
                    desc.source.at("spec", "gateway", "tenants", index, "name"),
                )
            seen.add(tenant.name)
    for env in fleet.environments.values():
        names: set[str] = set()
        for cluster in env.clusters:
            if cluster.name in names:
                yield diag(
                    "FG304",
                    f"cluster {cluster.name!r} is listed twice",
                    env.source.at("spec", "clusters", cluster.index, "name"),
                )
            names.add(cluster.name)
            pools: set[str] = set()
            for pool in cluster.pools:
                if pool.name in pools:
                    yield diag(
                        "FG304",
                        f"pool {pool.name!r} is listed twice on cluster {cluster.name!r}",
                        env.source.at(
                            "spec", "clusters", cluster.index, "pools", pool.index, "name"
                        ),
                    )
                pools.add(pool.name)
        tenants: set[str] = set()
        for index, declared in enumerate(env.tenants):
            if declared.name in tenants:
                yield diag(
                    "FG304",
                    f"tenant {declared.name!r} is listed twice",
                    env.source.at("spec", "tenants", index, "name"),
                )
            tenants.add(declared.name)
