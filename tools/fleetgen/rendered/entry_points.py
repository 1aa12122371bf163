"""Strict validation of the Argo CD objects themselves: everything the root Application
applies (the resources of ``applicationsets/kustomization.yaml``: AppProjects, platform
Applications, ApplicationSets) and the bootstrap file that creates the root.

The app checks render what each Application deploys; these objects are what Argo CD reads
to deploy it, and a field Argo CD's CRDs reject would fail the whole root sync.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain import layout
from fleetgen.kube.schema_store import SchemaStore

__all__ = ["check_entry_points", "entry_point_files"]

_KUSTOMIZATION = f"{layout.GENERATED_ROOT}/kustomization.yaml"


def entry_point_files(files: Mapping[str, bytes]) -> list[str]:
    """The files the root syncs (from the planned kustomization), then the bootstrap."""
    listed: list[str] = []
    if _KUSTOMIZATION in files:
        kustomization = yaml.safe_load(files[_KUSTOMIZATION]) or {}
        for resource in kustomization.get("resources", []):
            path = posixpath.normpath(posixpath.join(layout.GENERATED_ROOT, str(resource)))
            if path in files:
                listed.append(path)
    if layout.BOOTSTRAP_FILE in files:
        listed.append(layout.BOOTSTRAP_FILE)
    return listed


def check_entry_points(files: Mapping[str, bytes], store: SchemaStore) -> list[Diagnostic]:
    """FG701/FG702/FG703 for every Argo CD object of the planned entry-point files."""
    out: list[Diagnostic] = []
    for path in entry_point_files(files):
        for node, doc in _documents(files[path]):
            api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
            name = str((doc.get("metadata") or {}).get("name", ""))
            if store.validator_for(api, kind) is None:
                out.append(
                    diag(
                        "FG703",
                        f"no schema for {api}/{kind} ({kind} {name} in {path})",
                        _at(path, node, ""),
                        hint="import its CRD with `fleetgen schemas import`",
                    )
                )
                continue
            for violation in store.validate(doc):
                out.append(
                    diag(
                        "FG701",
                        f"{kind} {name}: {violation.path or '/'}: {violation.message}",
                        _at(path, node, violation.path),
                    )
                )
            report = store.cel_report(doc)
            for broken in report.violations if report else ():
                out.append(
                    diag(
                        "FG702",
                        f"{kind} {name}: {broken.path or '/'}: {broken.message} "
                        f"(rule: {broken.rule})",
                        _at(path, node, broken.path),
                    )
                )
    return out


def _documents(data: bytes) -> Iterator[tuple[yaml.Node, dict[str, Any]]]:
    """Each document's node (for positions) with its data."""
    text = data.decode("utf-8")
    nodes = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    for node, doc in zip(nodes, docs, strict=True):
        if isinstance(doc, dict):
            yield node, doc


def _at(path: str, node: yaml.Node, pointer: str) -> Location:
    """The line of the deepest node a JSON pointer reaches (the document, at worst)."""
    for part in (p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]):
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            found = node.value[int(part)]
        else:
            found = None
        if found is None:
            break
        node = found
    return Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
