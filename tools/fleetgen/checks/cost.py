"""FG434-FG435: a team's GPUs at maximum scale stay within its monthly budget.

The over-budget warning is reported at the team's budget in the environment file and on
each of the team's descriptors there, so the pre-commit hook still flags the model a change
scales up.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.cost import environment_costs, money
from fleetgen.loading.fleet import Fleet, placements


def check_cost(fleet: Fleet) -> Iterator[Diagnostic]:
    for env in fleet.environments.values():
        budgets = env.cost.team_monthly_budgets
        if not budgets:
            continue
        costs = {c.team: c for c in environment_costs(env, fleet.footprints().demands(env.name))}
        for team, budget in sorted(budgets.items()):
            at = env.source.at("spec", "cost", "teamMonthlyBudgets", team)
            cost = costs.get(team)
            if cost is None:  # a budget set ahead of the team's first model
                continue
            if cost.unpriced:
                yield diag(
                    "FG435",
                    f"team {team!r} uses pool(s) {', '.join(cost.unpriced)} in {env.name}, "
                    "which have no pricePerGpuHour: their GPUs are left out of its cost",
                    at,
                    hint="give every pool the team uses a pricePerGpuHour",
                )
            if not cost.over_budget:
                continue
            message = (
                f"team {team!r} may spend {money(cost.max_cost)}/month on {cost.max_gpus} "
                f"GPUs in {env.name} at maximum scale ({money(cost.min_cost)} at minimum); "
                f"its budget is {money(budget)}"
            )
            hint = "lower maximum replicas, move models to cheaper pools, or raise the budget"
            yield diag("FG434", message, at, hint=hint)
            seen: set[str] = set()
            for p in placements(fleet):
                name = p.descriptor.name
                if p.environment is env and p.descriptor.team == team and name not in seen:
                    seen.add(name)
                    yield diag("FG434", message, p.replicas_at("max"), hint=hint)
