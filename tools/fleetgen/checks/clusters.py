"""Clusters and Argo CD projects across environments: FG960-FG962.

Argo CD knows a cluster by its server URL. Two cluster entries with one URL are one cluster
holding two copies of every app; two environments on one cluster both install the platform
layer and its cluster-scoped objects (CRDs of the prerequisite charts, the gateway Namespace,
model caches), and the two Argo CD Applications fight over them. An AppProject is known by its
name: two environments that name the same project write one AppProject twice, and the last
one written decides which destinations both may use.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.environment import Cluster, Environment
from fleetgen.loading.fleet import Fleet, placements

__all__ = ["check_clusters", "check_projects"]


def _server(url: str) -> str:
    return url.rstrip("/").lower()


def _collisions(
    fleet: Fleet, a: tuple[Environment, Cluster], b: tuple[Environment, Cluster]
) -> list[str]:
    """The cluster-scoped objects both environments' apps would create on one cluster."""
    (env_a, cluster_a), (env_b, cluster_b) = a, b
    found = [
        f"the {key} chart"
        for key in sorted(set(env_a.platform.prerequisites) & set(env_b.platform.prerequisites))
    ]
    if env_a.gateway.namespace == env_b.gateway.namespace:
        found.insert(0, f"Namespace {env_a.gateway.namespace}")
    cached: dict[tuple[str, str], set[str]] = {}
    for p in placements(fleet):
        if p.descriptor.cache_enabled and p.pool is not None and p.pool.cache_node_group:
            cached.setdefault((p.environment.name, p.cluster.name), set()).add(p.descriptor.name)
    both = cached.get((env_a.name, cluster_a.name), set()) & cached.get(
        (env_b.name, cluster_b.name), set()
    )
    found.extend(f"LocalModelCache {name}" for name in sorted(both))
    return found


def check_clusters(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG960: one server URL for two clusters of an environment; FG961: for two environments
    whose apps would collide on cluster-scoped objects."""
    seen: dict[str, tuple[Environment, Cluster]] = {}
    for env in sorted(fleet.environments.values(), key=lambda e: e.name):
        for cluster in env.clusters:
            key = _server(cluster.server)
            first = seen.setdefault(key, (env, cluster))
            if first == (env, cluster):
                continue
            other_env, other = first
            at = env.source.at("spec", "clusters", cluster.index, "server")
            if other_env.name == env.name:
                yield diag(
                    "FG960",
                    f"cluster {cluster.name} has the server of cluster {other.name} "
                    f"({cluster.server}): Argo CD sees one cluster and deploys every app twice",
                    at,
                    hint="give each cluster its own API server URL, or drop the duplicate entry",
                )
                continue
            collide = _collisions(fleet, first, (env, cluster))
            if not collide:
                continue
            shown = f"{', '.join(collide[:4])}{' and more' if len(collide) > 4 else ''}"
            # Either file may hold the mistake: say it in both.
            for (e, c), (oe, oc) in (((env, cluster), first), (first, (env, cluster))):
                yield diag(
                    "FG961",
                    f"cluster {c.name} of environment {e.name} is cluster {oc.name} of "
                    f"environment {oe.name} ({c.server}): both environments would create "
                    f"{shown} on it",
                    e.source.at("spec", "clusters", c.index, "server"),
                    hint="run each environment on its own cluster; the platform layer is per "
                    "cluster",
                )


def check_projects(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG962: two environments name the same Argo CD project."""
    seen: dict[str, Environment] = {}
    for env in sorted(fleet.environments.values(), key=lambda e: e.name):
        first = seen.setdefault(env.argocd.project, env)
        if first is env:
            continue
        # The one that names the project explicitly is the one that took another's name.
        mine = (
            env if env.argocd.project != env.name or first.argocd.project == first.name else first
        )
        other = first if mine is env else env
        at = (
            mine.source.at("spec", "argocd", "project")
            if mine.argocd.project != mine.name
            else mine.source.at("metadata", "name")
        )
        yield diag(
            "FG962",
            f"environment {mine.name} uses Argo CD project {mine.argocd.project!r}, as environment "
            f"{other.name} does: both write AppProject {mine.argocd.project}, and one overwrites "
            "the other's destinations",
            at,
            hint="give each environment its own project (spec.argocd.project)",
        )
