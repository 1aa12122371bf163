"""Turn a vLLM wheel or sdist into contract data: flags, metrics, KV connectors, provenance.

``fleetgen runtime import`` runs this; the committed data under ``knowledge/vllm/data/`` was
written by it from the published artifacts. Nothing of the release is imported or run.
"""

from __future__ import annotations

import ast
import datetime
import json
from pathlib import Path
from typing import Any

from fleetgen.knowledge.vllm.cli_source import extract_cli
from fleetgen.knowledge.vllm.metric_source import extract_metrics
from fleetgen.knowledge.vllm.resolve import Resolver
from fleetgen.knowledge.vllm.sources import Artifact, SourceTree, read_archive

FORMAT = 1
_FACTORY = "vllm/distributed/kv_transfer/kv_connector/factory.py"


def kv_connectors(tree: SourceTree, resolver: Resolver) -> list[str]:
    """Names the connector factory registers (``register_connector("Name", module, cls)``)."""
    module = tree.module(_FACTORY)
    names: set[str] = set()
    for node in ast.walk(module) if module else []:
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "register_connector":
            values = resolver.strings(_FACTORY, node.args[0]) if node.args else None
            names.update(values or [])
    return sorted(names)


def facts(tree: SourceTree) -> dict[str, Any]:
    """Everything the contract holds about one release, without provenance."""
    resolver = Resolver(tree)
    cli = extract_cli(tree, resolver)
    flags: dict[str, dict[str, Any]] = {}
    for name in sorted(cli.flags):
        flag = cli.flags[name]
        entry: dict[str, Any] = {}
        if flag.negatable:
            entry["negatable"] = True
        if flag.hidden:
            entry["hidden"] = True
        if flag.deprecated:
            entry["deprecated"] = True
        if flag.removal:
            entry["removal"] = flag.removal
        flags[name] = entry
    metrics: dict[str, dict[str, Any]] = {}
    for metric in extract_metrics(tree, resolver):
        entry = {"type": metric.type, "labels": metric.labels, "module": metric.module}
        if metric.label_values:
            entry["values"] = metric.label_values
        if metric.hidden:
            entry["hidden"] = True
        if metric.deprecated:
            entry["deprecated"] = True
        if metric.replacement:
            entry["replacement"] = metric.replacement
        if metric.conditions:
            entry["conditions"] = metric.conditions
        if metric.inherited_labels:
            entry["inheritedLabels"] = True
        metrics[metric.name] = entry
    return {
        "flags": flags,
        "aliases": dict(sorted(cli.aliases.items())),
        "metrics": metrics,
        "kvConnectors": kv_connectors(tree, resolver),
    }


def contract_document(artifact: Artifact, tree: SourceTree, today: datetime.date) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "runtime": "vllm",
        "version": artifact.version,
        "provenance": {
            "artifact": artifact.file_name,
            "sha256": artifact.sha256,
            "extracted": today.isoformat(),
            "extractor": "fleetgen runtime import",
        },
        **facts(tree),
    }


def encode(document: dict[str, Any]) -> str:
    """Compact, key-sorted JSON: one file per release, stable across runs."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def read_release(path: Path, today: datetime.date | None = None) -> dict[str, Any]:
    artifact, tree = read_archive(path)
    return contract_document(artifact, tree, today or datetime.date.today())
