"""Compare two revisions of a fleet: which apps appear, change or go, and what it means.

Pure functions over two loaded fleets and their file plans; rendering manifests for the
diffs is the caller's job (it needs kustomize and files on disk).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain import layout, naming
from fleetgen.domain.fitting import fit_placement
from fleetgen.domain.ledger import build_ledger
from fleetgen.domain.placement import Placement
from fleetgen.loading.fleet import Fleet, placements
from fleetgen.render.fileplan import FilePlan
from fleetgen.review.capacity_notes import cost_notes, failure_budget_notes
from fleetgen.review.serving_notes import serving_api_notes

DEFAULT_MAX_DROP = 0.25


@dataclass(frozen=True, slots=True, order=True)
class AppKey:
    env: str
    cluster: str
    model: str

    @property
    def directory(self) -> str:
        return layout.app_dir(self.env, self.cluster, self.model)

    @property
    def name(self) -> str:
        return naming.app_name(self.env, self.cluster, self.model)


def apps_of(fleet: Fleet) -> dict[AppKey, Placement]:
    return {
        AppKey(p.environment.name, p.cluster.name, p.descriptor.name): p for p in placements(fleet)
    }


def app_files(plan: FilePlan, key: AppKey) -> dict[str, bytes]:
    prefix = key.directory + "/"
    return {k: v for k, v in plan.files.items() if k.startswith(prefix)}


@dataclass(frozen=True, slots=True)
class AppDelta:
    added: tuple[AppKey, ...]
    removed: tuple[AppKey, ...]
    kept: tuple[AppKey, ...]


def app_delta(base: Fleet, head: Fleet) -> AppDelta:
    before, after = set(apps_of(base)), set(apps_of(head))
    return AppDelta(
        tuple(sorted(after - before)), tuple(sorted(before - after)), tuple(sorted(before & after))
    )


# --- deletion guard --------------------------------------------------------------------


def _explicitly_retired(head: Fleet, key: AppKey) -> bool:
    desc = head.descriptor(key.model)
    if desc is None or key.env not in desc.environments:
        return False
    return not desc.active_in(key.env)


def _where_removed(base: Fleet, head: Fleet, key: AppKey) -> Location:
    desc = head.descriptor(key.model)
    if desc is None:
        old = base.descriptor(key.model)
        return Location(old.source.path if old else f"fleet/{key.model}.yaml")
    if key.env in desc.environments:
        override = desc.environments[key.env]
        if override.clusters is not None:
            return desc.source.at("spec", "environments", key.env, "clusters")
        env = head.environments.get(key.env)
        if env is not None:
            return env.source.at("spec", "clusters")
        return desc.source.key_at("spec", "environments", key.env)
    return desc.source.at("spec", "environments")


def deletion_guard(
    base: Fleet, head: Fleet, *, max_drop: float = DEFAULT_MAX_DROP
) -> Iterator[Diagnostic]:
    """FG801: apps may only disappear by retirement; FG802: no mass deletion."""
    delta = app_delta(base, head)
    for key in delta.removed:
        if _explicitly_retired(head, key):
            continue
        yield diag(
            "FG801",
            f"app {key.name} would be deleted without being retired first",
            _where_removed(base, head, key),
            hint=f"first set lifecycle: retired (for the model, or under environments.{key.env}) "
            "and merge; delete the entry in a later change",
        )
    total = len(apps_of(base))
    dropped = total - len(apps_of(head))
    if total and dropped > max(2, max_drop * total):
        yield diag(
            "FG802",
            f"the number of generated apps drops from {total} to {total - dropped} "
            f"(more than {max_drop:.0%})",
            Location(layout.GENERATED_ROOT),
            hint="if this is intended, rerun with a larger --max-drop",
        )


# --- reviewer notes ----------------------------------------------------------------------


def _pool_usage(fleet: Fleet) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    ledger = build_ledger(placements(fleet))
    return {
        (p.environment, p.cluster, p.pool): (p.min_gpus, p.max_gpus, p.capacity)
        for p in ledger.pools
    }


def notes(base: Fleet, head: Fleet) -> list[str]:
    """What a reviewer should know, one sentence each, model by model."""
    out: list[str] = []
    base_models = {d.name: d for d in base.descriptors}
    head_models = {d.name: d for d in head.descriptors}
    for name in sorted(head_models.keys() - base_models.keys()):
        out.append(f"{name}: new model in {', '.join(sorted(head_models[name].environments))}")
    for name in sorted(base_models.keys() - head_models.keys()):
        out.append(f"{name}: descriptor deleted")
    for name in sorted(base_models.keys() & head_models.keys()):
        old, new = base_models[name], head_models[name]
        if old.lifecycle != new.lifecycle:
            out.append(f"{name}: lifecycle {old.lifecycle} → {new.lifecycle}")
        if old.model.served_name != new.model.served_name:
            out.append(
                f"{name}: served name changed {old.model.served_name!r} → "
                f"{new.model.served_name!r}: clients calling the old name will get 404"
            )
        for alias in sorted(set(old.served_names) - set(new.served_names)):
            if alias != old.model.served_name:
                out.append(f"{name}: alias {alias!r} removed: clients using it will get 404")
        o, n = old.runtime, new.runtime
        if (o.tensor_parallel, o.pipeline_parallel) != (n.tensor_parallel, n.pipeline_parallel):
            out.append(
                f"{name}: tensor parallel {o.tensor_parallel} → {n.tensor_parallel}"
                + (
                    f", pipeline {o.pipeline_parallel} → {n.pipeline_parallel}"
                    if o.pipeline_parallel != n.pipeline_parallel
                    else ""
                )
                + f": GPUs per replica {old.resources.gpus_per_replica} → "
                f"{new.resources.gpus_per_replica}"
            )
        if o.image != n.image:
            out.append(f"{name}: runtime image {o.image} → {n.image}")
        if o.max_model_len != n.max_model_len:
            out.append(f"{name}: max model length {o.max_model_len} → {n.max_model_len}")
        for env in sorted(set(old.environments) | set(new.environments)):
            if env not in new.environments:
                out.append(f"{name}: removed from {env}")
            elif env not in old.environments:
                out.append(f"{name}: added to {env}")
    out.extend(serving_api_notes(apps_of(base), apps_of(head)))
    out.extend(_ledger_notes(base, head))
    out.extend(cost_notes(base, head))
    out.extend(failure_budget_notes(base, head))
    out.extend(_fit_notes(base, head))
    return out


def _ledger_notes(base: Fleet, head: Fleet) -> Iterator[str]:
    before, after = _pool_usage(base), _pool_usage(head)
    for pool in sorted(before.keys() | after.keys()):
        b_min, b_max, cap = before.get(pool, (0, 0, 0))
        a_min, a_max, a_cap = after.get(pool, (0, 0, 0))
        cap = a_cap or cap
        if (b_min, b_max) != (a_min, a_max):
            where = "/".join(pool)
            yield (
                f"{where} ledger: at min scale {b_min} → {a_min}, at max scale {b_max} → "
                f"{a_max} of {cap} GPUs" + (" (over capacity)" if a_max > cap else "")
            )


def _fit_notes(base: Fleet, head: Fleet) -> Iterator[str]:
    before: Mapping[AppKey, Placement] = apps_of(base)
    for key, p in sorted(apps_of(head).items()):
        old = before.get(key)
        new_fit = fit_placement(p)
        old_fit = fit_placement(old) if old is not None else None
        if new_fit is None or old_fit is None:
            continue
        a, b = old_fit.result, new_fit.result
        if (a.starts, round(a.max_full_length_sequences)) != (
            b.starts,
            round(b.max_full_length_sequences),
        ):
            yield (
                f"{key.name}: KV cache holds {a.max_full_length_sequences:.1f} → "
                f"{b.max_full_length_sequences:.1f} full-length sequences"
                + ("" if b.starts else " (vLLM would not start)")
            )
