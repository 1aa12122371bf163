"""Read the repository as Argo CD would: the bootstrap objects applied by hand, what the
root Application syncs (AppProjects, Applications, ApplicationSets expanded), and the build
of every Application whose source is this repository; then run the checks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from fleetgen.argocd.builds import build_source
from fleetgen.argocd.checks import Snapshot, run_checks
from fleetgen.argocd.documents import Doc, DocumentError, matching_node, read_documents
from fleetgen.argocd.expand import RepoFiles, expand
from fleetgen.argocd.model import BOOTSTRAP_WAVE, App, Project, wave_of
from fleetgen.argocd.pickup import check_pickup
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain import layout
from fleetgen.loading.fleet import Fleet

__all__ = ["ArgoResult", "check_repository", "load_snapshot", "repository_urls"]

MAX_DEPTH = 4  # app of apps of apps...


@dataclass(slots=True)
class ArgoResult:
    snapshot: Snapshot
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _git_path(app: App, repo: RepoFiles) -> str | None:
    for _, source in app.sources:
        if source.get("path") is not None and repo.serves(str(source.get("repoURL", ""))):
            return str(source["path"])
    return None


class _Loader:
    def __init__(self, root: Path, repo: RepoFiles) -> None:
        self.root, self.repo = root, repo
        self.snap = Snapshot(repo)
        self.diagnostics: list[Diagnostic] = []
        self.expanded = 0

    def add(self, doc: Doc, wave: float, depth: int) -> None:
        kind = doc.kind
        if kind == "AppProject":
            self.snap.projects.append(Project(doc, wave))
        elif kind == "Application":
            at = doc.at("metadata", "annotations", "argocd.argoproj.io/sync-wave")
            self.app(App(doc.data, doc, (), wave, at), depth)
        elif kind == "ApplicationSet":
            found = expand(doc, self.repo)
            self.expanded += 1
            self.diagnostics.extend(found.diagnostics)
            for app in found.apps:
                self.app(app, depth)

    def app(self, app: App, depth: int) -> None:
        index = len(self.snap.apps)
        self.snap.apps.append(app)
        path = _git_path(app, self.repo)
        if path is None:
            return
        build = build_source(self.root, path, app.dest_namespace)
        self.snap.builds[index] = build
        if depth >= MAX_DEPTH:
            return
        for obj in build.objects:
            if obj.group == "argoproj.io" and obj.kind in (
                "AppProject",
                "Application",
                "ApplicationSet",
            ):
                doc = matching_node(self.root, obj.origin.file, obj.doc)
                if not doc.namespace:
                    doc.data.setdefault("metadata", {})["namespace"] = obj.namespace or ""
                # What an app applies starts in the app's wave, in the order of its own waves.
                self.add(
                    doc, app.wave if app.wave != BOOTSTRAP_WAVE else wave_of(doc.data), depth + 1
                )


def repository_urls(fleet: Fleet) -> set[str]:
    """The URLs Argo CD reads this repository by (environments and the root Application)."""
    urls = {env.argocd.repo_url for env in fleet.environments.values()}
    if fleet.bootstrap is not None:
        urls.add(fleet.bootstrap.repo_url)
    return urls


def load_snapshot(root: Path, urls: Collection[str]) -> tuple[Snapshot, list[Diagnostic], int]:
    """The snapshot, the diagnostics of reading it, and how many ApplicationSets it expanded."""
    root = root.resolve()
    repo = RepoFiles.scan(root, urls)
    loader = _Loader(root, repo)
    bootstrap = layout.BOOTSTRAP_FILE
    if (root / bootstrap).is_file():
        try:
            docs = read_documents(root, bootstrap)
        except DocumentError as exc:
            loader.diagnostics.append(diag("FG732", str(exc), exc.location))
            docs = []
        for doc in docs:
            loader.add(doc, BOOTSTRAP_WAVE, 0)
    if not loader.snap.apps and (root / layout.GENERATED_ROOT).is_dir():
        # No root Application: read what it would sync, in its waves.
        build = build_source(root, layout.GENERATED_ROOT, "")
        for obj in build.objects:
            if obj.group == "argoproj.io":
                loader.add(matching_node(root, obj.origin.file, obj.doc), wave_of(obj.doc), 1)
    return loader.snap, loader.diagnostics, loader.expanded


def check_repository(root: Path, urls: Collection[str]) -> ArgoResult:
    """Every Argo CD check (FG720-FG732, FG932, FG933) over the repository on disk."""
    snap, diagnostics, expanded = load_snapshot(root, urls)
    diagnostics.extend(run_checks(snap))
    diagnostics.extend(check_pickup(snap))
    built = sum(1 for b in snap.builds.values() if b.error is None)
    note = (
        f"Argo CD: {expanded} ApplicationSet(s) expanded, {len(snap.apps)} Application(s), "
        f"{built} built from this repository"
    )
    return ArgoResult(snap, diagnostics, [note])
