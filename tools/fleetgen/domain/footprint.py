"""What one descriptor claims in the fleet that another can clash with: its footprint.

Cross-file checks (unique model and served names, pool and team capacity, promotion) need
every other descriptor only through these few facts. Deriving them once per descriptor, here,
lets the pre-commit path keep them for unchanged files between runs instead of loading the
whole fleet again, while the full run derives them the same way: one code path for both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from fleetgen.domain.environment import Environment
from fleetgen.domain.model import Descriptor
from fleetgen.domain.placement import placements_of

ServedKey = tuple[str, str, str, str]  # environment, gateway namespace, gateway name, served
PoolKey = tuple[str, str, str]  # environment, cluster, pool
TeamKey = tuple[str, str, str]  # environment, cluster, team
# environment, cluster, pool, GPUs at minimum scale, at maximum, team ("" without a budget)
GpuUse = tuple[str, str, str, int, int, str]


class Demand(NamedTuple):
    """One active placement's GPUs: what the failure budget and the cost ledger add up."""

    model: str
    team: str
    cluster: str
    pool: str
    min_gpus: int
    max_gpus: int


class Footprint(NamedTuple):
    """The facts of one descriptor that other descriptors' checks depend on.

    A named tuple: the pre-commit path makes thousands of these from cached records.
    """

    path: str
    name: str
    environments: tuple[str, ...]  # every environment named, retired ones included
    served: tuple[ServedKey, ...]  # per active environment: served name and each alias
    gpus: tuple[GpuUse, ...]  # per active placement on a pool that exists
    staged: tuple[str, ...]  # images of its active placements in staging-tier environments
    team: str = ""  # metadata.team: the cost ledger sums GPU prices per team

    def record(self) -> tuple[object, ...]:
        """Plain tuples without the path, for the cache."""
        return tuple(self[1:])

    @classmethod
    def from_record(cls, path: str, record: tuple[object, ...]) -> Footprint:
        return cls(path, *record)  # type: ignore[arg-type]


def footprint_of(desc: Descriptor, environments: Mapping[str, Environment]) -> Footprint:
    served: list[ServedKey] = []
    gpus: list[GpuUse] = []
    staged: list[str] = []
    for env_name in desc.environments:
        env = environments.get(env_name)
        if env is None or not desc.active_in(env_name):
            continue
        gateway = (env.name, env.gateway.namespace, env.gateway.name)
        served.extend((*gateway, name) for name in desc.served_names)
        for p in placements_of(desc, env):
            if env.tier == "staging":
                staged.append(p.image)
            pool = p.pool
            if pool is None:
                continue
            per_replica = p.gpus_per_replica
            team = desc.team if desc.team in p.cluster.team_budgets else ""
            gpus.append(
                (
                    env.name,
                    p.cluster.name,
                    pool.name,
                    p.min_replicas * per_replica,
                    p.max_replicas * per_replica,
                    team,
                )
            )
    return Footprint(
        desc.source.path,
        desc.name,
        tuple(desc.environments),
        tuple(served),
        tuple(gpus),
        tuple(staged),
        desc.team,
    )


@dataclass(slots=True)
class FootprintIndex:
    """The fleet's footprints summed up, for lookups by the cross-file checks."""

    paths_by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # every claim of a served name: (path, model), once per claim
    served: dict[ServedKey, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    pool_gpus: dict[PoolKey, list[int]] = field(default_factory=dict)  # [minimum, maximum]
    team_gpus: dict[TeamKey, int] = field(default_factory=lambda: defaultdict(int))
    staged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # every footprint, for the checks that look at each model across clusters
    all: list[Footprint] = field(default_factory=list)

    def demands(self, env: str) -> list[Demand]:
        """Every active placement's GPUs in one environment (on a pool that exists)."""
        return [
            Demand(fp.name, fp.team, cluster, pool, low, high)
            for fp in self.all
            for e, cluster, pool, low, high, _ in fp.gpus
            if e == env
        ]

    @classmethod
    def of(cls, footprints: Iterable[Footprint]) -> FootprintIndex:
        index = cls()
        names, served, pools = index.paths_by_name, index.served, index.pool_gpus
        teams, staged = index.team_gpus, index.staged
        for footprint in footprints:
            index.all.append(footprint)
            path, name, _, claims, gpus, images, _ = footprint
            names[name].append(path)
            for key in claims:
                served[key].append((path, name))
            for env, cluster, pool, low, high, team in gpus:
                totals = pools.get((env, cluster, pool))
                if totals is None:
                    pools[(env, cluster, pool)] = [low, high]
                else:
                    totals[0] += low
                    totals[1] += high
                if team:
                    teams[(env, cluster, team)] += high
            if images:
                staged[name].update(images)
        return index
