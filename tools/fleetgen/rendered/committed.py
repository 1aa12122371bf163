"""The generated tree as committed: what Argo CD applies where it is not what fleetgen writes.

Argo CD builds the overlays in the repository, not the generator's output. Where a committed
overlay is byte-identical to the generator's, rendering the planned files is the same thing
(the fast path). Where someone hand-edited a generated overlay, or forgot to regenerate, the
committed files are what runs: those apps are built from the repository with kustomize and
checked like any other, and a finding is located in the committed file, at the patch
operation that wrote the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from fleetgen.core.diagnostics import Location
from fleetgen.loading.fleet import Fleet
from fleetgen.render.patches import Patch
from fleetgen.rendered.provenance import Provenance, provenance

KUSTOMIZATION = "kustomization.yaml"
# One JSON6902 operation per line, as fleetgen writes them: its path, to find its line.
_OP_PATH = re.compile(r'^\s*\{"op":\s*"[a-z]+",\s*"path":\s*"((?:[^"\\]|\\.)*)"')
_TARGET = re.compile(r"^- target:")


@dataclass(frozen=True, slots=True)
class DriftedApp:
    """One app whose committed files differ from the generator's."""

    app: str  # the app directory (repository path)
    files: Mapping[str, bytes]  # every committed file under it, by repository path
    first_difference: Location  # the first line that differs from the generator's


def first_difference(path: str, committed: bytes | None, planned: bytes | None) -> Location:
    """The first line of `committed` that differs from `planned` (line 1 when absent)."""
    if committed is None or planned is None:
        return Location(path)
    ours, theirs = committed.splitlines(), planned.splitlines()
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
        if a != b:
            return Location(path, number)
    return Location(path, min(len(ours), len(theirs)) + 1 if ours else 1)


def _committed_files(root: Path, app: str) -> dict[str, bytes]:
    directory = root / app
    found: dict[str, bytes] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def drifted_apps(root: Path, planned: Mapping[str, bytes]) -> list[DriftedApp]:
    """The apps of `planned` whose committed files differ, in app order.

    Only the files the generator writes are compared; a committed app directory with no
    kustomization is left to `fleetgen validate --all` (FG714) since Argo CD builds nothing.
    """
    by_app: dict[str, list[str]] = {}
    for path in planned:
        if path.endswith(f"/{KUSTOMIZATION}") and path.count("/") >= 4:
            by_app.setdefault(path.rsplit("/", 1)[0], [])
    for path in planned:
        for app in by_app:
            if path.startswith(f"{app}/"):
                by_app[app].append(path)
    found: list[DriftedApp] = []
    for app in sorted(by_app):
        if not (root / app / KUSTOMIZATION).is_file():
            continue
        committed = _committed_files(root, app)
        for path in sorted(by_app[app]):
            if committed.get(path) != planned[path]:
                where = first_difference(path, committed.get(path), planned[path])
                found.append(DriftedApp(app, committed, where))
                break
    return found


def committed_patches(app: str, data: bytes) -> list[Patch]:
    """The patches of a committed kustomization, each operation located at its own line.

    Entries that patch one target twice (the model patch and a component's) are merged, so
    a rendered object finds every operation that wrote it. Anything that does not read as
    fleetgen's inline JSON patches is skipped: its objects are then located in their base.
    """
    try:
        kustomization = yaml.safe_load(data)
    except yaml.YAMLError:
        return []
    entries = kustomization.get("patches") if isinstance(kustomization, dict) else None
    if not isinstance(entries, list):
        return []
    rel = f"{app}/{KUSTOMIZATION}"
    lines = _op_lines(data.decode("utf-8", errors="replace"))
    merged: dict[tuple[str, str], Patch] = {}
    for index, entry in enumerate(entries):
        target = entry.get("target") if isinstance(entry, dict) else None
        ops = _ops(entry.get("patch")) if isinstance(entry, dict) else None
        if not isinstance(target, dict) or ops is None:
            continue
        kind, name = str(target.get("kind", "")), str(target.get("name", ""))
        entry_line, op_lines = lines[index] if index < len(lines) else (1, {})
        patch = merged.get((kind, name))
        if patch is None:
            patch = Patch(
                str(target.get("group", "")),
                str(target.get("version", "")),
                kind,
                name,
                origin=Location(rel, entry_line),
            )
            merged[(kind, name)] = patch
        for op in ops:
            path = str(op.get("path", ""))
            patch.ops.append(op)
            if path.endswith("/-"):
                line = op_lines.get(appended_key(path, op.get("value")))
                if line is not None:
                    patch.origins[appended_key(path, op.get("value"))] = Location(rel, line)
            elif path in op_lines:
                patch.origins[path] = Location(rel, op_lines[path])
    return list(merged.values())


def _ops(text: Any) -> list[dict[str, Any]] | None:
    if not isinstance(text, str):
        return None
    try:
        ops = json.loads(text)
    except ValueError:
        try:
            ops = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        return None
    return ops


def _op_lines(text: str) -> list[tuple[int, dict[str, int]]]:
    """Per `patches:` entry in file order: its line, and the line of each operation's path."""
    found: list[tuple[int, dict[str, int]]] = []
    in_patches = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith((" ", "-")) and line.strip():
            in_patches = line.startswith("patches:")
            continue
        if not in_patches:
            continue
        if _TARGET.match(line):
            found.append((number, {}))
            continue
        match = _OP_PATH.match(line)
        if match and found:
            path = json.loads(f'"{match.group(1)}"')
            if path.endswith("/-"):
                try:
                    op = json.loads(line.strip().rstrip(","))
                except ValueError:
                    continue
                path = appended_key(path, op.get("value") if isinstance(op, dict) else None)
            found[-1][1].setdefault(path, number)
    return found


def appended_key(path: str, value: Any) -> str:
    """The origin key of an item appended by `add <list>/-`: the list and the value, since
    its index depends on what the base and the components put before it. The NUL keeps it
    apart from every JSON pointer."""
    return f"{path}\0{json.dumps(value, sort_keys=True)}"


def committed_provenance(root: Path, fleet: Fleet, drifted: list[DriftedApp]) -> Provenance:
    """Provenance where the drifted apps are located in their committed kustomization."""
    where = provenance(root, fleet)
    where.committed = frozenset(app.app for app in drifted)
    for app in drifted:
        data = app.files.get(f"{app.app}/{KUSTOMIZATION}", b"")
        where.pending[app.app] = partial(committed_patches, app.app, data)
    return where
