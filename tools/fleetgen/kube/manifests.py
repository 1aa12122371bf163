"""Load multi-document Kubernetes YAML strictly and fast (libyaml via PyYAML's CSafeLoader)."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["ManifestError", "load_manifests"]


class ManifestError(Exception):
    """A manifest cannot be loaded; ``line``/``column`` are 1-based (0 when unknown)."""

    def __init__(self, source: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{source}:{line}:{column}: {message}")
        self.source = source
        self.line = line
        self.column = column
        self.message = message


class _DuplicateKey(yaml.constructor.ConstructorError):
    """Raised inside the loader; turned into a ManifestError carrying the source name."""

    def __init__(self, key: Any, first: yaml.Mark, second: yaml.Mark) -> None:
        super().__init__(
            None, None, f"duplicate key {key!r} (first defined at line {first.line + 1})", second
        )


class _StrictLoader(yaml.CSafeLoader):
    """CSafeLoader that rejects duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                # Keys brought in by a merge (<<) may legitimately be overridden.
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key; the base constructor reports it
                    continue
                if first is not None:
                    raise _DuplicateKey(key, first, key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


# Kubernetes (sigs.k8s.io/yaml) keeps 2024-01-01 a string; PyYAML would make it a date, which
# no JSON Schema "string" accepts.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


# A bare "=" resolves to YAML 1.1's !!value, which SafeConstructor cannot build (yaml/pyyaml#89).
def _construct_value(loader: _StrictLoader, node: yaml.Node) -> str:
    return str(node.value)


_StrictLoader.add_constructor("tag:yaml.org,2002:value", _construct_value)


def load_manifests(text: str, *, source: str) -> list[dict[str, Any]]:
    """Every non-empty document of ``text``; each must be a mapping."""
    loader = _StrictLoader(text)
    docs: list[dict[str, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None:
                continue
            if not isinstance(data, dict):
                mark = node.start_mark
                raise ManifestError(
                    source,
                    mark.line + 1,
                    mark.column + 1,
                    f"a manifest must be a mapping, not {type(data).__name__}",
                )
            docs.append(data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise ManifestError(source, line, column, _yaml_message(exc)) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(source, 0, 0, str(exc)) from exc
    finally:
        loader.dispose()
    return docs


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return ", ".join(parts) or str(exc)
