"""Load the whole repository into a Fleet: files -> parse -> schema -> model."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic, Location
from fleetgen.environment import Environment, environment_from
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.discover import Inputs, discover
from fleetgen.loading.positions import Positions
from fleetgen.loading.yaml_source import MAX_FILE_BYTES, parse
from fleetgen.model import Descriptor, Source, descriptor_from

if TYPE_CHECKING:
    from fleetgen.footprint import Footprint, FootprintIndex
    from fleetgen.loading.snapshot import Record, StatKey


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
    # A lean focused load (the pre-commit path) holds only the focused descriptors; the
    # others are known by their footprints, which is all the cross-file checks read.
    others: tuple[Footprint, ...] = ()
    # Not an init field: dataclasses.replace() must not carry a copy's stale sums over.
    _index: list[FootprintIndex] = field(
        default_factory=list, init=False, compare=False, repr=False
    )

    def footprints(self) -> FootprintIndex:
        """Every descriptor's footprint, loaded or not, summed up (computed once)."""
        if not self._index:
            from fleetgen.footprint import FootprintIndex, footprint_of

            loaded = (footprint_of(d, self.environments) for d in self.descriptors)
            self._index.append(FootprintIndex.of(itertools.chain(loaded, self.others)))
        return self._index[0]

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


def _read(root: Path, rel: str) -> bytes | Diagnostic:
    try:
        content = _read_capped(root / rel)
    except OSError as exc:
        return diag("FG001", f"cannot read the file: {exc.strerror}", Location(rel))
    if isinstance(content, int):
        return diag("FG007", f"file is {content} bytes; the cap is {MAX_FILE_BYTES}", Location(rel))
    return content


def _load_one(
    root: Path, rel: str, kind: schema.SchemaName, content: bytes | Diagnostic | None = None
) -> tuple[object | None, list[Diagnostic]]:
    content = _read(root, rel) if content is None else content
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


def _valid_data(content: bytes, rel: str, cache: LoadCache | None) -> Any:
    """Schema-valid data with defaults, from the cache if it has this exact content; None
    for a file that does not pass the schema (left out, like any invalid file)."""
    digest = LoadCache.digest(content)
    data = cache.get(digest) if cache is not None else None
    if data is None:
        parsed = parse(content, rel)
        if isinstance(parsed, Diagnostic) or schema.validate(parsed, "descriptor"):
            return None
        data = schema.apply_defaults("descriptor", parsed.data)
        if cache is not None:
            cache.put(digest, data)
    return data


def _load_cached(root: Path, rel: str, cache: LoadCache) -> Descriptor | None:
    """A descriptor outside the focus: its data only (no positions)."""
    try:
        content = _read_capped(root / rel)
    except OSError:
        return None
    if isinstance(content, int):  # over the cap: left out, like any invalid file
        return None
    data = _valid_data(content, rel, cache)
    return None if data is None else descriptor_from(data, Source(rel, Positions(), {}))


def _environments(
    root: Path, inputs: Inputs, diags: list[Diagnostic]
) -> MappingProxyType[str, Environment]:
    environments: dict[str, Environment] = {}
    for rel in inputs.environments:
        env, problems = _load_one(root, rel, "environment")
        diags.extend(problems)
        if isinstance(env, Environment):
            environments.setdefault(env.name, env)
    return MappingProxyType(environments)


def _focused_environments(
    environments: Mapping[str, Environment], focus: frozenset[str]
) -> set[str]:
    """Names of the focused environments: their descriptors cross-reference them."""
    return {e.name for e in environments.values() if e.source.path in focus}


def load_fleet(
    root: Path, *, focus: frozenset[str] | None = None, lean: bool = False
) -> tuple[Fleet, list[Diagnostic]]:
    """Load every input of the repository at `root`; invalid files become diagnostics.

    With a focus, descriptors outside it are loaded for cross-file checks only (cached, no
    positions), and a focused environment file brings every descriptor deployed there into
    the focus (they cross-reference it). A lean focused load keeps only their footprints.
    """
    root = root.resolve()
    inputs, diags = discover(root)
    if focus is not None and lean:
        return _load_lean(root, inputs, diags, focus)
    environments = _environments(root, inputs, diags)
    descriptors: dict[str, Descriptor] = {}
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
        envs = _focused_environments(environments, focus)
        related = {rel for rel, d in descriptors.items() if envs & set(d.environments)}
        for rel in sorted(related - focus):
            desc, problems = _load_one(root, rel, "descriptor")
            diags.extend(problems)
            if isinstance(desc, Descriptor):
                descriptors[rel] = desc
        focus = focus | related
    ordered = sorted(descriptors.values(), key=lambda d: (d.name, d.source.path))
    fleet = Fleet(root, tuple(ordered), environments, inputs, focus)
    return fleet, diags


# Past this many changed files outside the focus, the load cache (one JSON file) pays for
# its own loading: an environment edit changes every footprint, not the files' data.
_LOAD_CACHE_AFTER = 16


def _load_lean(
    root: Path, inputs: Inputs, diags: list[Diagnostic], focus: frozenset[str]
) -> tuple[Fleet, list[Diagnostic]]:
    """The pre-commit path: focused files in full, every other descriptor as its footprint,
    from the footprint cache when the file is unchanged."""
    from fleetgen.footprint import Footprint, footprint_of
    from fleetgen.loading.snapshot import FootprintCache, inputs_context, stat_key

    schema_text = schema.schema_text("descriptor")
    # Before loading: an environment edited during the run is seen as changed next time.
    cache = FootprintCache(root, inputs_context(root, inputs.environments, schema_text))
    environments = _environments(root, inputs, diags)
    envs = _focused_environments(environments, focus)
    descriptors: dict[str, Descriptor] = {}
    records: dict[str, Record] = {}
    changed: list[tuple[str, StatKey | None, bytes, bytes]] = []
    base = f"{root}{os.sep}"
    for rel in inputs.descriptors:
        try:
            # A string path: building a Path per file costs more than the stat itself.
            key: StatKey | None = stat_key(os.stat(base + rel))  # noqa: PTH116
        except OSError:
            key = None
        entry = cache.by_stat(rel, key) if key is not None and rel not in focus else None
        if entry is not None:
            records[rel] = entry[2]
            continue
        content = _read(root, rel)
        digest = LoadCache.digest(content).encode() if isinstance(content, bytes) else b""
        if rel in focus:
            desc, problems = _load_one(root, rel, "descriptor", content)
            diags.extend(problems)
            if isinstance(desc, Descriptor):
                descriptors[rel] = desc
            record = (
                footprint_of(desc, environments).record() if isinstance(desc, Descriptor) else None
            )
            if digest:
                cache.put(rel, key, digest, record)
            continue
        if not isinstance(content, bytes):
            continue  # unreadable or over the cap: left out, like any invalid file
        entry = cache.by_digest(rel, digest)
        if entry is not None:
            cache.put(rel, key, digest, entry[2])
            records[rel] = entry[2]
        else:
            changed.append((rel, key, digest, content))
    loads = (
        LoadCache(root, schema_text, keep=[e[1].decode() for e in cache.seen.values()])
        if len(changed) > _LOAD_CACHE_AFTER
        else None
    )
    for rel, key, digest, content in changed:
        data = _valid_data(content, rel, loads)
        record = None
        if data is not None:
            desc = descriptor_from(data, Source(rel, Positions(), {}))
            record = footprint_of(desc, environments).record()
        cache.put(rel, key, digest, record)
        records[rel] = record
    if loads is not None:
        loads.save()
    others: list[Footprint] = []
    related: set[str] = set()
    for rel, record in records.items():
        if record is None:
            continue
        footprint = Footprint.from_record(rel, record)
        if not envs & set(footprint.environments):
            others.append(footprint)
            continue
        related.add(rel)
        desc, problems = _load_one(root, rel, "descriptor")
        diags.extend(problems)
        if isinstance(desc, Descriptor):
            descriptors[rel] = desc
    cache.save()
    ordered = sorted(descriptors.values(), key=lambda d: (d.name, d.source.path))
    focus = focus | related
    fleet = Fleet(root, tuple(ordered), environments, inputs, focus, tuple(others))
    return fleet, diags
