"""In which order a change reaches the clusters: for every environment that rolls out in
steps (spec.rollout), the RollingSync step each added or changed model app syncs in.

The steps are the head revision's, matched with Argo CD's own selection rules
(domain/rollout.py): an app syncs in the first step that selects it. Removed apps are not
stepped: the generated set leaves strategy.deletionOrder at AllAtOnce (argo-cd v3.5.1
Progressive-Syncs.md), so the ApplicationSet deletes them all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fleetgen.domain import naming
from fleetgen.domain.rollout import MaxUpdate, app_labels, selecting, sync_steps
from fleetgen.loading.fleet import Fleet
from fleetgen.review.compare import AppKey


@dataclass(frozen=True, slots=True)
class StepApps:
    """One RollingSync step and the changed apps that sync in it."""

    number: int  # 1-based, in sync order
    what: str  # e.g. "prod-a, canary llama-3-1-8b-instruct"
    max_update: MaxUpdate | None
    apps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RolloutOrder:
    environment: str
    steps: tuple[StepApps, ...]  # only the steps a changed app falls in, in order
    unstepped: tuple[str, ...] = ()  # changed apps no step selects: Argo CD never syncs them


def rollout_orders(head: Fleet, changed: Iterable[AppKey]) -> tuple[RolloutOrder, ...]:
    """The order per environment with a rollout that has added or changed model apps."""
    by_env: dict[str, list[AppKey]] = {}
    for key in changed:
        by_env.setdefault(key.env, []).append(key)
    out: list[RolloutOrder] = []
    for env_name in sorted(by_env):
        env = head.environments.get(env_name)
        if env is None or env.rollout is None:
            continue
        steps = sync_steps(env.rollout)
        found: dict[int, list[str]] = {}
        unstepped: list[str] = []
        for key in sorted(by_env[env_name]):
            name = naming.app_name(key.env, key.cluster, key.model)
            hits = selecting(steps, app_labels(key.cluster, key.model))
            if hits:
                found.setdefault(hits[0], []).append(name)
            else:
                unstepped.append(name)
        out.append(
            RolloutOrder(
                env_name,
                tuple(
                    StepApps(i + 1, steps[i].describe(), steps[i].max_update, tuple(found[i]))
                    for i in sorted(found)
                ),
                tuple(unstepped),
            )
        )
    return tuple(out)


def _pace(max_update: MaxUpdate | None) -> str:
    if max_update is None:
        return ""
    if max_update == 0:
        return ", held until synced by hand"
    return f", at most {max_update} at a time"


def rollout_lines(order: RolloutOrder) -> Iterator[str]:
    """For people: one line per step, then the apps no step syncs."""
    for step in order.steps:
        yield f"step {step.number} ({step.what}{_pace(step.max_update)}): {', '.join(step.apps)}"
    if order.unstepped:
        yield f"in no step, never synced (FG436): {', '.join(order.unstepped)}"
