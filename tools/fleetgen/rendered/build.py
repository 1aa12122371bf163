"""Render every generated app with the real kustomize, keeping where each object came from."""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetgen.kube.kustomize import KustomizeError, build
from fleetgen.kube.manifests import ManifestError, load_manifests
from fleetgen.rendered import fastrender

ORIGIN = "config.kubernetes.io/origin"


@dataclass(frozen=True, slots=True)
class RenderedObject:
    """One manifest as Argo CD would apply it, and where it came from."""

    doc: dict[str, Any]
    app: str  # the app directory (repository path)
    base_file: str | None  # the hand-maintained base file the object started from

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.doc.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.doc.get("metadata", {}).get("namespace")
        return str(ns) if ns else None

    @property
    def env(self) -> str:
        return self.app.split("/")[1]

    @property
    def cluster(self) -> str:
        return self.app.split("/")[2]


@dataclass(slots=True)
class RenderedFleet:
    objects: list[RenderedObject] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (app, message)
    apps: int = 0
    notes: list[str] = field(default_factory=list)


def app_dirs(files: Mapping[str, bytes]) -> list[str]:
    """Every kustomization under an environment/cluster directory of the generated tree."""
    dirs = {
        posixpath.dirname(path)
        for path in files
        if path.endswith("/kustomization.yaml") and path.count("/") >= 4
    }
    return sorted(dirs)


APP = "fleetgen.dev/rendered-app"


def _tagged(data: bytes, app: str, *, origins: bool) -> bytes:
    """An app's kustomization that stamps its objects with the app (and, alone, origins)."""
    kustomization = yaml.load(data, Loader=yaml.CSafeLoader)
    if not isinstance(kustomization, dict):  # a hand-edited overlay: say so, never a traceback
        raise ManifestError(f"{app}/kustomization.yaml", 1, 1, "not a kustomization mapping")
    kustomization.setdefault("commonAnnotations", {})[APP] = app
    if origins:
        kustomization["buildMetadata"] = ["originAnnotations"]
    return yaml.dump(kustomization, Dumper=yaml.CSafeDumper, sort_keys=False).encode()


def _strip(doc: dict[str, Any], build_root: str) -> tuple[str | None, str | None]:
    """Remove the render-time annotations; return (app, base file)."""
    metadata = doc.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    app = annotations.pop(APP, None)
    origin = annotations.pop(ORIGIN, None)
    if not annotations:
        metadata.pop("annotations", None)
    # commonAnnotations also reaches pod templates (Deployments and the like).
    spec = doc.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    template_meta = template.get("metadata") if isinstance(template, dict) else None
    if isinstance(template_meta, dict) and isinstance(template_meta.get("annotations"), dict):
        template_meta["annotations"].pop(APP, None)
        if not template_meta["annotations"]:
            del template_meta["annotations"]
    base = None
    if isinstance(origin, str):
        path = (yaml.safe_load(origin) or {}).get("path")
        base = posixpath.normpath(posixpath.join(build_root, str(path))) if path else None
    return (str(app) if app else None), base


def _groups(dirs: list[str]) -> dict[str, list[str]]:
    """Apps by cluster directory (applicationsets/<env>/<cluster>)."""
    groups: dict[str, list[str]] = {}
    for app in dirs:
        groups.setdefault("/".join(app.split("/")[:3]), []).append(app)
    return groups


def _canonical(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(d, sort_keys=True) for d in docs)


def render_fleet(
    root: Path,
    files: Mapping[str, bytes],
    *,
    engine: str = "fast",
    jobs: int | None = None,
    clusters: Collection[str] | None = None,
) -> RenderedFleet:
    """Materialize the planned files beside the repository's base/ and build every app.

    engine "fast" renders in process (fastrender) and still builds the first app of every
    cluster with kustomize: if the two ever differ, that cluster falls back to kustomize and
    a note says so. engine "kustomize" builds every app with kustomize.
    """
    result = RenderedFleet()
    groups = _groups(app_dirs(files))
    if clusters is not None:
        groups = {cluster: apps for cluster, apps in groups.items() if cluster in clusters}
    with tempfile.TemporaryDirectory(prefix="fleetgen-render-") as tmp:
        # kustomize needs files on disk: only the apps it builds are written, beside a link
        # to the repository's base/; the fast renderer reads the planned files in memory.
        scratch = Path(tmp)
        (scratch / "base").symlink_to((root / "base").resolve(), target_is_directory=True)

        def with_kustomize(app: str) -> RenderedFleet:
            part = RenderedFleet(apps=1)
            for path in (p for p in files if p.startswith(f"{app}/")):
                target = scratch / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(files[path])
            source = scratch / app / "kustomization.yaml"
            try:
                source.write_bytes(_tagged(files[f"{app}/kustomization.yaml"], app, origins=True))
                docs = load_manifests(build(scratch / app), source=app)
            except (KustomizeError, ManifestError, yaml.YAMLError) as exc:
                part.failures.append((app, _repository_relative(str(exc), scratch, root)))
                return part
            for doc in docs:
                _, base = _strip(doc, app)
                part.objects.append(RenderedObject(doc, app, base))
            return part

        def one_cluster(cluster_dir: str) -> RenderedFleet:
            apps = groups[cluster_dir]
            if engine == "kustomize":
                return _merge(with_kustomize(app) for app in apps)
            part = RenderedFleet()
            for index, app in enumerate(apps):
                try:
                    docs = fastrender.render(root / app, root, files)
                except (fastrender.Unsupported, OSError, ValueError, KeyError, IndexError):
                    part = _merge([part, with_kustomize(app)])
                    continue
                if index == 0:
                    reference = with_kustomize(app)
                    if reference.failures or _canonical([d for d, _ in docs]) != _canonical(
                        [o.doc for o in reference.objects]
                    ):
                        part = _merge(with_kustomize(a) for a in apps)
                        part.notes.append(
                            f"{cluster_dir}: fast rendering differed from kustomize; used kustomize"
                        )
                        return part
                part.apps += 1
                part.objects.extend(RenderedObject(doc, app, base) for doc, base in docs)
            return part

        workers = jobs or min(4, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            result = _merge(pool.map(one_cluster, sorted(groups)))
    return result


def _repository_relative(message: str, scratch: Path, root: Path) -> str:
    """kustomize names the files it read by absolute path: the scratch copy and, through the
    base/ link, the checkout. Say them as repository paths, as every other finding does."""
    for prefix in {str(scratch), str(scratch.resolve()), str(root.resolve())}:
        message = message.replace(prefix + "/", "").replace(prefix, ".")
    return message


def _merge(parts: Iterable[RenderedFleet]) -> RenderedFleet:
    merged = RenderedFleet()
    for part in parts:
        merged.apps += part.apps
        merged.objects.extend(part.objects)
        merged.failures.extend(part.failures)
        merged.notes.extend(part.notes)
    return merged


def is_model_app(app: str) -> bool:
    return app.split("/")[3:4] == ["models"]
