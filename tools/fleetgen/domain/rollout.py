"""Progressive rollout of an environment: its declared steps, the Argo CD RollingSync steps
they become, and which step each generated Application falls in.

An environment's ``spec.rollout.steps`` is an ordered list of cluster groups, each with an
optional canary subset of models that goes first on those clusters. Each declared step
becomes one RollingSync step selecting on the Applications' cluster label, or, with a canary,
two: the canary models, then the other models of the same clusters.

Selection follows argo-cd v3.5.1 ``applicationset/progressivesync/progressive_sync.go``
(``buildAppDependencyList``, ``labelMatchedExpression``): every expression of a step must hold
(AND); ``In`` holds when the label's value is one of the values, and fails when the label is
missing; ``NotIn`` holds when the value is none of them, or the label is missing; any other
operator selects nothing. An Application selected by no step is never synced by the rollout;
one selected by several steps is logged and counted in the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLUSTER_LABEL = "fleetgen.dev/cluster"
MODEL_LABEL = "fleetgen.dev/model"
IN, NOT_IN = "In", "NotIn"

MaxUpdate = int | str  # a count, or a percentage such as "25%"


@dataclass(frozen=True, slots=True)
class Step:
    """One declared step: these clusters, their canary models first."""

    clusters: tuple[str, ...]
    canary: tuple[str, ...]
    max_update: MaxUpdate | None
    index: int  # position in spec.rollout.steps, for diagnostics


@dataclass(frozen=True, slots=True)
class Rollout:
    progressive_syncs: bool  # the environment's Argo CD has them switched on
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Expression:
    key: str
    operator: str
    values: tuple[str, ...]

    def holds(self, labels: Mapping[str, str]) -> bool:
        if self.operator not in (IN, NOT_IN):
            return False
        if self.key not in labels:
            return self.operator == NOT_IN
        return (labels[self.key] in self.values) == (self.operator == IN)


@dataclass(frozen=True, slots=True)
class SyncStep:
    """One RollingSync step as generated."""

    expressions: tuple[Expression, ...]
    max_update: MaxUpdate | None
    declared: int  # index of the declared step it comes from
    canary: bool | None  # True: the canary models; False: the rest after them; None: no canary

    def selects(self, labels: Mapping[str, str]) -> bool:
        return all(e.holds(labels) for e in self.expressions)

    def describe(self) -> str:
        """For people: 'prod-a, canary llama' / 'prod-a, after the canary' / 'prod-a'."""
        clusters = ", ".join(
            v for e in self.expressions if e.key == CLUSTER_LABEL for v in e.values
        )
        models = ", ".join(v for e in self.expressions if e.key == MODEL_LABEL for v in e.values)
        if self.canary is True:
            return f"{clusters}, canary {models}"
        if self.canary is False:
            return f"{clusters}, after the canary"
        return clusters


def sync_steps(rollout: Rollout) -> tuple[SyncStep, ...]:
    """The RollingSync steps of a rollout, in order."""
    out: list[SyncStep] = []
    for step in rollout.steps:
        on = Expression(CLUSTER_LABEL, IN, step.clusters)
        if step.canary:
            out.append(
                SyncStep(
                    (on, Expression(MODEL_LABEL, IN, step.canary)),
                    step.max_update,
                    step.index,
                    True,
                )
            )
            out.append(
                SyncStep(
                    (on, Expression(MODEL_LABEL, NOT_IN, step.canary)),
                    step.max_update,
                    step.index,
                    False,
                )
            )
        else:
            out.append(SyncStep((on,), step.max_update, step.index, None))
    return tuple(out)


def app_labels(cluster: str, model: str) -> dict[str, str]:
    """The labels a generated model Application carries that steps select on."""
    return {CLUSTER_LABEL: cluster, MODEL_LABEL: model}


def selecting(steps: Sequence[SyncStep], labels: Mapping[str, str]) -> list[int]:
    """Indices of every step that selects an Application with these labels."""
    return [i for i, step in enumerate(steps) if step.selects(labels)]


def rollout_from(data: Mapping[str, object] | None) -> Rollout | None:
    """spec.rollout (schema-valid, defaults applied) as a Rollout."""
    if not data:
        return None
    steps = data.get("steps") or []
    assert isinstance(steps, list)
    return Rollout(
        progressive_syncs=bool(data.get("progressiveSyncs")),
        steps=tuple(
            Step(
                clusters=tuple(s.get("clusters") or ()),
                canary=tuple(s.get("canary") or ()),
                max_update=s.get("maxUpdate"),
                index=i,
            )
            for i, s in enumerate(steps)
        ),
    )
