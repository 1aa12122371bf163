"""A Markdown field reference generated from the packaged JSON Schemas (docs/*.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fleetgen.loading.schema import SchemaName, schema


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**root["$defs"][ref.removeprefix("#/$defs/")], **node}
    return node


def _type(root: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    node = _resolve(root, node)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "anyOf" in node and "type" not in node:
        return " \\| ".join(_type(root, branch) for branch in node["anyOf"])
    kind = str(node.get("type", "any"))
    if kind == "array":
        return f"list of {_type(root, node.get('items', {}))}"
    if kind == "object" and "properties" not in node:
        return "map"
    return kind


def _rows(root: Mapping[str, Any], node: Mapping[str, Any], path: str) -> Iterator[str]:
    node = _resolve(root, node)
    required = set(node.get("required", ()))
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(root, sub)
        dotted = f"{path}.{key}" if path else key
        default = f"`{sub['default']}`" if "default" in sub else ""
        need = "yes" if key in required else ""
        text = str(sub.get("description", "")).replace("|", "\\|")
        yield f"| `{dotted}` | {_type(root, sub)} | {need} | {default} | {text} |"
        items = sub.get("items")
        if isinstance(items, Mapping) and "properties" in _resolve(root, items):
            yield from _rows(root, items, f"{dotted}[]")
        extra = sub.get("additionalProperties")
        if isinstance(extra, Mapping) and "properties" in extra:
            yield from _rows(root, extra, f"{dotted}.<name>")
        yield from _rows(root, sub, dotted)


def reference(name: SchemaName) -> str:
    """The field reference of one schema, as Markdown."""
    root = schema(name)
    lines = [
        f"# {root['title']}",
        "",
        f"{root['description']} Generated from `tools/fleetgen/schemas/{name}.schema.json` "
        f"by `fleetgen schema {name} --format markdown`; do not edit.",
        "",
        "| field | type | required | default | description |",
        "|---|---|---|---|---|",
        *_rows(root, root, ""),
    ]
    return "\n".join(lines) + "\n"
