"""Reviewer notes on what a change costs and whether the environments still survive losses.

Cost per environment: "+N GPUs, +$X/month at max" (and at min), with the teams it moves.
Failure budget per loss: a note when a loss the environment survived no longer is (or is
again); the diagnostics (FG430-FG432) say why in detail.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.domain.cost import ALL_TEAMS, TeamCost, environment_costs, money
from fleetgen.domain.resilience import Loss, losses
from fleetgen.loading.fleet import Fleet


def _costs(fleet: Fleet) -> dict[tuple[str, str], TeamCost]:
    index = fleet.footprints()
    return {
        (c.environment, c.team): c
        for env in fleet.environments.values()
        for c in environment_costs(env, index.demands(env.name))
    }


def _gpus(delta: int) -> str:
    return f"{delta:+d} GPUs"


def _bound(old: TeamCost | None, new: TeamCost | None, *, at_max: bool) -> str:
    def gpus(c: TeamCost | None) -> int:
        return 0 if c is None else (c.max_gpus if at_max else c.min_gpus)

    def cost(c: TeamCost | None) -> float:
        return 0.0 if c is None else (c.max_cost if at_max else c.min_cost)

    text = _gpus(gpus(new) - gpus(old))
    priced = not ((old and old.unpriced) or (new and new.unpriced))
    if priced:
        text += f", {money(cost(new) - cost(old), sign=True)}/month"
    return text + (" at max" if at_max else " at min")


def cost_notes(base: Fleet, head: Fleet) -> Iterator[str]:
    """One note per environment whose GPUs or cost change, naming the teams that move."""
    before, after = _costs(base), _costs(head)
    envs = sorted({env for env, _ in before.keys() | after.keys()})
    for env in envs:
        old, new = before.get((env, ALL_TEAMS)), after.get((env, ALL_TEAMS))
        if _figures(old) == _figures(new):
            continue
        teams = sorted(
            team
            for e, team in before.keys() | after.keys()
            if e == env
            and team != ALL_TEAMS
            and _figures(before.get((e, team))) != _figures(after.get((e, team)))
        )
        bounds = [_bound(old, new, at_max=True)]
        if _figures(old)[::2] != _figures(new)[::2]:  # GPUs or cost at minimum changed
            bounds.append(_bound(old, new, at_max=False))
        note = f"{env} cost: {'; '.join(bounds)} (team {', '.join(teams)})"
        unpriced = sorted(set(new.unpriced if new else ()) | set(old.unpriced if old else ()))
        if unpriced:
            note += f"; cost unknown: {', '.join(unpriced)} have no pricePerGpuHour"
        over = [
            f"{team} now over its {money(c.budget or 0)} budget at max"
            for team in teams
            if (c := after.get((env, team))) is not None
            and c.over_budget
            and not ((b := before.get((env, team))) is not None and b.over_budget)
        ]
        yield note + "".join(f"; {o}" for o in over)


def _figures(c: TeamCost | None) -> tuple[int, int, float, float]:
    if c is None:
        return (0, 0, 0.0, 0.0)
    return (c.min_gpus, c.max_gpus, round(c.min_cost, 2), round(c.max_cost, 2))


def _losses(fleet: Fleet) -> dict[tuple[str, tuple[str, ...]], Loss]:
    index = fleet.footprints()
    return {
        (loss.environment, loss.lost): loss
        for env in fleet.environments.values()
        for loss in losses(env, index.demands(env.name))
    }


def failure_budget_notes(base: Fleet, head: Fleet) -> Iterator[str]:
    """A note for every loss whose outcome at minimum scale flips."""
    before, after = _losses(base), _losses(head)
    for key in sorted(after):
        new, old = after[key], before.get(key)
        env, lost = key[0], ", ".join(key[1])
        if old is not None and old.survives == new.survives:
            continue
        if old is None and new.survives:
            continue
        if new.survives:
            yield f"{env} failure budget: losing {lost} is survivable again"
        else:
            yield f"{env} failure budget: losing {lost} is no longer survivable ({_why(new)})"


def _why(loss: Loss) -> str:
    parts = [f"{m} would have no replica" for m in loss.stranded]
    parts += [f"{c.model} could not scale up to take the lost replicas" for c in loss.capped]
    parts += [f"{s.pool_names()} {s.missing} GPUs short" for s in loss.short_min]
    return "; ".join(parts)
