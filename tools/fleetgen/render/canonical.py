"""The one serializer of generated files: stable key order, no line wrapping, "\n" endings.

Values coming from descriptors are data, never template text: the dumper quotes and escapes
whatever needs it, so no value can open a new YAML node or document.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

_Base: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    """Block style; multi-line strings (JSON6902 patches, dashboards) as literal blocks."""


# What a YAML 1.2 reader (Go's sigs.k8s.io/yaml, Argo CD) would take for a number or a bool,
# while PyYAML's YAML 1.1 resolver calls it a string and would write it unquoted.
_YAML12_SCALAR = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~"
)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif _YAML12_SCALAR.fullmatch(value):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any, *, header: str = "") -> bytes:
    """YAML text of `data` (keys in insertion order), prefixed by comment lines."""
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
        explicit_start=False,
    )
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return (comments + text).encode("utf-8")


def dump_yaml_documents(docs: list[Any], *, header: str = "") -> bytes:
    """Several YAML documents separated by `---`."""
    parts = [dump_yaml(doc).decode("utf-8") for doc in docs]
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return (comments + "---\n".join(parts)).encode("utf-8")


def dump_json(data: Any) -> bytes:
    """Pretty JSON with sorted keys and a final newline."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def embedded_json(data: Any) -> str:
    """Indented JSON for a ConfigMap value: rendered as a YAML block, so diffs stay readable."""
    # No final newline: kustomize drops it from patch values, and both renderers must agree.
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
