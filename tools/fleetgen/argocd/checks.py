"""Checks of the expanded Applications against their AppProjects, the repository and each
other (FG722-FG732). Pure functions of a Snapshot; each returns diagnostics.

Permissions follow argo-cd v3.5 pkg/apis/application/v1alpha1 (``isDestinationMatched``,
``IsGroupKindNamePermitted``); manifest-generate-paths follows util/app/path
(``GetSourceRefreshPaths``, ``AppFilesHaveChanged``); ordering follows the root's sync waves
(an ApplicationSet's Applications start in the set's wave).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fleetgen.argocd.expand import RepoFiles
from fleetgen.argocd.glob import glob_match, has_magic, path_match
from fleetgen.argocd.model import BOOTSTRAP_WAVE, REFRESH_PATHS, App, Build, Project, RenderedObject
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.cluster_api import BUILTIN_GROUPS, chart_crds

__all__ = ["CHECKS", "IN_CLUSTER", "Snapshot", "run_checks"]

IN_CLUSTER = frozenset({"https://kubernetes.default.svc", "in-cluster"})
CREATE_NAMESPACE = "CreateNamespace=true"


@dataclass(slots=True)
class Snapshot:
    repo: RepoFiles
    apps: list[App] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    builds: dict[int, Build] = field(default_factory=dict)  # index in apps -> its build

    def project(self, app: App) -> Project | None:
        return next(
            (p for p in self.projects if p.name == app.project and p.namespace == app.namespace),
            None,
        )

    def built(self) -> Iterator[tuple[App, Build]]:
        for index, app in enumerate(self.apps):
            found = self.builds.get(index)
            if found is not None:
                yield app, found


def _destination_permitted(project: Project, server: str, name: str, namespace: str) -> bool:
    matched = False
    for item in project.spec.get("destinations") or []:
        item_server, item_name = str(item.get("server") or ""), str(item.get("name") or "")
        item_ns = str(item.get("namespace") or "")
        name_ok = bool(name) and glob_match(item_name, name)
        server_ok = bool(server) and glob_match(item_server, server)
        ns_ok = glob_match(item_ns, namespace)
        # Go's && binds tighter than ||, as here: deny(name) || (deny(server) && ns_ok)
        server_denied = not server_ok and item_server.startswith("!") and ns_ok
        if (server_ok or name_ok) and ns_ok:
            matched = True
        elif (
            (not name_ok and item_name.startswith("!"))
            or server_denied
            or (not ns_ok and item_ns.startswith("!") and server_ok)
        ):
            return False
    return matched


def _in_list(group: str, kind: str, name: str, items: list[dict[str, str]]) -> bool:
    for item in items:
        kind_ok = path_match(str(item.get("kind", "")), kind)
        group_ok = path_match(str(item.get("group", "")), group)
        if kind_ok and group_ok and (not item.get("name") or path_match(str(item["name"]), name)):
            return True
    return False


def kind_permitted(project: Project, group: str, kind: str, name: str, *, namespaced: bool) -> bool:
    spec = project.spec
    if namespaced:
        white = spec.get("namespaceResourceWhitelist")
        black = spec.get("namespaceResourceBlacklist") or []
        allowed = white is None or (bool(white) and _in_list(group, kind, "", white))
        return allowed and not (black and _in_list(group, kind, "", black))
    white = spec.get("clusterResourceWhitelist") or []
    black = spec.get("clusterResourceBlacklist") or []
    return (
        bool(white)
        and _in_list(group, kind, name, white)
        and not _in_list(group, kind, name, black)
    )


def check_projects(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG722: the project exists, and is applied before the Application."""
    for app in snap.apps:
        project = snap.project(app)
        if project is None:
            yield diag(
                "FG722",
                f"{app.label} names project {app.project!r}, which no AppProject in "
                f"namespace {app.namespace!r} defines",
                app.at("spec", "project"),
            )
        elif project.wave > app.wave or (project.wave == app.wave != BOOTSTRAP_WAVE):
            yield diag(
                "FG722",
                f"{app.label}: AppProject {app.project} is applied in wave {project.wave:g}, "
                f"not before the app's wave {app.wave:g}",
                app.at("spec", "project"),
            )


def check_permissions(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG723 destinations, FG724 kinds: what the project permits."""
    for index, app in enumerate(snap.apps):
        project = snap.project(app)
        if project is None:
            continue
        dest = app.destination
        server, name = str(dest.get("server") or ""), str(dest.get("name") or "")
        if not _destination_permitted(project, server, name, app.dest_namespace):
            yield diag(
                "FG723",
                f"{app.label}: destination {server or name} namespace {app.dest_namespace!r} "
                f"is not permitted in project {project.name} ({project.doc.at('spec')})",
                app.at("spec", "destination"),
            )
        build = snap.builds.get(index)
        if build is None:
            continue
        denied: dict[tuple[str, str], RenderedObject] = {}
        spaces: dict[str, RenderedObject] = {}
        for obj in build.objects:
            namespaced = obj.namespace is not None
            if not kind_permitted(project, obj.group, obj.kind, obj.name, namespaced=namespaced):
                denied.setdefault((obj.group, obj.kind), obj)
            if obj.namespace and obj.namespace != app.dest_namespace:
                spaces.setdefault(obj.namespace, obj)
        for (group, kind), obj in sorted(denied.items()):
            scope = "namespaced" if obj.namespace is not None else "cluster-scoped"
            field_name = (
                "namespaceResourceWhitelist"
                if obj.namespace is not None
                else "clusterResourceWhitelist"
            )
            yield diag(
                "FG724",
                f"resource {group or 'core'}:{kind} ({scope}, {kind} {obj.name} from "
                f"{obj.origin.file}) of {app.label} is not permitted in project {project.name}",
                project.doc.at("spec", field_name),
                hint=f"allow {group or '(core)'}/{kind} in the project's {field_name}, "
                "or stop rendering it",
            )
        for namespace, obj in sorted(spaces.items()):
            if not _destination_permitted(project, server, name, namespace):
                yield diag(
                    "FG723",
                    f"{app.label}: {obj.kind} {obj.name} goes to namespace {namespace!r}, "
                    f"which project {project.name} does not permit on {server or name}",
                    app.at("spec", "destination"),
                )


def _git_path(app: App, repo: RepoFiles) -> tuple[tuple[str | int, ...], str] | None:
    for where, source in app.sources:
        if source.get("path") is not None and repo.serves(str(source.get("repoURL", ""))):
            return where, str(source["path"])
    return None


def refresh_entries(annotation: str, source_path: str) -> list[str]:
    """GetSourceRefreshPaths: absolute entries from the repository root, others relative."""
    out = []
    for item in annotation.split(";"):
        item = item.strip()
        if not item:
            continue
        if item.startswith("/"):
            out.append(item[1:])
        else:
            out.append(posixpath.normpath(posixpath.join(source_path, item)))
    return out


def _covers(entry: str, file: str) -> bool:
    entry = "" if entry in (".", "") else entry
    return (
        not entry
        or file == entry
        or file.startswith(entry.rstrip("/") + "/")
        or path_match(entry, file)
    )


def check_refresh_paths(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG725 every entry resolves; FG726 together they cover every file the build reads."""
    root = snap.repo.root
    for app, build in snap.built():
        annotation = app.annotations.get(REFRESH_PATHS)
        found = _git_path(app, snap.repo)
        if annotation is None or found is None:
            continue
        where = app.at("metadata", "annotations", REFRESH_PATHS)
        entries = refresh_entries(annotation, found[1])
        for entry in entries:
            exists = (root / entry).exists() if entry else True
            if not exists and has_magic(entry):
                exists = any(path_match(entry, f) for f in snap.repo.files)
            if not exists:
                yield diag(
                    "FG725",
                    f"{app.label}: manifest-generate-paths entry resolves to {entry!r}, "
                    "which does not exist: a commit there never refreshes the app",
                    where,
                    hint="start repository paths with '/'; '.' is the app's own path",
                )
        missing = sorted(f for f in build.inputs if not any(_covers(e, f) for e in entries))
        if missing:
            shown = ", ".join(missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            )
            yield diag(
                "FG726",
                f"{app.label}: its build reads {shown}, which no manifest-generate-paths "
                "entry covers: a commit changing only those keeps the old manifests",
                where,
            )


def _creates_namespaces(snap: Snapshot) -> dict[tuple[str, str], list[tuple[float, int]]]:
    created: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for index, app in enumerate(snap.apps):
        project = snap.project(app)
        if project is None:
            continue
        if (
            CREATE_NAMESPACE in app.sync_options
            and app.dest_namespace
            and kind_permitted(project, "", "Namespace", app.dest_namespace, namespaced=False)
        ):
            created.setdefault((app.server, app.dest_namespace), []).append((app.wave, index))
        for obj in snap.builds.get(index, Build()).objects:
            if obj.group == "" and obj.kind == "Namespace":
                created.setdefault((app.server, obj.name), []).append((app.wave, index))
    return created


def check_namespaces(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG727 every namespace exists before the wave that uses it; FG728 CreateNamespace that
    the project forbids (argo-cd#20233)."""
    created = _creates_namespaces(snap)
    for index, app in enumerate(snap.apps):
        project = snap.project(app)
        if project is None:
            continue
        if CREATE_NAMESPACE in app.sync_options and not kind_permitted(
            project, "", "Namespace", app.dest_namespace, namespaced=False
        ):
            yield diag(
                "FG728",
                f"{app.label} asks for CreateNamespace, but project {project.name} does not "
                "permit the cluster-scoped Namespace kind: the sync fails whenever "
                f"{app.dest_namespace!r} does not exist yet",
                app.at("spec", "syncPolicy", "syncOptions"),
            )
        needed: dict[str, str] = {}
        if app.dest_namespace:
            needed[app.dest_namespace] = "its destination"
        for obj in snap.builds.get(index, Build()).objects:
            if obj.namespace:
                needed.setdefault(obj.namespace, f"{obj.kind} {obj.name}")
        for namespace, user in sorted(needed.items()):
            if app.server in IN_CLUSTER and namespace == app.namespace:
                continue  # Argo CD's own namespace
            makers = created.get((app.server, namespace), [])
            if any(i == index or wave < app.wave for wave, i in makers):
                continue
            later = sorted(f"{snap.apps[i].name} (wave {w:g})" for w, i in makers)
            yield diag(
                "FG727",
                f"{app.label}: namespace {namespace!r} ({user}) does not exist before its "
                f"wave {app.wave:g} on {app.server}"
                + (f"; created only by {', '.join(later)}" if later else "; nothing creates it"),
                app.at("spec", "destination", "namespace")
                if user == "its destination"
                else app.at("spec", "source", "path"),
                hint="create it in an earlier wave (a Namespace object, or CreateNamespace=true "
                "in an app whose project permits Namespace)",
            )


def _crd_providers(snap: Snapshot) -> dict[tuple[str, str], list[tuple[float, int, str]]]:
    """(server, group) -> (wave, app index, kind or '*') of everything installing CRDs."""
    out: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    charts = chart_crds()
    for index, app in enumerate(snap.apps):
        for _, source in app.sources:
            chart = charts.get(str(source.get("chart") or ""))
            values = (source.get("helm") or {}).get("valuesObject") or {}
            if chart is not None and chart.installs(values):
                for group in chart.groups:
                    out.setdefault((app.server, group), []).append((app.wave, index, "*"))
        for obj in snap.builds.get(index, Build()).objects:
            if obj.kind == "CustomResourceDefinition":
                spec = obj.doc.get("spec") or {}
                kind = str((spec.get("names") or {}).get("kind", ""))
                out.setdefault((app.server, str(spec.get("group", ""))), []).append(
                    (app.wave, index, kind)
                )
    return out


def check_crd_order(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG729: every object's CRD is installed in an earlier wave (or earlier in its app)."""
    providers = _crd_providers(snap)
    for index, app in enumerate(snap.apps):
        reported: set[tuple[str, str]] = set()
        for obj in snap.builds.get(index, Build()).objects:
            key = (obj.group, obj.kind)
            if obj.group in BUILTIN_GROUPS or key in reported:
                continue
            if obj.group == "argoproj.io" and app.server in IN_CLUSTER:
                continue  # Argo CD's own CRDs
            found = [
                (wave, i)
                for wave, i, kind in providers.get((app.server, obj.group), [])
                if kind in ("*", obj.kind)
            ]
            if any(wave < app.wave or i == index for wave, i in found):
                continue
            reported.add(key)
            later = sorted(f"{snap.apps[i].name} (wave {w:g})" for w, i in found)
            yield diag(
                "FG729",
                f"{app.label} (wave {app.wave:g}) applies {obj.kind} {obj.name}, but no earlier "
                f"wave installs the CRDs of {obj.group}"
                + (f": only {', '.join(later)}" if later else ""),
                app.wave_at,
            )


def check_overlaps(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG730 no object managed by two Applications; FG731 unique Application names."""
    owners: dict[tuple[str, str, str, str | None, str], int] = {}
    for index, app in enumerate(snap.apps):
        for obj in snap.builds.get(index, Build()).objects:
            key = (app.server, obj.group, obj.kind, obj.namespace, obj.name)
            first = owners.setdefault(key, index)
            if first != index:
                yield diag(
                    "FG730",
                    f"{app.label} and {snap.apps[first].label} both manage {obj.kind} "
                    f"{obj.namespace + '/' if obj.namespace else ''}{obj.name} on {app.server}: "
                    "they would fight over it",
                    app.at("spec", "source", "path"),
                )
    names: dict[tuple[str, str], App] = {}
    for app in snap.apps:
        first_app = names.setdefault((app.namespace, app.name), app)
        if first_app is not app:
            yield diag(
                "FG731",
                f"{app.label}: {first_app.label} has the same name in namespace "
                f"{app.namespace!r} ({first_app.at('metadata', 'name')})",
                app.at("metadata", "name"),
            )


def check_builds(snap: Snapshot) -> Iterator[Diagnostic]:
    """FG732: an Application's path in this repository exists and builds."""
    for app, build in snap.built():
        if build.error is not None:
            found = _git_path(app, snap.repo)
            where = (*found[0], "path") if found else ("spec",)
            yield diag("FG732", f"{app.label}: {build.error}", app.at(*where))


CHECKS: tuple[Callable[[Snapshot], Iterator[Diagnostic]], ...] = (
    check_projects,
    check_permissions,
    check_refresh_paths,
    check_namespaces,
    check_crd_order,
    check_overlaps,
    check_builds,
)


def run_checks(snap: Snapshot) -> list[Diagnostic]:
    return [found for check in CHECKS for found in check(snap)]
