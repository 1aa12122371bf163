"""Read one input file: bytes (capped), parse with positions, schema, model object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.core.positions import Positions
from fleetgen.domain.environment import Environment, environment_from
from fleetgen.domain.model import Descriptor, Source, descriptor_from
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.discover import Inputs
from fleetgen.loading.yaml_source import MAX_FILE_BYTES, parse


def read_capped(path: Path) -> bytes | int:
    """The file's bytes, or its size when that is over MAX_FILE_BYTES: a huge file is never
    read just to be refused. The read is bounded too, in case the file grows meanwhile
    (parse() refuses the extra byte)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            return size
        return handle.read(MAX_FILE_BYTES + 1)


def read_input(root: Path, rel: str) -> bytes | Diagnostic:
    try:
        content = read_capped(root / rel)
    except OSError as exc:
        return diag("FG001", f"cannot read the file: {exc.strerror}", Location(rel))
    if isinstance(content, int):
        return diag("FG007", f"file is {content} bytes; the cap is {MAX_FILE_BYTES}", Location(rel))
    return content


def load_input(
    root: Path, rel: str, kind: schema.SchemaName, content: bytes | Diagnostic | None = None
) -> tuple[object | None, list[Diagnostic]]:
    content = read_input(root, rel) if content is None else content
    if isinstance(content, Diagnostic):
        return None, [content]
    parsed = parse(content, rel)
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


def valid_data(content: bytes, rel: str, cache: LoadCache | None) -> Any:
    """Schema-valid data with defaults, from the cache if it has this exact content; None
    for a file that does not pass the schema (left out, like any invalid file)."""
    digest = LoadCache.digest(content)
    data = cache.get(digest) if cache is not None else None
    if data is None:
        parsed = parse(content, rel, positions=False)
        if isinstance(parsed, Diagnostic) or schema.validate(parsed, "descriptor"):
            return None
        data = schema.apply_defaults("descriptor", parsed.data)
        if cache is not None:
            cache.put(digest, data)
    return data


def load_data_only(root: Path, rel: str, cache: LoadCache) -> Descriptor | None:
    """A descriptor outside the focus: its data only (no positions)."""
    try:
        content = read_capped(root / rel)
    except OSError:
        return None
    if isinstance(content, int):  # over the cap: left out, like any invalid file
        return None
    data = valid_data(content, rel, cache)
    return None if data is None else descriptor_from(data, Source(rel, Positions(), {}))


def load_environments(
    root: Path,
    inputs: Inputs,
    diags: list[Diagnostic],
    contents: dict[str, bytes | None] | None = None,
) -> MappingProxyType[str, Environment]:
    """Every valid environment by name; `contents`, when given, receives each file's bytes
    as read (None when unreadable), so callers need not read them again."""
    environments: dict[str, Environment] = {}
    for rel in inputs.environments:
        content = read_input(root, rel)
        if contents is not None:
            contents[rel] = content if isinstance(content, bytes) else None
        env, problems = load_input(root, rel, "environment", content)
        diags.extend(problems)
        if isinstance(env, Environment):
            environments.setdefault(env.name, env)
    return MappingProxyType(environments)


def focused_environments(
    environments: Mapping[str, Environment], focus: frozenset[str]
) -> set[str]:
    """Names of the focused environments: their descriptors cross-reference them."""
    return {e.name for e in environments.values() if e.source.path in focus}
