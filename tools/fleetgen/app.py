"""Use cases behind the CLI. Nothing here prints; results are returned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fleetgen.core.diagnostics import Diagnostic, Report, Severity
from fleetgen.core.errors import UsageError

if TYPE_CHECKING:
    from fleetgen.authoring.init import InitOptions
    from fleetgen.domain.fitting import PlacementFit
    from fleetgen.domain.ledger import Ledger
    from fleetgen.loading.fleet import Fleet
    from fleetgen.render.writer import Changes
    from fleetgen.review.run import PlanResult


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    root: Path
    paths: tuple[Path, ...] = ()
    base: str | None = None  # also run the deletion guard against this revision
    max_drop: float = 0.25
    rendered: bool = False  # also render every app and validate what Argo CD will apply
    in_sync: bool = False  # also require the committed generated files to match (FG714)
    schema_dirs: tuple[Path, ...] = ()  # default: the repository's configured schema dir
    renderer: str = "fast"  # or "kustomize" for every app


def _relative(root: Path, paths: Sequence[Path]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        full = path if path.is_absolute() else Path.cwd() / path
        if not full.exists():
            raise UsageError(f"{path}: no such file")
        try:
            out.add(full.resolve().relative_to(root).as_posix())
        except ValueError as exc:
            raise UsageError(f"{path}: not inside the repository {root}") from exc
    return out


def validate(options: ValidateOptions) -> Report:
    """Lint the repository: load, schema, cross-file checks.

    With paths, only diagnostics located in those files are reported, but the checks still
    see the whole fleet, so cross-references from and to those files are verified.
    """
    from fleetgen.checks import run_checks

    root = options.root.resolve()
    if not root.is_dir():
        raise UsageError(f"{options.root}: not a directory")
    wanted = _relative(root, options.paths)
    # Rendering and the revision checks need every descriptor in full, not its footprint.
    lean = not (options.rendered or options.in_sync or options.base is not None)
    fleet, diags = _load(root, focus=frozenset(wanted) if wanted else None, lean=lean)
    diags.extend(run_checks(fleet))
    if options.base is not None:
        diags.extend(_deletion_guard(root, fleet, options.base, options.max_drop))
    notes: list[str] = []
    fleet_ok = not any(d.severity is Severity.ERROR for d in diags)
    if options.in_sync and fleet_ok:
        diags.extend(_drift(root, fleet))
    if options.rendered and fleet_ok:
        from fleetgen.loading.config import load_config
        from fleetgen.rendered.validate import validate_rendered

        dirs = options.schema_dirs or (load_config(root).schema_dir,)
        for directory in dirs:
            if not directory.exists():
                raise UsageError(
                    f"schema directory {directory} does not exist "
                    "(create it with `fleetgen schemas import`, or pass --schema-dir)"
                )
        result = validate_rendered(root, fleet, schema_dirs=dirs, engine=options.renderer)
        diags.extend(result.diagnostics)
        notes.extend(result.notes)
        diags.extend(_entry_points(fleet, dirs, notes))
        diags.extend(_patch_landings(root, fleet))
        if options.in_sync:
            diags.extend(_argocd(root, fleet, notes))
    elif options.rendered:
        notes.append("rendered manifests not checked: fix the errors above first")
    if fleet.focus is not None:
        diags = [d for d in diags if d.location.file in fleet.focus]
    return Report.of(diags, notes)


def _entry_points(fleet: Fleet, dirs: Sequence[Path], notes: list[str]) -> list[Diagnostic]:
    """The Argo CD objects the root Application applies, and the bootstrap, strictly."""
    from fleetgen.render.fileplan import build_plan
    from fleetgen.rendered.entry_points import check_entry_points, entry_point_files
    from fleetgen.rendered.validate import DEFAULT_KUBERNETES_VERSION, schema_store

    files = build_plan(fleet).files
    found = check_entry_points(files, schema_store(dirs, DEFAULT_KUBERNETES_VERSION))
    notes.append(f"Argo CD objects: {len(entry_point_files(files))} entry-point file(s) checked")
    return found


def _patch_landings(root: Path, fleet: Fleet) -> list[Diagnostic]:
    """FG970, FG931: the overlays' patches still find their base objects and items."""
    from fleetgen.render.fileplan import build_plan
    from fleetgen.rendered.patch_landing import check_patch_landings
    from fleetgen.rendered.patch_targets import check_patch_targets

    files = build_plan(fleet).files
    return check_patch_landings(root, files) + check_patch_targets(root, files)


def _argocd(root: Path, fleet: Fleet, notes: list[str]) -> list[Diagnostic]:
    """The committed tree as Argo CD reads it: ApplicationSets expanded, then FG720-FG732,
    FG932, FG933 and FG963."""
    from fleetgen.argocd.orphans import check_orphans
    from fleetgen.argocd.run import check_repository, repository_urls
    from fleetgen.render.fileplan import build_plan

    result = check_repository(root, repository_urls(fleet))
    notes.extend(result.notes)
    orphans = check_orphans(result.snapshot, set(build_plan(fleet).files))
    return [*result.diagnostics, *orphans]


def _drift(root: Path, fleet: Fleet) -> list[Diagnostic]:
    from fleetgen.codes import diag
    from fleetgen.core.diagnostics import Location
    from fleetgen.render.fileplan import build_plan
    from fleetgen.render.writer import compute_changes
    from fleetgen.rendered.committed import first_difference

    desired = build_plan(fleet).with_manifest()
    changes = compute_changes(root, desired)

    def where(path: str) -> Location:
        """An updated file: its first line that differs from what fleetgen writes."""
        if path not in changes.changed:
            return Location(path)
        return first_difference(path, (root / path).read_bytes(), desired[path])

    return [
        diag(
            "FG714",
            f"{line}: generated files are out of date",
            where(line.split()[1]),
            hint="run `fleetgen generate` and commit the result",
        )
        for line in changes.lines()
    ]


def _deletion_guard(root: Path, fleet: Fleet, base: str, max_drop: float) -> list[Diagnostic]:
    import tempfile

    from fleetgen.core.gitref import export_revision
    from fleetgen.loading.config import CONFIG_FILE
    from fleetgen.loading.load import load_fleet
    from fleetgen.review.compare import deletion_guard

    with tempfile.TemporaryDirectory(prefix="fleetgen-rev-") as tmp:
        base_fleet, _ = load_fleet(export_revision(root, base, Path(tmp), files=(CONFIG_FILE,)))
    return list(deletion_guard(base_fleet, fleet, max_drop=max_drop))


def select(report: Report, codes: Sequence[str]) -> tuple[Diagnostic, ...]:
    """Diagnostics of the given codes (for tests and tools)."""
    return tuple(d for d in report.diagnostics if d.code in codes)


def _load(
    root: Path, *, focus: frozenset[str] | None = None, lean: bool = False
) -> tuple[Fleet, list[Diagnostic]]:
    from fleetgen.loading.load import load_fleet

    root = root.resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    return load_fleet(root, focus=focus, lean=lean)


def capacity(root: Path, env: str | None) -> tuple[Ledger, list[Diagnostic]]:
    """The capacity ledger of the fleet (optionally one environment), and load problems."""
    from fleetgen.domain.ledger import build_ledger
    from fleetgen.loading.fleet import placements

    fleet, problems = _load(root)
    if env is not None and env not in fleet.environments:
        raise UsageError(f"unknown environment {env!r}; known: {', '.join(fleet.environments)}")
    import dataclasses

    from fleetgen.domain.cost import environment_costs
    from fleetgen.domain.resilience import losses

    chosen = (p for p in placements(fleet) if env is None or p.environment.name == env)
    envs = [e for name, e in sorted(fleet.environments.items()) if env is None or name == env]
    index = fleet.footprints()
    ledger = dataclasses.replace(
        build_ledger(chosen),
        costs=tuple(c for e in envs for c in environment_costs(e, index.demands(e.name))),
        losses=tuple(loss for e in envs for loss in losses(e, index.demands(e.name))),
    )
    return ledger, [d for d in problems if d.severity is Severity.ERROR]


def fit(root: Path, model: str, env: str | None) -> list[PlacementFit]:
    """The memory fit of one model on each distinct pool it is placed on."""
    from fleetgen.domain.fitting import fit_placement
    from fleetgen.loading.fleet import placements

    fleet, _ = _load(root)
    desc = fleet.descriptor(model)
    if desc is None:
        raise UsageError(f"no valid descriptor for model {model!r} (run `fleetgen validate`)")
    if env is not None and env not in desc.environments:
        raise UsageError(f"model {model!r} is not deployed to {env!r}")
    out: dict[tuple[str, str], PlacementFit] = {}
    for p in placements(fleet, include_retired=True):
        if p.descriptor is not desc or (env is not None and p.environment.name != env):
            continue
        fitted = fit_placement(p)
        if fitted is not None:
            out.setdefault((p.environment.name, fitted.gpu.id), fitted)
    return list(out.values())


@dataclass(frozen=True, slots=True)
class GenerateResult:
    report: Report
    changes: Changes | None  # None when validation errors stopped generation


def generate(root: Path, *, write: bool) -> GenerateResult:
    """Validate, render the whole fleet and (with `write`) apply it atomically."""
    from fleetgen.checks import run_checks
    from fleetgen.domain import layout
    from fleetgen.render import stamp
    from fleetgen.render.fileplan import build_plan
    from fleetgen.render.writer import Changes, apply, compute_changes, settle

    root = root.resolve()
    digest = stamp.inputs_digest(root)  # before loading: an edit during the run re-renders
    fleet, diags = _load(root)
    diags.extend(run_checks(fleet))
    report = Report.of(diags)
    if not report.ok:
        return GenerateResult(report, None)
    if write:
        settle(root)  # a crashed run's leftovers: the shortcut below would skip apply()
    if stamp.tree_is_current(root, digest):
        return GenerateResult(report, Changes())
    desired = build_plan(fleet).with_manifest()
    changes = apply(root, desired) if write else compute_changes(root, desired)
    if write or changes.empty:
        stamp.record(root, digest, desired[layout.MANIFEST])
    return GenerateResult(report, changes)


def init(options: InitOptions) -> list[str]:
    """A new fleet repository, its generated tree included (see authoring.init)."""
    from fleetgen.authoring.init import init_repository
    from fleetgen.report.reporters import text

    def generate_tree(root: Path) -> str | None:
        result = generate(root, write=True)
        return None if result.changes is not None else text(result.report)

    return init_repository(options, generate_tree)


def render(root: Path, model: str, env: str, cluster: str | None) -> str:
    """The final manifests of one app, built by the real kustomize from the current plan."""
    import tempfile

    from fleetgen.kube.kustomize import build
    from fleetgen.loading.fleet import placements
    from fleetgen.render.model_app import render_app

    root = root.resolve()
    fleet, _ = _load(root)
    if fleet.descriptor(model) is None:
        raise UsageError(f"no valid descriptor for model {model!r} (run `fleetgen validate`)")
    found = [
        p
        for p in placements(fleet)
        if p.descriptor.name == model
        and p.environment.name == env
        and (cluster is None or p.cluster.name == cluster)
    ]
    if not found:
        raise UsageError(
            f"model {model!r} has no app in {env!r}" + (f"/{cluster}" if cluster else "")
        )
    files = render_app(found[0])
    with tempfile.TemporaryDirectory(prefix="fleetgen-render-") as tmp:
        scratch = Path(tmp)
        # The overlay refers to base/ by a relative path: mirror the layout around it.
        (scratch / "base").symlink_to(root / "base", target_is_directory=True)
        app_dir = scratch
        for path, data in files.items():
            dest = scratch / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            app_dir = dest.parent
        return build(app_dir)


def plan(root: Path, base: str, head: str | None, *, max_drop: float) -> PlanResult:
    """Offline plan between two revisions (head None = the work tree)."""
    import tempfile

    from fleetgen.core.gitref import export_revision
    from fleetgen.loading.config import CONFIG_FILE
    from fleetgen.review.run import compare

    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="fleetgen-rev-") as tmp:
        config = (CONFIG_FILE,)  # the root Application and repository settings
        base_root = export_revision(root, base, Path(tmp) / "base", files=config)
        head_root = (
            root if head is None else export_revision(root, head, Path(tmp) / "head", files=config)
        )
        return compare(base_root, head_root, max_drop=max_drop, labels=(base, head or "work tree"))
