"""The pre-commit path's load: the files given in full, every other descriptor by its
footprint, from the footprint cache while its file is unchanged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetgen.core import parallel
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.core.positions import Positions
from fleetgen.domain.environment import Environment
from fleetgen.domain.footprint import Footprint, footprint_of
from fleetgen.domain.model import Descriptor, Source, descriptor_from
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.discover import Inputs
from fleetgen.loading.fleet import Fleet
from fleetgen.loading.read import (
    focused_environments,
    load_environments,
    load_input,
    read_input,
    valid_data,
)
from fleetgen.loading.snapshot import FootprintCache, Record, StatKey, inputs_context, stat_key

# Past this many changed files outside the focus, the load cache (one JSON file) pays for
# its own loading: an environment edit changes every footprint, not the files' data.
_LOAD_CACHE_AFTER = 16
# Past this many files to parse, forking workers pays for itself (about 1 ms a file).
_FORK_AFTER = 300


@dataclass(slots=True)
class _Changed:
    """A file outside the focus whose footprint must be derived again."""

    rel: str
    key: StatKey | None
    digest: bytes
    content: bytes


@dataclass(slots=True)
class _Run:
    """One focused load: what is known so far."""

    root: Path
    environments: Mapping[str, Environment]
    cache: FootprintCache
    diags: list[Diagnostic]
    descriptors: dict[str, Descriptor] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    changed: list[_Changed] = field(default_factory=list)

    def load_given(self, rel: str, key: StatKey | None) -> None:
        """A file given on the command line: in full, and its footprint kept for next time."""
        content = read_input(self.root, rel)
        desc, problems = load_input(self.root, rel, "descriptor", content)
        self.diags.extend(problems)
        record = None
        if isinstance(desc, Descriptor):
            self.descriptors[rel] = desc
            record = footprint_of(desc, self.environments).record()
        if isinstance(content, bytes):
            self.cache.put(rel, key, _digest(content), record)

    def look_up(self, rel: str, key: StatKey | None) -> None:
        """Another file: its footprint by stat, else by content digest, else to derive."""
        entry = self.cache.by_stat(rel, key) if key is not None else None
        if entry is not None:
            self.records[rel] = entry[2]
            return
        content = read_input(self.root, rel)
        if not isinstance(content, bytes):
            return  # unreadable or over the cap: left out, like any invalid file
        digest = _digest(content)
        entry = self.cache.by_digest(rel, digest)
        if entry is None:
            self.changed.append(_Changed(rel, key, digest, content))
            return
        self.cache.put(rel, key, digest, entry[2])
        self.records[rel] = entry[2]

    def derive_changed(self, schema_text: str) -> None:
        loads = None
        if len(self.changed) > _LOAD_CACHE_AFTER:
            known = [entry[1].decode() for entry in self.cache.seen.values()]
            loads = LoadCache(self.root, schema_text, keep=known)
        for item, (record, data) in zip(self.changed, self._derive(loads), strict=True):
            if loads is not None and data is not None:
                loads.put(LoadCache.digest(item.content), data)
            self.cache.put(item.rel, item.key, item.digest, record)
            self.records[item.rel] = record
        if loads is not None:
            loads.save()

    def _derive(self, loads: LoadCache | None) -> list[tuple[Record, Any]]:
        """(footprint record, schema-valid data) of every changed file. A cold run (a fresh
        clone, a CI runner) parses every descriptor: split over the cores, it takes a
        fraction of the time; the parse itself, not position tracking, is what costs."""
        changed = self.changed
        processes = parallel.workers(None, size=len(changed), threshold=_FORK_AFTER, parts=8)
        if processes <= 1:
            return [self._derive_one(item, loads) for item in changed]
        schema.prepare("descriptor")
        chunks = [changed[i::processes] for i in range(processes)]
        parts = parallel.fork_map(
            lambda i: [self._derive_one(item, loads) for item in chunks[i]], processes
        )
        out: list[tuple[Record, Any]] = [(None, None)] * len(changed)
        for i, part in enumerate(parts):
            out[i::processes] = part
        return out

    def _derive_one(self, item: _Changed, loads: LoadCache | None) -> tuple[Record, Any]:
        data = valid_data(item.content, item.rel, loads)
        if data is None:
            return None, None
        desc = descriptor_from(data, Source(item.rel, Positions(), {}))
        return footprint_of(desc, self.environments).record(), data

    def split_related(self, envs: set[str]) -> tuple[list[Footprint], set[str]]:
        """Footprints of the others, and the files deployed to a focused environment, which
        join the focus in full (they cross-reference that file)."""
        others: list[Footprint] = []
        related: set[str] = set()
        for rel, record in self.records.items():
            if record is None:
                continue
            footprint = Footprint.from_record(rel, record)
            if not envs & set(footprint.environments):
                others.append(footprint)
                continue
            related.add(rel)
            desc, problems = load_input(self.root, rel, "descriptor")
            self.diags.extend(problems)
            if isinstance(desc, Descriptor):
                self.descriptors[rel] = desc
        return others, related


def _digest(content: bytes) -> bytes:
    return LoadCache.digest(content).encode()


def load_focused(
    root: Path, inputs: Inputs, diags: list[Diagnostic], focus: frozenset[str]
) -> tuple[Fleet, list[Diagnostic]]:
    """Focused files in full (with positions); every other descriptor as its footprint."""
    schema_text = schema.schema_text("descriptor")
    # The cache is keyed by the environment bytes these footprints are derived from.
    contents: dict[str, bytes | None] = {}
    environments = load_environments(root, inputs, diags, contents)
    cache = FootprintCache(root, inputs_context(contents, schema_text))
    run = _Run(root, environments, cache, diags)
    base = f"{root}{os.sep}"
    for rel in inputs.descriptors:
        try:
            # A string path: building a Path per file costs more than the stat itself.
            key: StatKey | None = stat_key(os.stat(base + rel))  # noqa: PTH116
        except OSError:
            key = None
        if rel in focus:
            run.load_given(rel, key)
        else:
            run.look_up(rel, key)
    run.derive_changed(schema_text)
    others, related = run.split_related(focused_environments(run.environments, focus))
    cache.save()
    ordered = sorted(run.descriptors.values(), key=lambda d: (d.name, d.source.path))
    fleet = Fleet(root, tuple(ordered), run.environments, inputs, focus | related, tuple(others))
    return fleet, diags
