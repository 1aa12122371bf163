"""The failure-budget arithmetic on hand-made environments: splits, groups, exact shortfalls."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import pytest

from fleetgen.domain.cost import environment_costs, money
from fleetgen.domain.environment import Cluster, Environment, Pool
from fleetgen.domain.footprint import Demand
from fleetgen.domain.resilience import losses
from fleetgen.loading.load import load_fleet
from tests.conftest import REPO


@pytest.fixture(scope="module")
def prod() -> Environment:
    fleet, _ = load_fleet(Path(REPO))
    return fleet.environments["prod"]


def _pool(name: str, gpus: int, price: float | None = None) -> Pool:
    return Pool(name, "H100-80GB", 8, gpus // 8, MappingProxyType({}), (), None, 0, price)


def _env(base: Environment, budget: int, **clusters: list[Pool]) -> Environment:
    made = tuple(
        Cluster(name, f"https://{name}.example.com", tuple(pools), MappingProxyType({}), i)
        for i, (name, pools) in enumerate(clusters.items())
    )
    return dataclasses.replace(base, clusters=made, failure_budget=budget)


def test_moved_replicas_split_over_two_survivors(prod: Environment) -> None:
    env = _env(prod, 1, a=[_pool("h100", 16)], b=[_pool("h100", 16)], c=[_pool("h100", 16)])
    # m runs on all three with 8 GPUs at minimum each: a loss moves 8, and the two
    # survivors have 8 spare each, so it fits only by splitting.
    uses = [Demand("m", "t", c, "h100", 8, 16) for c in "abc"]
    outcome = losses(env, uses)
    assert [loss.lost for loss in outcome] == [("a",), ("b",), ("c",)]
    assert all(loss.survives for loss in outcome)
    # At maximum scale each survivor is full with its own 16: all 16 moved are missing.
    assert [s.missing for s in outcome[0].short_max] == [16]
    assert outcome[0].short_max[0].pools == (("b", "h100"), ("c", "h100"))


def test_a_shortage_names_the_pool_group_and_the_exact_gap(prod: Environment) -> None:
    env = _env(prod, 1, a=[_pool("h100", 16)], b=[_pool("h100", 8)], c=[_pool("h100", 8)])
    uses = [
        Demand("big", "t", "a", "h100", 12, 12),
        Demand("big", "t", "b", "h100", 2, 16),
        Demand("other", "t", "c", "h100", 4, 4),
    ]
    lose_a = losses(env, uses)[0]
    assert lose_a.lost == ("a",)
    # big moves 12 GPUs, only to b (6 spare): 6 short; c is not big's and stays out.
    [short] = lose_a.short_min
    assert (short.pools, short.models, short.need, short.capacity, short.missing) == (
        (("b", "h100"),),
        ("big",),
        14,
        8,
        6,
    )
    assert not lose_a.capped and not lose_a.stranded
    lose_c = losses(env, uses)[2]
    assert lose_c.stranded == ("other",) and not lose_c.survives


def test_a_flow_that_must_reroute_another_model(prod: Environment) -> None:
    """x may go to p or q, y only to p: a greedy x->p leaves y short; the flow does not."""
    env = _env(
        prod,
        1,
        lost=[_pool("p", 8), _pool("q", 8)],
        s1=[_pool("p", 8)],
        s2=[_pool("q", 8)],
    )
    uses = [
        Demand("x", "t", "lost", "p", 8, 8),
        Demand("x", "t", "s1", "p", 0, 8),
        Demand("x", "t", "s2", "q", 0, 8),
        Demand("y", "t", "lost", "p", 8, 8),
        Demand("y", "t", "s1", "p", 0, 8),
    ]
    first = losses(env, uses)[0]
    assert first.lost == ("lost",)
    # x (8) fits only on s2/q, y (8) only on s1/p: the flow finds it; nothing is short.
    assert first.survives, first
    # Losing two clusters at once is a different budget: three combinations of two.
    assert len(losses(dataclasses.replace(env, failure_budget=2), uses)) == 3
    assert losses(dataclasses.replace(env, failure_budget=3), uses) == []


def test_autoscaler_cap_and_costs(prod: Environment) -> None:
    env = _env(prod, 1, a=[_pool("h100", 16, 2.0)], b=[_pool("h100", 16)])
    uses = [Demand("m", "t", c, "h100", 4, 6) for c in "ab"]
    capped = losses(env, uses)[0].capped
    assert [(c.model, c.moved, c.headroom) for c in capped] == [("m", 4, 2)]
    team, total = environment_costs(env, uses)
    assert (team.team, team.min_gpus, team.max_gpus) == ("t", 8, 12)
    # Only a is priced: 4 GPUs x $2 x 730 h at minimum, 6 at maximum; b is listed unpriced.
    assert (team.min_cost, team.max_cost, team.unpriced) == (5840.0, 8760.0, ("b/h100",))
    assert total.team == "*" and total.max_cost == team.max_cost
    assert money(1234.4) == "$1,234" and money(-300, sign=True) == "-$300"
    assert money(0, sign=True) == "+$0"
