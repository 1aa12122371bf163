"""`fleetgen plan`: render both revisions offline and diff the apps that differ."""

from __future__ import annotations

import difflib
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.argocd.run import repository_urls
from fleetgen.core import progress
from fleetgen.core.diagnostics import Report
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import FilePlan, build_plan
from fleetgen.review.argo_apps import ArgoAppChange, application_changes, expanded_applications
from fleetgen.review.compare import (
    AppKey,
    app_delta,
    app_files,
    apps_of,
    deletion_guard,
    notes,
)
from fleetgen.review.rollout_order import RolloutOrder, rollout_orders
from fleetgen.review.serving_notes import recreate_notes


@dataclass(frozen=True, slots=True)
class AppDiff:
    key: AppKey
    status: str  # added | removed | changed
    diff: str


@dataclass(frozen=True, slots=True)
class PlanResult:
    base: str
    head: str
    apps: tuple[AppDiff, ...]
    notes: tuple[str, ...]
    report: Report
    applications: tuple[ArgoAppChange, ...] = ()  # the expanded Argo CD Applications that differ
    rollout: tuple[RolloutOrder, ...] = ()  # per environment with steps: which apps sync when


def _tree_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _materialize(plan: FilePlan, root: Path) -> None:
    for path, data in plan.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _render(root: Path, key: AppKey) -> str:
    from fleetgen.kube.kustomize import build

    return build(root / key.directory)


def _docs(text: str, key: AppKey) -> list[dict[str, Any]]:
    from fleetgen.kube.manifests import load_manifests

    return load_manifests(text, source=key.directory)


def _diff(old: str, new: str, key: AppKey) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{key.name}",
        tofile=f"b/{key.name}",
    )
    return "".join(lines)


def compare(
    base_root: Path, head_root: Path, *, max_drop: float, labels: tuple[str, str]
) -> PlanResult:
    """Plan from two directories that each hold fleet/, environments/ and base/."""
    from fleetgen.checks import run_checks

    base_fleet, _ = load_fleet(base_root)
    head_fleet, head_diags = load_fleet(head_root)
    head_diags.extend(run_checks(head_fleet))
    head_diags.extend(deletion_guard(base_fleet, head_fleet, max_drop=max_drop))
    base_plan, head_plan = build_plan(base_fleet), build_plan(head_fleet)
    with tempfile.TemporaryDirectory(prefix="fleetgen-plan-") as tmp:
        trees = {}
        for label, source, plan in (("a", base_root, base_plan), ("b", head_root, head_plan)):
            tree = Path(tmp) / label
            tree.mkdir()
            (tree / "base").symlink_to((source / "base").resolve(), target_is_directory=True)
            _materialize(plan, tree)
            trees[label] = tree
        same_base = _tree_hash(base_root / "base") == _tree_hash(head_root / "base")
        delta = app_delta(base_fleet, head_fleet)
        progress.expect(len(delta.added) + len(delta.removed) + len(delta.kept))
        diffs = [AppDiff(k, "added", _diff("", _render(trees["b"], k), k)) for k in delta.added]
        diffs += [
            AppDiff(k, "removed", _diff(_render(trees["a"], k), "", k)) for k in delta.removed
        ]
        progress.advance(len(delta.added) + len(delta.removed))
        recreates: list[str] = []
        for key in delta.kept:
            progress.advance(1)
            if same_base and app_files(base_plan, key) == app_files(head_plan, key):
                continue
            old, new = _render(trees["a"], key), _render(trees["b"], key)
            text = _diff(old, new, key)
            if text:
                diffs.append(AppDiff(key, "changed", text))
                recreates.extend(recreate_notes(key.name, _docs(old, key), _docs(new, key)))
        urls = repository_urls(base_fleet) | repository_urls(head_fleet)
        applications = application_changes(
            expanded_applications(trees["a"], urls), expanded_applications(trees["b"], urls)
        )
    # A model app changes when its build does or when its Application does (the set's template).
    by_name = {key.name: key for key in apps_of(head_fleet)}
    changed = {d.key for d in diffs if d.status != "removed"} | {
        by_name[c.name] for c in applications if c.status != "removed" and c.name in by_name
    }
    return PlanResult(
        base=labels[0],
        head=labels[1],
        apps=tuple(sorted(diffs, key=lambda d: d.key)),
        notes=(*notes(base_fleet, head_fleet), *recreates),
        report=Report.of(head_diags),
        applications=applications,
        rollout=rollout_orders(head_fleet, changed),
    )
