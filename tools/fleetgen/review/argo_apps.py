"""The Argo CD Applications a change adds, changes and removes, from both revisions' generated
trees expanded as the controllers expand them (ApplicationSets included), not from file names.

An Application changes when its own definition changes (project, destination, source, sync
policy, labels, annotations) or when what its source builds to changes; platform apps count
as much as model apps.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.argocd.checks import Snapshot
from fleetgen.argocd.run import load_snapshot

__all__ = ["ArgoAppChange", "application_changes", "expanded_applications"]

MANIFESTS = "manifests"  # the reason given when only the build output differs


@dataclass(frozen=True, slots=True, order=True)
class ArgoAppChange:
    namespace: str  # the Argo CD namespace the Application lives in
    name: str
    status: str  # added | removed | changed
    reasons: tuple[str, ...] = ()  # for changed: the fields that differ, or MANIFESTS
    destination: str = ""  # server/namespace the Application deploys to (head; base if removed)


@dataclass(frozen=True, slots=True)
class _Seen:
    definition: Mapping[str, Any]
    objects: tuple[str, ...]  # the build's objects, canonical and sorted
    destination: str


def _definition(data: Mapping[str, Any]) -> dict[str, Any]:
    meta = data.get("metadata") or {}
    return {
        "labels": dict(meta.get("labels") or {}),
        "annotations": dict(meta.get("annotations") or {}),
        "spec": data.get("spec") or {},
    }


def expanded_applications(root: Path, urls: Collection[str]) -> dict[tuple[str, str], _Seen]:
    """Every Application Argo CD would hold for the tree at ``root``, by (namespace, name)."""
    snap, _, _ = load_snapshot(root, urls)
    return _seen(snap)


def _seen(snap: Snapshot) -> dict[tuple[str, str], _Seen]:
    import json

    out: dict[tuple[str, str], _Seen] = {}
    for index, app in enumerate(snap.apps):
        build = snap.builds.get(index)
        objects = (
            tuple(sorted(json.dumps(o.doc, sort_keys=True, default=str) for o in build.objects))
            if build is not None
            else ()
        )
        dest = f"{app.server}/{app.dest_namespace}".rstrip("/")
        out[(app.namespace, app.name)] = _Seen(_definition(app.data), objects, dest)
    return out


def _differing(old: Any, new: Any, path: str) -> Iterator[str]:
    """Dotted paths (two levels below ``spec``) where two definitions differ."""
    if old == new:
        return
    depth = path.count(".")
    if isinstance(old, Mapping) and isinstance(new, Mapping) and depth < 2:
        for key in sorted(set(old) | set(new), key=str):
            yield from _differing(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return
    yield path


def application_changes(
    base: Mapping[tuple[str, str], _Seen], head: Mapping[tuple[str, str], _Seen]
) -> tuple[ArgoAppChange, ...]:
    out: list[ArgoAppChange] = []
    for key in sorted(set(base) | set(head)):
        before, after = base.get(key), head.get(key)
        if before is None and after is not None:
            out.append(ArgoAppChange(*key, "added", destination=after.destination))
        elif after is None and before is not None:
            out.append(ArgoAppChange(*key, "removed", destination=before.destination))
        elif before is not None and after is not None:
            reasons = [
                p if p.startswith("spec") else f"metadata.{p}"
                for p in _differing(before.definition, after.definition, "")
            ]
            if before.objects != after.objects:
                reasons.append(MANIFESTS)
            if reasons:
                out.append(
                    ArgoAppChange(*key, "changed", tuple(reasons), destination=after.destination)
                )
    return tuple(out)
