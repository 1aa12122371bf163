"""Load the whole repository into a Fleet: files -> parse -> schema -> model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location
from fleetgen.environment import Environment, environment_from
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.discover import Inputs, discover
from fleetgen.loading.positions import Positions
from fleetgen.loading.yaml_source import MAX_FILE_BYTES, ParsedFile, parse
from fleetgen.model import Descriptor, Source, descriptor_from


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every valid descriptor and environment of a repository."""

    root: Path
    descriptors: tuple[Descriptor, ...]
    environments: Mapping[str, Environment]
    inputs: Inputs
    # Files whose own diagnostics are wanted (the pre-commit path); None means all. Checks
    # that look at one descriptor at a time skip the others; cross-file checks see all.
    focus: frozenset[str] | None = None

    def descriptor(self, name: str) -> Descriptor | None:
        return next((d for d in self.descriptors if d.name == name), None)

    def in_focus(self, path: str) -> bool:
        return self.focus is None or path in self.focus

    def focused(self) -> tuple[Descriptor, ...]:
        """The descriptors whose own diagnostics are wanted."""
        return tuple(d for d in self.descriptors if self.in_focus(d.source.path))


def _read_capped(path: Path) -> bytes | int:
    """The file's bytes, or its size when that is over MAX_FILE_BYTES: a huge file is never
    read just to be refused. The read is bounded too, in case the file grows meanwhile
    (parse() refuses the extra byte)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            return size
        return handle.read(MAX_FILE_BYTES + 1)


def _read(root: Path, rel: str) -> ParsedFile | Diagnostic:
    try:
        content = _read_capped(root / rel)
    except OSError as exc:
        return diag("FG001", f"cannot read the file: {exc.strerror}", Location(rel))
    if isinstance(content, int):
        return diag("FG007", f"file is {content} bytes; the cap is {MAX_FILE_BYTES}", Location(rel))
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


def _load_cached(root: Path, rel: str, cache: LoadCache) -> Descriptor | None:
    """A descriptor outside the focus: its data only (no positions), from the cache if it
    has this exact content; files that do not pass the schema are left out."""
    try:
        content = _read_capped(root / rel)
    except OSError:
        return None
    if isinstance(content, int):  # over the cap: left out, like any invalid file
        return None
    digest = cache.digest(content)
    data = cache.get(digest)
    if data is None:
        parsed = parse(content, rel)
        if isinstance(parsed, Diagnostic) or schema.validate(parsed, "descriptor"):
            return None
        data = schema.apply_defaults("descriptor", parsed.data)
        cache.put(digest, data)
    return descriptor_from(data, Source(rel, Positions(), {}))


def load_fleet(
    root: Path, *, focus: frozenset[str] | None = None
) -> tuple[Fleet, list[Diagnostic]]:
    """Load every input of the repository at `root`; invalid files become diagnostics.

    With a focus, descriptors outside it are loaded for cross-file checks only (cached, no
    positions), and a focused environment file brings every descriptor deployed there into
    the focus (they cross-reference it).
    """
    root = root.resolve()
    inputs, diags = discover(root)
    descriptors: dict[str, Descriptor] = {}
    environments: dict[str, Environment] = {}
    for rel in inputs.environments:
        env, problems = _load_one(root, rel, "environment")
        diags.extend(problems)
        if isinstance(env, Environment):
            environments.setdefault(env.name, env)
    cache = LoadCache(root, schema.schema_text("descriptor")) if focus is not None else None
    for rel in inputs.descriptors:
        if cache is not None and focus is not None and rel not in focus:
            quick = _load_cached(root, rel, cache)
            if quick is not None:
                descriptors[rel] = quick
            continue
        desc, problems = _load_one(root, rel, "descriptor")
        diags.extend(problems)
        if isinstance(desc, Descriptor):
            descriptors[rel] = desc
    if cache is not None and focus is not None:
        cache.save()
        envs = {e.name for e in environments.values() if e.source.path in focus}
        related = {rel for rel, d in descriptors.items() if envs & set(d.environments)}
        for rel in sorted(related - focus):
            desc, problems = _load_one(root, rel, "descriptor")
            diags.extend(problems)
            if isinstance(desc, Descriptor):
                descriptors[rel] = desc
        focus = focus | related
    ordered = sorted(descriptors.values(), key=lambda d: (d.name, d.source.path))
    fleet = Fleet(root, tuple(ordered), MappingProxyType(environments), inputs, focus)
    return fleet, diags
