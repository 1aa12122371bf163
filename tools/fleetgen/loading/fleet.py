"""Load the whole repository into a Fleet: files -> parse -> schema -> model."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fleetgen.diagnostics import Diagnostic
from fleetgen.environment import Environment
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.discover import Inputs, discover
from fleetgen.loading.read import (
    focused_environments,
    load_data_only,
    load_environments,
    load_input,
)
from fleetgen.model import Descriptor

if TYPE_CHECKING:
    from fleetgen.footprint import Footprint, FootprintIndex


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
        from fleetgen.loading.focused import load_focused

        return load_focused(root, inputs, diags, focus)
    environments = load_environments(root, inputs, diags)
    descriptors: dict[str, Descriptor] = {}
    cache = LoadCache(root, schema.schema_text("descriptor")) if focus is not None else None
    for rel in inputs.descriptors:
        if cache is not None and focus is not None and rel not in focus:
            quick = load_data_only(root, rel, cache)
            if quick is not None:
                descriptors[rel] = quick
            continue
        desc, problems = load_input(root, rel, "descriptor")
        diags.extend(problems)
        if isinstance(desc, Descriptor):
            descriptors[rel] = desc
    if cache is not None and focus is not None:
        cache.save()
        envs = focused_environments(environments, focus)
        related = {rel for rel, d in descriptors.items() if envs & set(d.environments)}
        for rel in sorted(related - focus):
            desc, problems = load_input(root, rel, "descriptor")
            diags.extend(problems)
            if isinstance(desc, Descriptor):
                descriptors[rel] = desc
        focus = focus | related
    ordered = sorted(descriptors.values(), key=lambda d: (d.name, d.source.path))
    fleet = Fleet(root, tuple(ordered), environments, inputs, focus)
    return fleet, diags
