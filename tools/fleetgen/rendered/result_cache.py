"""Rendered validation, incrementally: one cluster's findings, kept by the digest of its inputs.

Everything one cluster's check reads is the environment it belongs to, the descriptors placed
in it, `base/`, `.fleetgen.yaml`, the schema directories, the Kubernetes version, the renderer
and fleetgen's own code: the linker never follows a reference out of a cluster. A cluster whose
digest is unchanged since a run that recorded it has the findings of that run, so a change to
one descriptor re-renders and re-checks only the clusters it is placed in.

Entries are JSON, not pickles (a restored CI cache never runs as code), each carries its own
key and a checksum of its body, and any entry that does not read back exactly is ignored: a
stale or corrupt cache costs a full check of that cluster, never a wrong verdict.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.core.cache_files import cache_dir, write_cache_file
from fleetgen.core.diagnostics import Diagnostic, Location, Severity
from fleetgen.domain import layout
from fleetgen.loading.config import CONFIG_FILE
from fleetgen.loading.fleet import Fleet, placements
from fleetgen.render.stamp import code_digest, files_digest

# Results hold no code: a directory a CI workflow restores between runs may hold them even
# where the per-user cache (which holds compiled code) is switched off.
RESULTS_ENV = "FLEETGEN_RESULTS_DIR"
_FORMAT = "fleetgen-rendered-results/1"


@dataclass(frozen=True, slots=True)
class ClusterFindings:
    """What checking one cluster found, in the form the merge step reads."""

    diagnostics: tuple[Diagnostic, ...]
    first_missing: Mapping[str, tuple[str, Diagnostic]]  # api/kind -> (app, FG703)
    notes: tuple[str, ...]
    objects: int
    apps: int
    cel_evaluated: int
    cel_transition: int
    cel_not_evaluated: Mapping[str, int]


def results_dir() -> Path | None:
    """FLEETGEN_RESULTS_DIR, else `rendered/` in the per-user cache; None: no caching."""
    explicit = os.environ.get(RESULTS_ENV)
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = cache_dir()
    return None if base is None else base / "rendered"


def cluster_keys(
    root: Path,
    fleet: Fleet,
    clusters: Sequence[str],
    *,
    schema_dirs: Sequence[Path],
    kubernetes_version: str,
    engine: str,
) -> dict[str, str]:
    """Every cluster directory -> the digest of everything its check reads."""
    shared = hashlib.sha256(_FORMAT.encode())
    for part in (
        code_digest(),
        files_digest(root, [root / "base", root / CONFIG_FILE]),
        files_digest(root, [Path(d) for d in schema_dirs]),
        kubernetes_version,
        engine,
    ):
        shared.update(part.encode() + b"\0")
    placed: dict[str, list[str]] = {c: [] for c in clusters}
    for p in placements(fleet):
        cluster = layout.cluster_dir(p.environment.name, p.cluster.name)
        if cluster in placed:
            placed[cluster].append(p.descriptor.source.path)
    keys: dict[str, str] = {}
    for cluster in clusters:
        _, env_name, _ = cluster.split("/")
        env = fleet.environments[env_name]
        digest = shared.copy()
        digest.update(cluster.encode() + b"\0")
        # The committed overlays: where they drift from the generator's, they are checked.
        digest.update(files_digest(root, [root / cluster]).encode() + b"\0")
        for rel in [env.source.path, *sorted(set(placed[cluster]))]:
            digest.update(rel.encode() + b"\0")
            digest.update(hashlib.sha256((root / rel).read_bytes()).digest())
        keys[cluster] = digest.hexdigest()
    return keys


def load(directory: Path, key: str) -> ClusterFindings | None:
    """The findings recorded under `key`, or None when absent, stale or unreadable."""
    try:
        entry = json.loads((directory / f"{key}.json").read_text(encoding="utf-8"))
        body = entry["body"]
        if entry.get("format") != _FORMAT or entry.get("key") != key:
            return None
        if entry.get("sha256") != _checksum(body):
            return None
        return _findings(body)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(directory: Path, key: str, findings: ClusterFindings) -> None:
    body = _body(findings)
    entry = {"format": _FORMAT, "key": key, "sha256": _checksum(body), "body": body}
    write_cache_file(directory / f"{key}.json", json.dumps(entry, sort_keys=True).encode())


def _checksum(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _body(f: ClusterFindings) -> dict[str, Any]:
    return {
        "diagnostics": [d.as_dict() for d in f.diagnostics],
        "first_missing": {k: [app, d.as_dict()] for k, (app, d) in f.first_missing.items()},
        "notes": list(f.notes),
        "objects": f.objects,
        "apps": f.apps,
        "cel_evaluated": f.cel_evaluated,
        "cel_transition": f.cel_transition,
        "cel_not_evaluated": dict(f.cel_not_evaluated),
    }


def _findings(body: dict[str, Any]) -> ClusterFindings:
    return ClusterFindings(
        diagnostics=tuple(_diagnostic(d) for d in body["diagnostics"]),
        first_missing={
            str(k): (str(app), _diagnostic(d)) for k, (app, d) in body["first_missing"].items()
        },
        notes=tuple(str(n) for n in body["notes"]),
        objects=int(body["objects"]),
        apps=int(body["apps"]),
        cel_evaluated=int(body["cel_evaluated"]),
        cel_transition=int(body["cel_transition"]),
        cel_not_evaluated={str(k): int(v) for k, v in body["cel_not_evaluated"].items()},
    )


def _diagnostic(d: dict[str, Any]) -> Diagnostic:
    hint = d.get("hint")
    return Diagnostic(
        code=str(d["code"]),
        severity=Severity(d["severity"]),
        message=str(d["message"]),
        location=Location(str(d["file"]), int(d["line"]), int(d["column"])),
        hint=None if hint is None else str(hint),
    )
