"""The failure budget: does an environment still hold its models when clusters are lost?

An environment may declare that it survives losing ``k`` clusters at once. For every set of
``k`` lost clusters, each model's replicas there move to the clusters it still runs on (the
ones its descriptor places it on: a model is not re-placed without a change and a cold
start). The surviving pools of the model's GPU pool must then hold, at minimum scale,

* their own minimum replicas, plus
* the minimum replicas moved from the lost clusters,

and the moved replicas must fit under the surviving autoscalers' maximum. When a model runs
on several surviving clusters, its moved GPUs may split between them in any way; whether
they fit is a flow problem (moved GPUs from each model to its surviving pools, each pool's
spare GPUs as capacity), solved exactly below. GPUs are counted per pool as the capacity
ledger counts them (nodes x GPUs per node).

The same arithmetic at maximum scale gives the peak-demand shortfall, which the ledger
reports: after a loss, the survivors serve what their pools hold and no more.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fleetgen.domain.environment import Environment
from fleetgen.domain.footprint import Demand

PoolId = tuple[str, str]  # cluster, pool


@dataclass(frozen=True, slots=True)
class Shortage:
    """Surviving pools that cannot hold the replicas moved to them (one connected group)."""

    pools: tuple[PoolId, ...]
    models: tuple[str, ...]  # the models whose moved replicas do not all fit
    need: int  # the pools' own GPUs plus the GPUs moved to them
    capacity: int
    missing: int  # GPUs that find no room (exact, over every way to split the moved ones)

    def pool_names(self) -> str:
        return ", ".join(f"{c}/{p}" for c, p in self.pools)


@dataclass(frozen=True, slots=True)
class Capped:
    """A model whose surviving autoscalers cannot take the replicas moved to them."""

    model: str
    moved: int  # GPUs at minimum scale on the lost clusters
    headroom: int  # GPUs between minimum and maximum on the surviving clusters


@dataclass(frozen=True, slots=True)
class Loss:
    """What losing one set of clusters does to the environment."""

    environment: str
    lost: tuple[str, ...]
    stranded: tuple[str, ...]  # models that run only on lost clusters
    capped: tuple[Capped, ...]
    short_min: tuple[Shortage, ...]
    short_max: tuple[Shortage, ...]

    @property
    def survives(self) -> bool:
        return not (self.stranded or self.capped or self.short_min)

    @property
    def missing_at_max(self) -> int:
        return sum(s.missing for s in self.short_max)

    def as_dict(self) -> dict[str, object]:
        def shortages(items: Sequence[Shortage]) -> list[dict[str, object]]:
            return [
                {
                    "pools": [f"{c}/{p}" for c, p in s.pools],
                    "models": list(s.models),
                    "needGpus": s.need,
                    "capacity": s.capacity,
                    "missingGpus": s.missing,
                }
                for s in items
            ]

        return {
            "environment": self.environment,
            "lost": list(self.lost),
            "survives": self.survives,
            "stranded": list(self.stranded),
            "capped": [
                {"model": c.model, "movedGpus": c.moved, "headroomGpus": c.headroom}
                for c in self.capped
            ],
            "shortAtMin": shortages(self.short_min),
            "shortAtMax": shortages(self.short_max),
            "missingGpusAtMax": self.missing_at_max,
        }


def losses(env: Environment, uses: Iterable[Demand]) -> list[Loss]:
    """Every loss of ``env.failure_budget`` clusters (none when the budget is 0 or too big)."""
    k = env.failure_budget
    names = [c.name for c in env.clusters]
    if k <= 0 or k >= len(names):
        return []
    chosen = list(uses)
    capacity = {(c.name, p.name): p.capacity for c in env.clusters for p in c.pools}
    return [
        _loss(env.name, frozenset(lost), chosen, capacity)
        for lost in itertools.combinations(names, k)
    ]


def _loss(
    env: str, lost: frozenset[str], uses: Sequence[Demand], capacity: Mapping[PoolId, int]
) -> Loss:
    by_model: dict[str, list[Demand]] = defaultdict(list)
    for use in uses:
        by_model[use.model].append(use)
    stranded: list[str] = []
    capped: list[Capped] = []
    for model, items in sorted(by_model.items()):
        gone = [u for u in items if u.cluster in lost]
        kept = [u for u in items if u.cluster not in lost]
        if not gone:
            continue
        if not kept:
            stranded.append(model)
            continue
        moved = sum(u.min_gpus for u in gone)
        headroom = sum(u.max_gpus - u.min_gpus for u in kept)
        if moved > headroom:
            capped.append(Capped(model, moved, headroom))
    return Loss(
        environment=env,
        lost=tuple(sorted(lost)),
        stranded=tuple(stranded),
        capped=tuple(capped),
        short_min=_shortages(lost, uses, capacity, at_max=False),
        short_max=_shortages(lost, uses, capacity, at_max=True),
    )


def _shortages(
    lost: frozenset[str], uses: Sequence[Demand], capacity: Mapping[PoolId, int], *, at_max: bool
) -> tuple[Shortage, ...]:
    """The groups of surviving pools short of room for the GPUs moved to them."""
    own: dict[PoolId, int] = defaultdict(int)
    moved: dict[str, int] = defaultdict(int)
    targets: dict[str, set[PoolId]] = defaultdict(set)
    for use in uses:
        model, cluster, pool = use.model, use.cluster, use.pool
        gpus = use.max_gpus if at_max else use.min_gpus
        if cluster in lost:
            moved[model] += gpus
        else:
            own[(cluster, pool)] += gpus
            targets[model].add((cluster, pool))
    demand = {m: g for m, g in moved.items() if g > 0 and targets[m]}
    if not demand:
        return ()
    spare = {p: max(0, capacity.get(p, 0) - own[p]) for m in demand for p in targets[m]}
    flows = _max_flow(demand, {m: targets[m] for m in demand}, spare)
    # The side of the minimum cut: everything reachable from a model left short.
    cut_models: set[str] = set()
    cut_pools: set[PoolId] = set()
    for model in demand:
        if flows.sent[model] < demand[model]:
            models, pools = flows.reachable(model)
            cut_models |= models
            cut_pools |= pools
    out: list[Shortage] = []
    for models, pools in _components(cut_models, cut_pools, targets):
        out.append(
            Shortage(
                pools=tuple(sorted(pools)),
                models=tuple(sorted(models)),
                need=sum(own[p] for p in pools) + sum(demand[m] for m in models),
                capacity=sum(capacity.get(p, 0) for p in pools),
                # moved GPUs without room, and any the pools' own replicas already lack
                missing=sum(demand[m] - flows.sent[m] for m in models)
                + sum(max(0, own[p] - capacity.get(p, 0)) for p in pools),
            )
        )
    return tuple(sorted(out, key=lambda s: s.pools))


def _components(
    models: set[str], pools: set[PoolId], targets: Mapping[str, set[PoolId]]
) -> list[tuple[set[str], set[PoolId]]]:
    """Split the cut into groups of models and pools joined by placements."""
    out: list[tuple[set[str], set[PoolId]]] = []
    left = set(models)
    while left:
        group, reach = {left.pop()}, set()
        grew = True
        while grew:
            grew = False
            for m in group:
                reach |= targets[m] & pools
            for m in list(left):
                if targets[m] & reach:
                    group.add(m)
                    left.discard(m)
                    grew = True
        out.append((group, reach))
    return out


@dataclass(slots=True)
class _Flows:
    """A maximum flow from models to pools, and its residual graph."""

    sent: dict[str, int]  # GPUs of each model placed
    flow: dict[tuple[str, PoolId], int]  # GPUs of each model on each pool
    targets: Mapping[str, set[PoolId]]
    spare: Mapping[PoolId, int]
    used: dict[PoolId, int]

    def reachable(self, start: str) -> tuple[set[str], set[PoolId]]:
        """Models and pools reachable from a model that is short, in the residual graph.

        These form a minimum cut: every pool reached is full, and the models reached can
        move their GPUs only among these pools.
        """
        models, pools = {start}, set()
        queue: deque[str] = deque([start])
        while queue:
            m = queue.popleft()
            for p in self.targets[m]:
                if p in pools:
                    continue
                pools.add(p)
                for other, targets in self.targets.items():
                    if other not in models and p in targets and self.flow.get((other, p), 0):
                        models.add(other)
                        queue.append(other)
        return models, pools


def _max_flow(
    demand: Mapping[str, int], targets: Mapping[str, set[PoolId]], spare: Mapping[PoolId, int]
) -> _Flows:
    """Edmonds-Karp on source -> model (demand) -> pool (unbounded) -> sink (spare)."""
    flows = _Flows(dict.fromkeys(demand, 0), {}, {m: set(t) for m, t in targets.items()}, spare, {})
    while True:
        path = _augmenting_path(demand, flows)
        if path is None:
            return flows
        start, steps, pool = path
        amount = min(
            demand[start] - flows.sent[start],
            spare[pool] - flows.used.get(pool, 0),
            *(flows.flow[(m, p)] for m, p, sign in steps if sign < 0),
        )
        for m, p, sign in steps:
            flows.flow[(m, p)] = flows.flow.get((m, p), 0) + sign * amount
        flows.sent[start] += amount
        flows.used[pool] = flows.used.get(pool, 0) + amount


def _augmenting_path(
    demand: Mapping[str, int], flows: _Flows
) -> tuple[str, list[tuple[str, PoolId, int]], PoolId] | None:
    """A shortest path from a model with GPUs left to a pool with spare room.

    Steps alternate: model -> pool (forward, always open) and pool -> model (backward, where
    that model already sends GPUs to the pool). Returns (start, steps, final pool).
    """
    for start in sorted(demand):
        if flows.sent[start] >= demand[start]:
            continue
        parent: dict[PoolId, tuple[str, PoolId | None]] = {}
        visited_models = {start}
        queue: deque[tuple[str, PoolId | None]] = deque([(start, None)])
        while queue:
            model, via = queue.popleft()
            for pool in sorted(flows.targets[model]):
                if pool in parent:
                    continue
                parent[pool] = (model, via)
                if flows.spare[pool] - flows.used.get(pool, 0) > 0:
                    return start, _steps(parent, pool), pool
                for other in sorted(flows.targets):
                    if other not in visited_models and flows.flow.get((other, pool), 0) > 0:
                        visited_models.add(other)
                        queue.append((other, pool))
    return None


def _steps(
    parent: Mapping[PoolId, tuple[str, PoolId | None]], end: PoolId
) -> list[tuple[str, PoolId, int]]:
    steps: list[tuple[str, PoolId, int]] = []
    pool: PoolId | None = end
    while pool is not None:
        model, via = parent[pool]
        steps.append((model, pool, +1))
        if via is not None:
            steps.append((model, via, -1))  # `model` gives up room on `via` to the previous
        pool = via
    return steps
