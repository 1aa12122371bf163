"""The loaded repository: every valid descriptor and environment, and where each model runs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fleetgen.domain.environment import Environment
from fleetgen.domain.model import Descriptor
from fleetgen.domain.placement import Placement, placements_of
from fleetgen.loading.discover import Inputs

if TYPE_CHECKING:
    from fleetgen.domain.footprint import Footprint, FootprintIndex
    from fleetgen.loading.config import Bootstrap


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
    # The root Application's settings from .fleetgen.yaml (None: no root is generated).
    bootstrap: Bootstrap | None = None
    # Not an init field: dataclasses.replace() must not carry a copy's stale sums over.
    _index: list[FootprintIndex] = field(
        default_factory=list, init=False, compare=False, repr=False
    )

    def footprints(self) -> FootprintIndex:
        """Every descriptor's footprint, loaded or not, summed up (computed once)."""
        if not self._index:
            from fleetgen.domain.footprint import FootprintIndex, footprint_of

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


def placements(fleet: Fleet, *, include_retired: bool = False) -> Iterator[Placement]:
    """Every placement of the fleet, in descriptor then environment order."""
    for descriptor in fleet.descriptors:
        for env_name in descriptor.environments:
            if not include_retired and not descriptor.active_in(env_name):
                continue
            env = fleet.environments.get(env_name)
            if env is not None:
                yield from placements_of(descriptor, env)


def focused_placements(fleet: Fleet) -> Iterator[Placement]:
    """The placements of the descriptors in the fleet's focus (all, without one)."""
    if fleet.focus is None:
        yield from placements(fleet)
        return
    for descriptor in fleet.focused():
        for env_name in descriptor.environments:
            env = fleet.environments.get(env_name)
            if env is not None and descriptor.active_in(env_name):
                yield from placements_of(descriptor, env)
