"""`fleetgen validate --rendered`: render every app, validate schemas and CEL, link references."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location
from fleetgen.kube.schema_store import SchemaStore
from fleetgen.loading.fleet import Fleet
from fleetgen.render.plan import build_plan
from fleetgen.rendered.build import render_fleet
from fleetgen.rendered.graph import graphs
from fleetgen.rendered.linker import LinkContext, link
from fleetgen.rendered.provenance import provenance

_STORES: dict[tuple[tuple[str, ...], str], SchemaStore] = {}


def schema_store(schema_dirs: Sequence[Path], kubernetes_version: str) -> SchemaStore:
    """One store per schema set and process: validators and CEL programs are built once."""
    key = (tuple(str(Path(d).resolve()) for d in schema_dirs), kubernetes_version)
    if key not in _STORES:
        _STORES[key] = SchemaStore.load(list(schema_dirs), kubernetes_version=kubernetes_version)
    return _STORES[key]


@dataclass(slots=True)
class RenderedResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def validate_rendered(
    root: Path,
    fleet: Fleet,
    *,
    schema_dirs: Sequence[Path],
    kubernetes_version: str = "1.32.0",
    engine: str = "fast",
) -> RenderedResult:
    result = RenderedResult()
    plan = build_plan(fleet)
    rendered = render_fleet(root, plan.files, engine=engine)
    where = provenance(root, fleet)
    for app, message in rendered.failures:
        first = message.strip().splitlines()[-1] if message.strip() else "kustomize failed"
        result.diagnostics.append(
            diag(
                "FG700",
                f"kustomize cannot build {app}: {first}",
                Location(f"{app}/kustomization.yaml"),
            )
        )
    store = schema_store(schema_dirs, kubernetes_version)
    totals = store.cel_totals
    # The store is shared within a process: count this run's CEL work as a difference.
    evaluated, skipped, not_evaluated = (
        totals.evaluated,
        totals.skipped_transition,
        Counter(totals.not_evaluated),
    )
    missing: Counter[str] = Counter()
    for obj in rendered.objects:
        api, kind = str(obj.doc.get("apiVersion", "")), obj.kind
        if store.validator_for(api, kind) is None:
            missing[f"{api}/{kind}"] += 1
            if missing[f"{api}/{kind}"] == 1:
                result.diagnostics.append(
                    diag(
                        "FG703",
                        f"no schema for {api}/{kind} ({obj.kind} {obj.name} in {obj.app})",
                        where.locate(obj),
                        hint="import its CRD with `fleetgen schemas import`",
                    )
                )
            continue
        for violation in store.validate(obj.doc):
            result.diagnostics.append(
                diag(
                    "FG701",
                    f"{kind} {obj.name}: {violation.path or '/'}: {violation.message}",
                    where.locate(obj, violation.path),
                )
            )
        report = store.cel_report(obj.doc)
        for broken in report.violations if report else ():
            result.diagnostics.append(
                diag(
                    "FG702",
                    f"{kind} {obj.name}: {broken.path or '/'}: {broken.message} (rule: {broken.rule})",
                    where.locate(obj, broken.path),
                )
            )
    for graph in graphs(rendered.objects):
        env = fleet.environments.get(graph.env)
        if env is not None:
            result.diagnostics.extend(link(LinkContext(graph, env, where)))
    result.notes.append(
        f"rendered {len(rendered.objects)} objects from {rendered.apps} apps ({engine}"
        + (
            ", first app of every cluster cross-checked with kustomize)"
            if engine == "fast"
            else ")"
        )
    )
    result.notes.extend(rendered.notes)
    missed = totals.not_evaluated - not_evaluated
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(missed.items()))
    result.notes.append(
        f"CEL rules: {totals.evaluated - evaluated} evaluated, "
        f"{sum(missed.values())} not evaluated ({reasons or 'none'}), "
        f"{totals.skipped_transition - skipped} transition rules skipped"
    )
    return result
