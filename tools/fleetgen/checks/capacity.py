"""FG406-FG408: the fleet fits its GPU pools at minimum scale, and warns at maximum.

A pool-level shortage is reported on every descriptor that draws on the pool, so the
pre-commit hook (which reports only on the files it is given) still flags the model a PR adds.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic
from fleetgen.ledger import build_ledger
from fleetgen.loading.fleet import Fleet
from fleetgen.placement import placements


def check_capacity(fleet: Fleet) -> Iterator[Diagnostic]:
    ledger = build_ledger(placements(fleet))
    for pool in ledger.pools:
        name = f"{pool.environment}/{pool.cluster}/{pool.pool}"
        for p in pool.placements:
            own_min = p.min_replicas * p.gpus_per_replica
            own_max = p.max_replicas * p.gpus_per_replica
            if pool.min_gpus > pool.capacity:
                yield diag(
                    "FG406",
                    f"pool {name} has {pool.capacity} GPUs, but minimum scale needs "
                    f"{pool.min_gpus} (this model: {own_min})",
                    p.replicas_at("min"),
                    hint="lower minimum replicas, or ask for more nodes in the pool",
                )
            elif pool.max_gpus > pool.capacity:
                yield diag(
                    "FG407",
                    f"pool {name} has {pool.capacity} GPUs, but maximum scale needs "
                    f"{pool.max_gpus} (this model: {own_max})",
                    p.replicas_at("max"),
                    hint="autoscaling will stall with pending pods before reaching maximum",
                )
    for team in ledger.teams:
        if team.max_gpus <= team.budget:
            continue
        for p in team.placements:
            yield diag(
                "FG408",
                f"team {team.team!r} may use {team.max_gpus} GPUs on "
                f"{team.environment}/{team.cluster} at maximum scale; its budget is {team.budget}",
                p.replicas_at("max"),
            )
