"""What the fleet's GPUs cost a month, per team and environment, at minimum and maximum scale.

A pool may give its price per GPU-hour; a month is ``cost.hoursPerMonth`` hours (730 by
default: 365 x 24 / 12). GPUs are counted as the capacity ledger counts them: replicas x
GPUs per replica, on the pool each placement runs on. A placement on a pool without a
price adds its GPUs but no cost, and the pool is listed as unpriced, so a total is never
silently low.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleetgen.domain.environment import Environment
from fleetgen.domain.footprint import Demand

ALL_TEAMS = "*"


@dataclass(frozen=True, slots=True)
class TeamCost:
    """One team's GPUs and their monthly cost in one environment (team "*": all teams)."""

    environment: str
    team: str
    min_gpus: int
    max_gpus: int
    min_cost: float
    max_cost: float
    budget: float | None
    unpriced: tuple[str, ...]  # "cluster/pool" used without a price
    models: tuple[str, ...]

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.max_cost > self.budget

    def as_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "team": self.team,
            "minGpus": self.min_gpus,
            "maxGpus": self.max_gpus,
            "monthlyCostAtMin": round(self.min_cost, 2),
            "monthlyCostAtMax": round(self.max_cost, 2),
            "monthlyBudget": self.budget,
            "unpricedPools": list(self.unpriced),
        }


def environment_costs(env: Environment, uses: Iterable[Demand]) -> list[TeamCost]:
    """Per team (sorted), then the environment's total as team "*"."""
    prices = {(c.name, p.name): p.price_per_gpu_hour for c in env.clusters for p in c.pools}
    hours = env.cost.hours_per_month
    rows: dict[str, list[Demand]] = {}
    for use in uses:
        rows.setdefault(use.team, []).append(use)
    out = [
        _sum(env, team, items, prices, hours, env.cost.team_monthly_budgets.get(team))
        for team, items in sorted(rows.items())
    ]
    if out:
        every = [u for team in sorted(rows) for u in rows[team]]
        out.append(_sum(env, ALL_TEAMS, every, prices, hours, None))
    return out


def _sum(
    env: Environment,
    team: str,
    items: list[Demand],
    prices: dict[tuple[str, str], float | None],
    hours: float,
    budget: float | None,
) -> TeamCost:
    low = high = 0
    low_cost = high_cost = 0.0
    unpriced: set[str] = set()
    for _, _, cluster, pool, min_gpus, max_gpus in items:
        low, high = low + min_gpus, high + max_gpus
        price = prices.get((cluster, pool))
        if price is None:
            unpriced.add(f"{cluster}/{pool}")
            continue
        low_cost += min_gpus * price * hours
        high_cost += max_gpus * price * hours
    return TeamCost(
        environment=env.name,
        team=team,
        min_gpus=low,
        max_gpus=high,
        min_cost=low_cost,
        max_cost=high_cost,
        budget=budget,
        unpriced=tuple(sorted(unpriced)),
        models=tuple(sorted({u.model for u in items})),
    )


def money(amount: float, *, sign: bool = False) -> str:
    """Whole US dollars with thousands separators: ``$14,600``, ``+$1,200``, ``-$300``."""
    rounded = round(amount)
    prefix = ("+" if rounded >= 0 else "-") if sign else ("-" if rounded < 0 else "")
    return f"{prefix}${abs(rounded):,}"
