"""What an Application's git source renders, and every repository file that build reads.

Kustomize directories are built in process with the fast renderer (the real kustomize when
the overlay leaves its subset); a directory without a kustomization is a plain directory
app (its YAML and JSON files, not recursive: Argo CD's default). Helm and remote sources are
not built (their objects are not in this repository).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import yaml

from fleetgen.argocd.documents import matching_node
from fleetgen.argocd.model import WAVE, Build, RenderedObject
from fleetgen.core.diagnostics import Location
from fleetgen.knowledge.cluster_api import is_cluster_scoped
from fleetgen.kube.kustomize import KustomizeError, KustomizeNotFound, build
from fleetgen.kube.manifests import ManifestError, load_manifests
from fleetgen.rendered import fastrender

__all__ = ["KUSTOMIZATIONS", "build_source", "kustomize_inputs"]

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Kustomization fields that name files or directories it reads.
_LISTS = (
    "resources",
    "components",
    "bases",
    "crds",
    "patchesStrategicMerge",
    "transformers",
    "generators",
    "validators",
    "configurations",
)


def _kustomization(root: Path, directory: str) -> str | None:
    for name in KUSTOMIZATIONS:
        if (root / directory / name).is_file():
            return posixpath.join(directory, name) if directory else name
    return None


def _remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@"))


def kustomize_inputs(root: Path, directory: str, seen: set[str] | None = None) -> set[str]:
    """Every repository file a ``kustomize build`` of ``directory`` reads (recursively)."""
    seen = set() if seen is None else seen
    if directory in seen:
        return set()
    seen.add(directory)
    own = _kustomization(root, directory)
    if own is None:
        return set()
    found = {own}
    try:
        data: Any = yaml.safe_load((root / own).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return found
    if not isinstance(data, dict):
        return found

    def add(entry: str) -> None:
        if _remote(entry) or "\n" in entry:
            return
        path = posixpath.normpath(posixpath.join(directory, entry))
        if (root / path).is_dir():
            found.update(kustomize_inputs(root, path, seen))
        elif (root / path).is_file():
            found.add(path)

    for key in _LISTS:
        for entry in data.get(key) or []:
            if isinstance(entry, str):
                add(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                add(entry["path"])
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in data.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                add(entry["path"])
    for key in ("configMapGenerator", "secretGenerator"):
        for entry in data.get(key) or []:
            for item in [*(entry.get("files") or []), *(entry.get("envs") or [])]:
                add(str(item).split("=", 1)[-1])
            if entry.get("env"):
                add(str(entry["env"]))
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        add(openapi["path"])
    return found


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _object(doc: dict[str, Any], origin: Location, namespace: str) -> RenderedObject:
    meta = doc.get("metadata") or {}
    group, kind = _group(str(doc.get("apiVersion", ""))), str(doc.get("kind", ""))
    cluster = is_cluster_scoped(group, kind)
    try:
        wave = int(str((meta.get("annotations") or {}).get(WAVE, "0")).strip())
    except ValueError:
        wave = 0
    return RenderedObject(
        group,
        kind,
        str(meta.get("name", "")),
        None if cluster else str(meta.get("namespace") or namespace),
        wave,
        origin,
        doc,
    )


def build_source(root: Path, path: str, namespace: str) -> Build:
    """Build one git source path; ``namespace``: the destination's (objects without one)."""
    result = Build()
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    directory = root / path
    if not directory.is_dir():
        result.error = f"path {path!r} does not exist in the repository"
        return result
    if _kustomization(root, path) is None:
        for file in sorted(directory.iterdir()):
            if file.is_file() and file.suffix in (".yaml", ".yml", ".json"):
                rel = file.relative_to(root).as_posix()
                result.inputs.add(rel)
                try:
                    docs = load_manifests(file.read_text(encoding="utf-8"), source=rel)
                except (ManifestError, OSError, UnicodeDecodeError) as exc:
                    result.error = str(exc)
                    return result
                for doc in docs:
                    where = matching_node(root, rel, doc).at()
                    result.objects.append(_object(doc, where, namespace))
        return result
    result.inputs = kustomize_inputs(root, path)
    for read in sorted(result.inputs):
        try:
            list(yaml.safe_load_all((root / read).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            spot = f"{read}:{mark.line + 1}:{mark.column + 1}" if mark else read
            result.error = f"{spot}: not valid YAML ({getattr(exc, 'problem', exc)})"
            return result
    try:
        pairs = fastrender.render(directory, root)
    except (fastrender.Unsupported, OSError, ValueError, KeyError, IndexError, yaml.YAMLError):
        try:
            docs = load_manifests(build(directory), source=path)
        except (KustomizeError, KustomizeNotFound, ManifestError) as exc:
            lines = str(exc).strip().splitlines()
            result.error = lines[-1] if lines else "kustomize failed"
            return result
        pairs = [(doc, posixpath.join(path, "kustomization.yaml")) for doc in docs]
    for doc, origin in pairs:
        result.objects.append(_object(doc, matching_node(root, origin, doc).at(), namespace))
    return result
