"""`fleetgen validate --rendered`: render every app, validate schemas and CEL, link references.

Clusters are independent (every reference the linker follows stays inside one cluster), so
on a large fleet they are split into shards checked by forked worker processes, one per
core; the findings are the same as checking them in one process (a test holds it). For the
same reason a cluster whose inputs are unchanged since a recorded run reuses that run's
findings (`result_cache`): a one-file change re-checks only the clusters it touches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fleetgen.codes import diag
from fleetgen.core import parallel, progress
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain import layout
from fleetgen.kube.schema_store import SchemaStore, SchemaViolation
from fleetgen.loading.fleet import Fleet, placements
from fleetgen.render.fileplan import cluster_files
from fleetgen.render.model_app import render_app
from fleetgen.render.platform import render_platform
from fleetgen.rendered.build import RenderedObject, render_fleet
from fleetgen.rendered.committed import DriftedApp, committed_provenance, drifted_apps
from fleetgen.rendered.graph import graphs
from fleetgen.rendered.installed_endpoints import check_chart_pins, check_endpoints
from fleetgen.rendered.kserve_rules import check_kserve_rules
from fleetgen.rendered.linker import LinkContext, link
from fleetgen.rendered.llmisvc_links import link_llmisvc
from fleetgen.rendered.metric_semantics import check_semantics
from fleetgen.rendered.port_links import check_ports
from fleetgen.rendered.provenance import Provenance, provenance
from fleetgen.rendered.result_cache import ClusterFindings, cluster_keys, load, results_dir, save
from fleetgen.rendered.secret_stores import check_secret_stores
from fleetgen.rendered.selectors import check_selectors

_STORES: dict[tuple[tuple[str, ...], str], SchemaStore] = {}
# Below this many apps, starting worker processes costs more than it saves.
PARALLEL_FROM_APPS = 200


DEFAULT_KUBERNETES_VERSION = "1.32.0"


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


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything a shard needs (a forked worker inherits it; nothing is pickled)."""

    root: Path
    fleet: Fleet
    where: Provenance
    store: SchemaStore
    engine: str
    shards: list[list[str]]
    sizes: dict[str, int]  # cluster directory -> its app count, for progress


@dataclass(slots=True)
class _ClusterResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # api/kind -> (app, FG703) for the first object of a kind without a schema
    first_missing: dict[str, tuple[str, Diagnostic]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    objects: int = 0
    apps: int = 0


def validate_rendered(
    root: Path,
    fleet: Fleet,
    *,
    schema_dirs: Sequence[Path],
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    engine: str = "fast",
    jobs: int | None = None,
) -> RenderedResult:
    store = schema_store(schema_dirs, kubernetes_version)
    every = _cluster_sizes(fleet)
    directory = results_dir()
    keys = (
        cluster_keys(
            root,
            fleet,
            sorted(every),
            schema_dirs=schema_dirs,
            kubernetes_version=kubernetes_version,
            engine=engine,
        )
        if directory is not None
        else {}
    )
    reused: dict[str, ClusterFindings] = {}
    if directory is not None:
        for cluster in every:
            found = load(directory, keys[cluster])
            if found is not None:
                reused[cluster] = found
    clusters = {c: n for c, n in every.items() if c not in reused}
    workers = parallel.workers(
        jobs, size=sum(clusters.values()), threshold=PARALLEL_FROM_APPS, parts=len(clusters)
    )
    if workers > 1:
        _warm(root, fleet, store)
    job = _Job(
        root,
        fleet,
        provenance(root, fleet),
        store,
        engine,
        _shards(clusters, workers) if clusters else [],
        clusters,
    )
    progress.expect(sum(clusters.values()))
    shards = parallel.fork_map(partial(_check_shard, job), len(job.shards), processes=workers)
    fresh = {cluster: findings for shard in shards for cluster, findings in shard}
    if directory is not None:
        for cluster, findings in fresh.items():
            save(directory, keys[cluster], findings)
    result = _merge([{**fresh, **reused}[c] for c in sorted(every)], engine)
    # Per environment, not per cluster: URLs and namespaces against the pinned charts.
    result.diagnostics.extend(check_chart_pins(fleet))
    result.diagnostics.extend(check_endpoints(fleet))
    if reused:
        result.notes.append(
            f"{len(reused)} of {len(every)} clusters unchanged since a recorded run: "
            "their findings reused"
        )
    return result


def _warm(root: Path, fleet: Fleet, store: SchemaStore) -> None:
    """Before forking: parse the schemas and build validators, pre-checks and CEL programs
    for every kind one model app and one platform app render, so that every worker (a fresh
    fork per cluster) starts with them instead of building its own copy."""
    store.preload()
    first = next(iter(placements(fleet)), None)
    if first is None:
        return
    env, cluster = first.environment, first.cluster
    files = {
        **render_app(first),
        **render_platform(env, cluster, [first.descriptor.name], [first.vllm_version]),
    }
    sample = render_fleet(root, files, clusters=[layout.cluster_dir(env.name, cluster.name)])
    for obj in sample.objects:
        store.warm(str(obj.doc.get("apiVersion", "")), obj.kind)


def _cluster_sizes(fleet: Fleet) -> dict[str, int]:
    """Every cluster directory -> its app count (its models, plus its platform app)."""
    sizes = {
        layout.cluster_dir(env.name, cluster.name): 1
        for env in fleet.environments.values()
        for cluster in env.clusters
    }
    for p in placements(fleet):
        sizes[layout.cluster_dir(p.environment.name, p.cluster.name)] += 1
    return sizes


def _shards(clusters: dict[str, int], workers: int) -> list[list[str]]:
    """In one process, one shard of every cluster in order. Over workers, one shard per
    cluster, largest first: each runs in a fresh fork (memory: the clusters in flight), and
    the big ones start first so the cores stay busy to the end."""
    if workers <= 1:
        return [sorted(clusters)]
    return [[c] for c in sorted(clusters, key=lambda c: (-clusters[c], c))]


def _check_shard(job: _Job, index: int) -> list[tuple[str, ClusterFindings]]:
    """Check one shard's clusters one at a time (memory: one cluster's objects at once)."""
    found: list[tuple[str, ClusterFindings]] = []
    totals = job.store.cel_totals
    for cluster in job.shards[index]:
        result = _ClusterResult()
        # The store is shared within a process: count this cluster's CEL work as a difference.
        evaluated, skipped, not_evaluated = (
            totals.evaluated,
            totals.skipped_transition,
            Counter(totals.not_evaluated),
        )
        _check_cluster(job, cluster, result)
        found.append(
            (
                cluster,
                ClusterFindings(
                    diagnostics=tuple(result.diagnostics),
                    first_missing=dict(result.first_missing),
                    notes=tuple(result.notes),
                    objects=result.objects,
                    apps=result.apps,
                    cel_evaluated=totals.evaluated - evaluated,
                    cel_transition=totals.skipped_transition - skipped,
                    cel_not_evaluated=dict(totals.not_evaluated - not_evaluated),
                ),
            )
        )
    return found


def _check_cluster(job: _Job, cluster: str, result: _ClusterResult) -> None:
    """Render one cluster's apps, validate every object, link the cluster's graph."""
    _, env_name, cluster_name = cluster.split("/")
    files = cluster_files(job.fleet, env_name, cluster_name)  # planned here: memory per cluster
    drifted = drifted_apps(job.root, files)
    rendered = render_fleet(job.root, files, engine=job.engine, clusters=[cluster])
    del files  # the objects hold what is needed from here on
    result.apps += rendered.apps
    result.objects += len(rendered.objects)
    result.notes.extend(rendered.notes)
    where, store = job.where, job.store
    apps_done: set[str] = set()
    for app, message in rendered.failures:
        first = message.strip().splitlines()[-1] if message.strip() else "kustomize failed"
        result.diagnostics.append(
            diag(
                "FG700",
                f"kustomize cannot build {app}: {first}",
                Location(f"{app}/kustomization.yaml"),
            )
        )
    for obj in rendered.objects:
        if obj.app not in apps_done:  # objects come app by app: the one before is done
            if apps_done:
                progress.advance(1)
            apps_done.add(obj.app)
        api, kind = str(obj.doc.get("apiVersion", "")), obj.kind
        if store.validator_for(api, kind) is None:
            if f"{api}/{kind}" not in result.first_missing:
                result.first_missing[f"{api}/{kind}"] = (
                    obj.app,
                    diag(
                        "FG703",
                        f"no schema for {api}/{kind} ({obj.kind} {obj.name} in {obj.app})",
                        where.locate(obj),
                        hint="import its CRD with `fleetgen schemas import`",
                    ),
                )
            continue
        for violation in store.validate(obj.doc, cel=True):
            result.diagnostics.append(_diagnostic(violation, obj, where))
    result.diagnostics.extend(_linked(job, rendered.objects, where))
    progress.advance(job.sizes[cluster] - max(0, len(apps_done) - 1))
    if drifted:
        _check_committed(job, cluster, rendered.objects, drifted, result)


def _linked(job: _Job, objects: list[RenderedObject], where: Provenance) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for graph in graphs(objects):
        env = job.fleet.environments.get(graph.env)
        if env is not None:
            context = LinkContext(graph, env, where)
            found.extend(link(context))
            found.extend(link_llmisvc(context))
            found.extend(check_semantics(context))
            found.extend(check_ports(context))
            found.extend(check_selectors(context))
            found.extend(check_secret_stores(context))
            found.extend(check_kserve_rules(context))
    return found


def _check_committed(
    job: _Job,
    cluster: str,
    planned: list[RenderedObject],
    drifted: list[DriftedApp],
    result: _ClusterResult,
) -> None:
    """What Argo CD applies where the committed overlays are not the generator's: those
    apps built from the repository with kustomize, schema-checked and linked with the rest
    of the cluster. Findings the planned tree already has are reported once, where they are
    (the descriptor line); the rest are the committed edit's, located in the committed file."""
    files = {path: data for app in drifted for path, data in app.files.items()}
    built = render_fleet(job.root, files, engine="kustomize", clusters=[cluster])
    names = {app.app for app in drifted}
    where = committed_provenance(job.root, job.fleet, drifted)
    found: list[Diagnostic] = []
    first = {app.app: app.first_difference for app in drifted}
    for app, message in built.failures:
        last = message.strip().splitlines()[-1] if message.strip() else "kustomize failed"
        found.append(
            diag("FG700", f"kustomize cannot build {app} as committed: {last}", first[app])
        )
    for obj in built.objects:
        if job.store.validator_for(str(obj.doc.get("apiVersion", "")), obj.kind) is not None:
            found.extend(_diagnostic(v, obj, where) for v in job.store.validate(obj.doc, cel=True))
    objects = sorted([o for o in planned if o.app not in names] + built.objects, key=_app_of)
    found.extend(_linked(job, objects, where))
    seen = {(d.code, d.message) for d in result.diagnostics}
    result.diagnostics.extend(d for d in found if (d.code, d.message) not in seen)
    result.notes.append(
        f"{cluster}: {len(drifted)} app(s) differ from what fleetgen generates "
        "(validated as committed, with kustomize): " + ", ".join(sorted(names))
    )


def _app_of(obj: RenderedObject) -> str:
    return obj.app


# Which check of SchemaStore.validate found a violation -> its diagnostic code.
_CODES = {
    "schema": "FG701",
    "cel": "FG702",
    "list-type": "FG715",
    "metadata": "FG716",
    "defaulted": "FG717",
    "embedded-resource": "FG718",
    "crd-cel-cost": "FG790",
}


def _diagnostic(violation: SchemaViolation, obj: RenderedObject, where: Provenance) -> Diagnostic:
    message = f"{obj.kind} {obj.name}: {violation.path or '/'}: {violation.message}"
    if violation.expression:
        message += f" (rule: {violation.expression})"
    code = _CODES.get(violation.rule, "FG701")
    return diag(code, message, where.locate(obj, violation.path))


def _merge(parts: list[ClusterFindings], engine: str) -> RenderedResult:
    result = RenderedResult()
    first_missing: dict[str, tuple[str, Diagnostic]] = {}
    for part in parts:
        result.diagnostics.extend(part.diagnostics)
        for kind, found in part.first_missing.items():
            # Apps render in sorted order: the smallest app is the first in the whole fleet.
            if kind not in first_missing or found[0] < first_missing[kind][0]:
                first_missing[kind] = found
    result.diagnostics.extend(first_missing[kind][1] for kind in sorted(first_missing))
    objects, apps = sum(p.objects for p in parts), sum(p.apps for p in parts)
    result.notes.append(
        f"rendered {objects} objects from {apps} apps ({engine}"
        + (
            ", first app of every cluster cross-checked with kustomize)"
            if engine == "fast"
            else ")"
        )
    )
    for part in parts:
        result.notes.extend(part.notes)
    missed: Counter[str] = Counter()
    for part in parts:
        missed.update(part.cel_not_evaluated)
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(missed.items()))
    result.notes.append(
        f"CEL rules: {sum(p.cel_evaluated for p in parts)} evaluated, "
        f"{sum(missed.values())} not evaluated ({reasons or 'none'}), "
        f"{sum(p.cel_transition for p in parts)} transition rules skipped"
    )
    return result
