"""FG406-FG408: the fleet fits its GPU pools at minimum scale, and warns at maximum.

A pool-level shortage is reported on every descriptor that draws on the pool, so the
pre-commit hook (which reports only on the files it is given) still flags the model a PR adds.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet, placements

_MIN_HINT = "lower minimum replicas, or ask for more nodes in the pool"
_MAX_HINT = "autoscaling will stall with pending pods before reaching maximum"


def check_capacity(fleet: Fleet) -> Iterator[Diagnostic]:
    index = fleet.footprints()
    for p in placements(fleet):
        pool = p.pool
        if pool is None:
            continue
        env, cluster = p.environment.name, p.cluster.name
        min_gpus, max_gpus = index.pool_gpus[(env, cluster, pool.name)]
        name = f"{env}/{cluster}/{pool.name}"
        # A shortage at minimum scale is an error; only without one, a warning at maximum.
        for code, bound, needed, own, hint in (
            ("FG406", "minimum", min_gpus, p.min_replicas, _MIN_HINT),
            ("FG407", "maximum", max_gpus, p.max_replicas, _MAX_HINT),
        ):
            if needed > pool.capacity:
                yield diag(
                    code,
                    f"pool {name} has {pool.capacity} GPUs, but {bound} scale needs "
                    f"{needed} (this model: {own * p.gpus_per_replica})",
                    p.replicas_at(bound[:3]),
                    hint=hint,
                )
                break
        team = p.descriptor.team
        budget = p.cluster.team_budgets.get(team)
        team_gpus = index.team_gpus.get((env, cluster, team), 0)
        if budget is not None and team_gpus > budget:
            yield diag(
                "FG408",
                f"team {team!r} may use {team_gpus} GPUs on {env}/{cluster} "
                f"at maximum scale; its budget is {budget}",
                p.replicas_at("max"),
            )
