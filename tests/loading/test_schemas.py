"""The shipped JSON Schemas: valid draft 2020-12, strict, documented, and matching the files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from fleetgen.loading.schema import SCHEMA_NAMES, apply_defaults, schema

REPO = Path(__file__).resolve().parents[2]


def _objects(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{path}[{index}]")


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_strict_and_documented(name: str) -> None:
    doc = schema(name)  # type: ignore[arg-type]
    Draft202012Validator.check_schema(doc)
    objects = list(_objects(doc))
    assert objects
    for path, obj in objects:
        assert obj.get("additionalProperties") is False, f"{path} is not strict"
        for key, prop in obj["properties"].items():
            assert prop.get("description"), f"{path}.{key} has no description"


def test_defaults_are_filled_only_where_absent() -> None:
    data = {
        "apiVersion": "fleetgen.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m", "team": "t", "contact": "a@b.c"},
        "spec": {
            "model": {"storageUri": "s3://b/m", "servedName": "m"},
            "runtime": {
                "image": "vllm/vllm-openai:v0.11.2",
                "maxModelLen": 4096,
                "tensorParallel": 2,
            },
            "resources": {"gpuPool": "p", "gpusPerReplica": 2},
            "environments": {"dev": {}},
        },
    }
    filled = apply_defaults("descriptor", data)
    runtime = filled["spec"]["runtime"]
    assert runtime["tensorParallel"] == 2
    assert runtime["gpuMemoryUtilization"] == 0.9
    assert filled["spec"]["autoscaling"]["metric"] == "vllm:num_requests_waiting"
    assert "architecture" not in filled["spec"]["model"]
    assert data["spec"]["runtime"] == {
        "image": "vllm/vllm-openai:v0.11.2",
        "maxModelLen": 4096,
        "tensorParallel": 2,
    }


def test_example_files_pass_check_jsonschema() -> None:
    """An independent validator agrees that the example files match the shipped schemas."""
    exe = Path(sys.executable).parent / "check-jsonschema"
    for name, files in (
        ("descriptor", sorted((REPO / "fleet").glob("*.yaml"))),
        ("environment", sorted((REPO / "environments").glob("*/environment.yaml"))),
    ):
        schema_file = REPO / "tools" / "fleetgen" / "schemas" / f"{name}.schema.json"
        result = subprocess.run(
            [str(exe), "--schemafile", str(schema_file), *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert files


def test_schema_files_are_pretty_json() -> None:
    for name in SCHEMA_NAMES:
        path = REPO / "tools" / "fleetgen" / "schemas" / f"{name}.schema.json"
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=2) + "\n"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_field_reference_in_docs_is_in_sync(name: str) -> None:
    from fleetgen.authoring.schema_docs import reference

    committed = (REPO / "docs" / f"{name}.md").read_text()
    assert committed == reference(name)  # type: ignore[arg-type]
    for key in schema(name)["properties"]["spec"]["properties"]:  # type: ignore[arg-type]
        assert f"`spec.{key}`" in committed
