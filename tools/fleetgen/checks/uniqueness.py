"""FG301-FG304: names that must be unique, and derived names that must fit their limits."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.core.positions import JsonPath
from fleetgen.domain import naming
from fleetgen.domain.model import Descriptor
from fleetgen.loading.fleet import Fleet


def check_model_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG301: no two descriptors declare the same model (each file involved is told)."""
    paths_by_name = fleet.footprints().paths_by_name
    for desc in fleet.descriptors:
        claimants = paths_by_name.get(desc.name, ())
        if len(claimants) > 1:
            others = ", ".join(sorted(p for p in claimants if p != desc.source.path))
            yield diag(
                "FG301",
                f"model {desc.name!r} is also declared in {others}",
                desc.source.at("metadata", "name"),
            )


def _served_paths(desc: Descriptor) -> Iterator[tuple[str, JsonPath]]:
    yield desc.model.served_name, ("spec", "model", "servedName")
    for index, alias in enumerate(desc.model.aliases):
        yield alias, ("spec", "model", "aliases", index)


def check_served_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG302: a served name or alias routes to one model per gateway and environment.

    Every claimant gets the diagnostic at its own line, so a pre-commit run on either file
    (the one that came first or the one adding the clash) reports it.
    """
    claims = fleet.footprints().served
    for desc in fleet.descriptors:
        for env_name in desc.environments:
            env = fleet.environments.get(env_name)
            if env is None or not desc.active_in(env_name):
                continue
            gw_ns, gw_name = env.gateway.namespace, env.gateway.name
            for served, path in _served_paths(desc):
                owners = claims.get((env.name, gw_ns, gw_name, served), ())
                if len(owners) < 2:
                    continue
                others = sorted({m for p, m in owners if p != desc.source.path})
                yield diag(
                    "FG302",
                    f"served name {served!r} is also routed to "
                    f"{', '.join(others or ['this model again'])} "
                    f"on gateway {gw_ns}/{gw_name} in {env.name}",
                    desc.source.at(*path),
                    hint="clients would reach one model or the other; pick another name",
                )


def check_name_lengths(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG303: names KServe derives stay within Kubernetes' limits in every namespace."""
    for desc in fleet.focused():
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
    for desc in fleet.focused():
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
