"""FG436-FG441: an environment's progressive rollout is one Argo CD can run.

The generated Applications (every active placement of the environment, with the labels the
ApplicationSet template gives them) are matched against the generated RollingSync steps
with Argo CD's own selection rules (domain/rollout.py): each must fall in exactly one step,
no step may select nothing, the steps may name only clusters and models the environment
has, and the environment must declare that its Argo CD runs progressive syncs at all.
Every finding is located in the environment file, where the rollout is declared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain import naming
from fleetgen.domain.environment import Environment
from fleetgen.domain.rollout import Rollout, Step, SyncStep, app_labels, selecting, sync_steps
from fleetgen.loading.fleet import Fleet, placements

STEPS = ("spec", "rollout", "steps")


def _names(items: list[str]) -> str:
    return ", ".join(sorted(items))


def _step_at(step: Step, *rest: str | int) -> tuple[str | int, ...]:
    return (*STEPS, step.index, *rest)


def check_rollout(fleet: Fleet) -> Iterator[Diagnostic]:
    apps: dict[str, list[tuple[str, str]]] = defaultdict(list)  # env -> (cluster, model)
    for p in placements(fleet):
        apps[p.environment.name].append((p.cluster.name, p.descriptor.name))
    for env in sorted(fleet.environments.values(), key=lambda e: e.name):
        if env.rollout is not None:
            yield from _check(env, env.rollout, sorted(set(apps[env.name])))


def _check(env: Environment, plan: Rollout, apps: list[tuple[str, str]]) -> Iterator[Diagnostic]:
    src = env.source
    if not plan.progressive_syncs:
        declared = "progressiveSyncs" in (src.data.get("spec", {}).get("rollout") or {})
        yield diag(
            "FG439",
            f"environment {env.name} rolls out in steps, but does not declare that its Argo CD "
            "runs progressive syncs: they are off by default, and then the ApplicationSet "
            "controller syncs none of the rollout's Applications",
            src.at("spec", "rollout", "progressiveSyncs")
            if declared
            else src.key_at("spec", "rollout"),
            hint='set applicationsetcontroller.enable.progressive.syncs: "true" in '
            "argocd-cmd-params-cm, then declare rollout.progressiveSyncs: true",
        )
    clusters = {c.name for c in env.clusters}
    models = {m for _, m in apps}
    unknown_steps: set[int] = set()
    for step in plan.steps:
        for j, name in enumerate(step.clusters):
            if name not in clusters:
                yield diag(
                    "FG440",
                    f"rollout step {step.index + 1} names cluster {name!r}, which environment "
                    f"{env.name} does not have (clusters: {_names(list(clusters))})",
                    src.at(*_step_at(step, "clusters", j)),
                    hint="name a cluster of spec.clusters",
                )
        if step.clusters and not set(step.clusters) & clusters:
            unknown_steps.add(step.index)
        for j, name in enumerate(step.canary):
            if name not in models:
                yield diag(
                    "FG441",
                    f"rollout step {step.index + 1} names canary model {name!r}, which does not "
                    f"run in environment {env.name}",
                    src.at(*_step_at(step, "canary", j)),
                    hint="name a model (metadata.name of a descriptor) active in this environment",
                )
    steps = sync_steps(plan)
    selected: dict[int, list[tuple[str, str]]] = defaultdict(list)
    unmatched: dict[str, list[str]] = defaultdict(list)
    twice: dict[tuple[int, int, str], list[str]] = defaultdict(list)
    for cluster, model in apps:
        found = selecting(steps, app_labels(cluster, model))
        for i in found:
            selected[i].append((cluster, model))
        if not found:
            unmatched[cluster].append(model)
        for later in found[1:]:
            if steps[later].declared != steps[found[0]].declared:
                twice[(steps[found[0]].declared, steps[later].declared, cluster)].append(model)
    for cluster, names in sorted(unmatched.items()):
        yield diag(
            "FG436",
            f"{len(names)} model app(s) of cluster {cluster} fall in no rollout step "
            f"({_names([naming.app_name(env.name, cluster, m) for m in names])}): "
            "Argo CD's rollout never syncs them",
            src.key_at(*STEPS),
            hint=f"add {cluster} to one rollout step",
        )
    for (first, later, cluster), names in sorted(twice.items()):
        step = plan.steps[later]
        yield diag(
            "FG437",
            f"{len(names)} model app(s) of cluster {cluster} fall in rollout steps {first + 1} "
            f"and {later + 1} ({_names([naming.app_name(env.name, cluster, m) for m in names])}): "
            "Argo CD syncs an Application in the first step that selects it, so the later "
            "step does not hold them back",
            src.at(*_step_at(step, "clusters", step.clusters.index(cluster))),
            hint=f"name {cluster} in one step only (its canary models go first within it)",
        )
    for i, sync in enumerate(steps):
        if selected.get(i):
            continue
        yield from _empty(env, plan.steps[sync.declared], sync, steps, i, unknown_steps, models)


def _label(steps: tuple[SyncStep, ...], index: int) -> str:
    """A generated step as people declared it: its number in spec.rollout.steps, and what
    it selects (a canary and the rest after it share the declared step's number)."""
    what = steps[index].describe()
    return f"{steps[index].declared + 1}" + (f" ({what})" if what else "")


def _empty(
    env: Environment,
    step: Step,
    sync: SyncStep,
    steps: tuple[SyncStep, ...],
    index: int,
    unknown_steps: set[int],
    models: set[str],
) -> Iterator[Diagnostic]:
    if step.index in unknown_steps:
        return  # its clusters are unknown (FG440)
    if sync.canary is True and not set(step.canary) & models:
        return  # its canary models are unknown (FG441)
    src = env.source
    if not step.clusters:
        why, at, hint = "names no cluster", ("clusters",), "name the clusters of this step"
    elif sync.canary is True:
        why = f"has no canary app: {_names(list(step.canary))} run(s) on none of its clusters"
        at, hint = ("canary",), "name canary models the descriptors place on these clusters"
    elif sync.canary is False:
        why = "has nothing left after the canary: the canary names every model of its clusters"
        at, hint = ("canary",), "keep at least one model out of the canary, or drop the canary"
    else:
        why = "selects no model app: no model runs on its clusters"
        at, hint = ("clusters",), "drop the step, or place models on its clusters"
    yield diag(
        "FG438",
        f"rollout step {_label(steps, index)} of environment {env.name} {why}",
        src.key_at(*_step_at(step, *at)),
        hint=hint,
    )
