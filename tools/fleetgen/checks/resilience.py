"""FG430-FG433: an environment survives losing as many clusters as its failure budget says.

Each finding is reported at the environment's `failureBudget.clusters` (the promise that is
broken) and on every descriptor it involves, so the pre-commit hook, which reports only on
the files it is given, still flags the model a change adds or pins to one cluster.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain.environment import Environment
from fleetgen.domain.placement import Placement
from fleetgen.domain.resilience import Loss, losses
from fleetgen.loading.fleet import Fleet, placements


def check_failure_budget(fleet: Fleet) -> Iterator[Diagnostic]:
    for env in fleet.environments.values():
        if env.failure_budget == 0:
            continue
        at = env.source.at("spec", "failureBudget", "clusters")
        if env.failure_budget >= len(env.clusters):
            yield diag(
                "FG433",
                f"environment {env.name} must survive losing {env.failure_budget} "
                f"cluster(s) but has {len(env.clusters)}: none would be left",
                at,
                hint="lower failureBudget.clusters below the number of clusters, or add one",
            )
            continue
        sites = {p.descriptor.name: p for p in placements(fleet) if p.environment is env}
        uses = fleet.footprints().demands(env.name)
        clusters: dict[str, set[str]] = {}
        for use in uses:
            clusters.setdefault(use.model, set()).add(use.cluster)
        for loss in losses(env, uses):
            yield from _findings(env, loss, at, sites, clusters)


def _lost(loss: Loss) -> str:
    return f"losing {'cluster' if len(loss.lost) == 1 else 'clusters'} {', '.join(loss.lost)}"


def _findings(
    env: Environment,
    loss: Loss,
    at: Location,
    sites: dict[str, Placement],
    clusters: dict[str, set[str]],
) -> Iterator[Diagnostic]:
    lost = _lost(loss)
    for model in loss.stranded:
        runs_on = ", ".join(sorted(clusters[model]))
        message = f"{lost} leaves model {model} with no replica: it runs only on {runs_on}"
        hint = (
            f"place the model on another cluster of {env.name} as well "
            f"(spec.environments.{env.name}.clusters), on a pool of its GPU type"
        )
        yield from _at_all(
            "FG430", message, hint, at, [_clusters_at(sites[model])] if model in sites else []
        )
    for capped in loss.capped:
        message = (
            f"{lost} moves {capped.moved} GPUs of model {capped.model}'s minimum replicas "
            f"to the clusters it still runs on, but their autoscalers may add only "
            f"{capped.headroom} (maximum replicas)"
        )
        hint = "raise the model's maximum replicas so the survivors can take the lost ones"
        sites_at = [sites[capped.model].replicas_at("max")] if capped.model in sites else []
        yield from _at_all("FG432", message, hint, at, sites_at)
    at_max = {s.pools: s for s in loss.short_max}
    for short in loss.short_min:
        peak = at_max.get(short.pools)
        message = (
            f"{lost}: pool {short.pool_names()} must hold {short.need} GPUs at minimum scale "
            f"(with the replicas of {', '.join(short.models)} moved there) but has "
            f"{short.capacity}: {short.missing} short"
            + (f"; at maximum scale it would need {peak.need}" if peak else "")
        )
        hint = "add nodes to the pool, lower minimum replicas, or spread models over more clusters"
        sites_at = [sites[m].replicas_at("min") for m in short.models if m in sites]
        yield from _at_all("FG431", message, hint, at, sites_at)


def _clusters_at(p: Placement) -> Location:
    src, env = p.descriptor.source, p.environment.name
    if p.override.clusters is not None:
        return src.at("spec", "environments", env, "clusters")
    return src.key_at("spec", "environments", env)


def _at_all(
    code: str, message: str, hint: str, at: Location, more: list[Location]
) -> Iterator[Diagnostic]:
    for where in (at, *more):
        yield diag(code, message, where, hint=hint)
