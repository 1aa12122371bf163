"""Anchor: ``check-jsonschema`` on the pre-commit path's descriptor.

The generic tool a hook could run instead: the same JSON Schema, one file, no cross-checks.
"""

from __future__ import annotations

from benchmarks.measure import Stat, measure
from benchmarks.workspace import SCHEMA, Bench, tool

LABELS: dict[str, str] = {
    "checkjsonschema": "anchor: `check-jsonschema --schemafile descriptor.schema.json <one>`",
}


def command(one: str) -> list[str]:
    return [tool("check-jsonschema"), "--schemafile", str(SCHEMA), one]


def check_one(bench: Bench) -> Stat:
    """``checkjsonschema``: median over the runs."""
    return measure(command(bench.one), bench.root, bench.repeat, bench.timeout)
