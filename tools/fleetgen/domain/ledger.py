"""The fleet capacity ledger: GPUs needed at minimum and maximum scale per pool and team,
their monthly cost, and what each loss the failure budget allows leaves short."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fleetgen.domain.cost import TeamCost
from fleetgen.domain.placement import Placement
from fleetgen.domain.resilience import Loss


@dataclass(slots=True)
class PoolLedger:
    """GPU demand on one pool of one cluster of one environment."""

    environment: str
    cluster: str
    pool: str
    gpu: str
    capacity: int
    min_gpus: int = 0
    max_gpus: int = 0
    placements: list[Placement] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "cluster": self.cluster,
            "pool": self.pool,
            "gpu": self.gpu,
            "capacity": self.capacity,
            "minGpus": self.min_gpus,
            "maxGpus": self.max_gpus,
            "models": sorted({p.descriptor.name for p in self.placements}),
        }


@dataclass(slots=True)
class TeamLedger:
    """GPUs of one team at maximum scale on one cluster, against its budget."""

    environment: str
    cluster: str
    team: str
    budget: int
    max_gpus: int = 0
    placements: list[Placement] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "cluster": self.cluster,
            "team": self.team,
            "budget": self.budget,
            "maxGpus": self.max_gpus,
        }


@dataclass(frozen=True, slots=True)
class Ledger:
    pools: tuple[PoolLedger, ...]
    teams: tuple[TeamLedger, ...]
    costs: tuple[TeamCost, ...] = ()  # per environment: each team, then all teams ("*")
    losses: tuple[Loss, ...] = ()  # per environment with a failure budget: each loss


def build_ledger(items: Iterable[Placement]) -> Ledger:
    """Sum each placement's GPUs into its pool (and its team's budget, where one is set)."""
    pools: dict[tuple[str, str, str], PoolLedger] = {}
    teams: dict[tuple[str, str, str], TeamLedger] = {}
    for p in items:
        pool = p.pool
        if pool is None:
            continue
        env, cluster = p.environment.name, p.cluster.name
        entry = pools.get((env, cluster, pool.name))
        if entry is None:
            entry = PoolLedger(env, cluster, pool.name, pool.gpu, pool.capacity)
            pools[(env, cluster, pool.name)] = entry
        entry.min_gpus += p.min_replicas * p.gpus_per_replica
        entry.max_gpus += p.max_replicas * p.gpus_per_replica
        entry.placements.append(p)
        team = p.descriptor.team
        budget = p.cluster.team_budgets.get(team)
        if budget is not None:
            tentry = teams.setdefault((env, cluster, team), TeamLedger(env, cluster, team, budget))
            tentry.max_gpus += p.max_replicas * p.gpus_per_replica
            tentry.placements.append(p)
    return Ledger(tuple(pools[k] for k in sorted(pools)), tuple(teams[k] for k in sorted(teams)))
