"""Render every generated app with the real kustomize, keeping where each object came from."""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetgen.kube.kustomize import KustomizeError, build
from fleetgen.kube.manifests import ManifestError, load_manifests

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


def app_dirs(files: Mapping[str, bytes]) -> list[str]:
    """Every kustomization under an environment/cluster directory of the generated tree."""
    dirs = {
        posixpath.dirname(path)
        for path in files
        if path.endswith("/kustomization.yaml") and path.count("/") >= 4
    }
    return sorted(dirs)


def _with_origins(data: bytes) -> bytes:
    kustomization = yaml.load(data, Loader=yaml.CSafeLoader)
    kustomization["buildMetadata"] = ["originAnnotations"]
    return yaml.dump(kustomization, Dumper=yaml.CSafeDumper, sort_keys=False).encode()


def _base_file(app: str, doc: dict[str, Any]) -> str | None:
    annotations = doc.get("metadata", {}).get("annotations") or {}
    origin = annotations.pop(ORIGIN, None)
    if not annotations:
        doc["metadata"].pop("annotations", None)
    if not isinstance(origin, str):
        return None
    path = (yaml.safe_load(origin) or {}).get("path")
    return posixpath.normpath(posixpath.join(app, str(path))) if path else None


def render_fleet(
    root: Path, files: Mapping[str, bytes], *, jobs: int | None = None
) -> RenderedFleet:
    """Materialize the planned files beside the repository's base/ and build every app."""
    result = RenderedFleet()
    with tempfile.TemporaryDirectory(prefix="fleetgen-render-") as tmp:
        scratch = Path(tmp)
        (scratch / "base").symlink_to((root / "base").resolve(), target_is_directory=True)
        dirs = app_dirs(files)
        for path, data in files.items():
            target = scratch / path
            target.parent.mkdir(parents=True, exist_ok=True)
            is_app = path.endswith("/kustomization.yaml") and posixpath.dirname(path) in dirs
            target.write_bytes(_with_origins(data) if is_app else data)

        def one(app: str) -> tuple[str, str | None, list[dict[str, Any]]]:
            try:
                docs = load_manifests(build(scratch / app), source=app)
            except (KustomizeError, ManifestError) as exc:
                return app, str(exc), []
            return app, None, docs

        workers = jobs or min(4, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for app, error, docs in pool.map(one, dirs):
                result.apps += 1
                if error is not None:
                    result.failures.append((app, error))
                for doc in docs:
                    result.objects.append(RenderedObject(doc, app, _base_file(app, doc)))
    return result


def is_model_app(app: str) -> bool:
    return app.split("/")[3:4] == ["models"]
