"""Load the whole repository into a Fleet: files -> parse -> schema -> model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location
from fleetgen.environment import Environment, environment_from
from fleetgen.loading import schema
from fleetgen.loading.discover import Inputs, discover
from fleetgen.loading.yaml_source import ParsedFile, parse
from fleetgen.model import Descriptor, Source, descriptor_from


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every valid descriptor and environment of a repository."""

    root: Path
    descriptors: tuple[Descriptor, ...]
    environments: Mapping[str, Environment]
    inputs: Inputs

    def descriptor(self, name: str) -> Descriptor | None:
        return next((d for d in self.descriptors if d.name == name), None)


def _read(root: Path, rel: str) -> ParsedFile | Diagnostic:
    try:
        content = (root / rel).read_bytes()
    except OSError as exc:
        return diag("FG001", f"cannot read the file: {exc.strerror}", Location(rel))
    return parse(content, rel)


def _load_one(
    root: Path, rel: str, kind: schema.SchemaName
) -> tuple[object | None, list[Diagnostic]]:
    parsed = _read(root, rel)
    if isinstance(parsed, Diagnostic):
        return None, [parsed]
    problems = schema.validate(parsed, kind)
    if problems:
        return None, problems
    data = schema.apply_defaults(kind, parsed.data)
    source = Source(rel, parsed.positions, parsed.data)
    if kind == "descriptor":
        return descriptor_from(data, source), []
    return environment_from(data, source), []


def load_fleet(root: Path) -> tuple[Fleet, list[Diagnostic]]:
    """Load every input of the repository at `root`; invalid files become diagnostics."""
    root = root.resolve()
    inputs, diags = discover(root)
    descriptors: list[Descriptor] = []
    environments: dict[str, Environment] = {}
    for rel in inputs.environments:
        env, problems = _load_one(root, rel, "environment")
        diags.extend(problems)
        if isinstance(env, Environment):
            environments.setdefault(env.name, env)
    for rel in inputs.descriptors:
        desc, problems = _load_one(root, rel, "descriptor")
        diags.extend(problems)
        if isinstance(desc, Descriptor):
            descriptors.append(desc)
    descriptors.sort(key=lambda d: (d.name, d.source.path))
    fleet = Fleet(root, tuple(descriptors), MappingProxyType(environments), inputs)
    return fleet, diags
