"""FG931: every patch of a generated overlay finds the base object it was generated for.

kustomize applies a `patches:` entry to the objects its `target` selects and says nothing when
it selects none. Someone who drops `networkpolicy.yaml` from `base/model` (or renames the object
in it) leaves every overlay's NetworkPolicy patch without a target: the build succeeds and the
predictor pods run with no policy at all. Each distinct set of (resources, components) the
overlays build on is rendered once without the overlay's own patches, and each patch target
must select an object of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.rendered import fastrender
from fleetgen.rendered.provenance import parsed_base

__all__ = ["check_patch_targets"]

KUSTOMIZATION = "kustomization.yaml"
_Target = tuple[tuple[str, str], ...]


def _targets(kustomization: Mapping[str, Any]) -> Iterator[_Target]:
    for entry in kustomization.get("patches") or []:
        if isinstance(entry, dict) and isinstance(entry.get("target"), dict):
            yield tuple(sorted((str(k), str(v)) for k, v in entry["target"].items()))


def _selects(doc: Mapping[str, Any], target: Mapping[str, str]) -> bool:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    have = {
        "group": group,
        "version": version,
        "kind": str(doc.get("kind", "")),
        "name": str((doc.get("metadata") or {}).get("name", "")),
    }
    return all(have.get(k) == v for k, v in target.items() if k in have)


def _overlays(planned: Mapping[str, bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    for rel, data in sorted(planned.items()):
        if rel.endswith("/" + KUSTOMIZATION):
            loaded = yaml.load(data, Loader=yaml.CSafeLoader)
            if isinstance(loaded, dict) and loaded.get("patches"):
                yield rel.rsplit("/", 1)[0], loaded


def _resolve(directory: str, entry: str) -> str:
    return Path(directory, entry).as_posix() if entry.startswith(".") else entry


def _normalized(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _documents(root: Path, directory: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(repository path, document) of every YAML object file in `directory`."""
    for path in sorted((root / directory).glob("*.yaml")):
        if path.name == KUSTOMIZATION:
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for doc in docs:
            if isinstance(doc, dict):
                yield f"{directory}/{path.name}", doc


def _line(root: Path, rel: str, keys: list[str | int]) -> Location:
    parsed = parsed_base(root / rel, rel)
    if parsed is None:
        return Location(rel)
    line, column = parsed.positions.key(keys)
    return Location(rel, line, column)


def _where(
    root: Path, overlay: str, kustomization: Mapping[str, Any], target: _Target, every: set[_Target]
) -> Location:
    """What to edit: the object's file when it was renamed, the kustomization that no longer
    lists a file still holding it, else the overlay's first resource's kustomization."""
    wanted = dict(target)
    dirs = [
        _normalized(_resolve(overlay, str(entry)))
        for field in ("resources", "components")
        for entry in kustomization.get(field) or []
    ]
    same_kind = {k: v for k, v in wanted.items() if k != "name"}
    renamed: Location | None = None
    for directory in dirs:
        for rel, doc in _documents(root, directory):
            if _selects(doc, wanted):
                return _line(root, f"{directory}/{KUSTOMIZATION}", ["resources"])
            others = any(_selects(doc, dict(t)) for t in every)
            if renamed is None and not others and _selects(doc, same_kind):
                renamed = _line(root, rel, ["metadata", "name"])
    if renamed is not None:
        return renamed
    return _line(root, f"{dirs[0] if dirs else overlay}/{KUSTOMIZATION}", ["resources"])


def check_patch_targets(root: Path, planned: Mapping[str, bytes]) -> list[Diagnostic]:
    """FG931 for every overlay patch whose target selects nothing in the overlay's base."""
    groups: dict[tuple[str, ...], tuple[str, dict[str, Any], set[_Target]]] = {}
    for directory, kustomization in _overlays(planned):
        key = tuple(
            str(x)
            for field in ("resources", "components")
            for x in [field, *(kustomization.get(field) or [])]
        )
        _, _, targets = groups.setdefault(key, (directory, kustomization, set()))
        targets.update(_targets(kustomization))
    found: dict[tuple[str, int, _Target], Diagnostic] = {}
    for _, (directory, kustomization, targets) in sorted(groups.items()):
        without = yaml.safe_dump({k: v for k, v in kustomization.items() if k != "patches"})
        try:
            docs = fastrender.render(
                root / directory,
                root,
                {**planned, f"{directory}/{KUSTOMIZATION}": without.encode()},
            )
        except (fastrender.Unsupported, OSError, yaml.YAMLError, ValueError, KeyError):
            continue  # outside the fast subset: the kustomize build reports what breaks
        for target in sorted(targets):
            wanted = dict(target)
            if any(_selects(doc, wanted) for doc, _ in docs):
                continue
            at = _where(root, directory, kustomization, target, targets)
            label = f"{wanted.get('kind', '?')} {wanted.get('name', '?')}"
            found.setdefault(
                (at.file, at.line, target),
                diag(
                    "FG931",
                    f"the generated overlays patch {label}, which the base no longer renders: "
                    "kustomize skips the patch without a word, and the object is missing "
                    f"from every app built on it (e.g. {directory})",
                    at,
                    hint="list the object's file in the base's resources again, or remove the "
                    "feature from the generator (base/README.md lists what the overlays patch)",
                ),
            )
    return [found[k] for k in sorted(found)]
