"""Load the whole repository into a Fleet: files -> parse -> schema -> model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.model import Descriptor
from fleetgen.knowledge import runtime_contract
from fleetgen.loading import schema
from fleetgen.loading.cache import LoadCache
from fleetgen.loading.config import load_config
from fleetgen.loading.discover import discover
from fleetgen.loading.fleet import Fleet
from fleetgen.loading.read import (
    focused_environments,
    load_data_only,
    load_environments,
    load_input,
)


def load_fleet(
    root: Path, *, focus: frozenset[str] | None = None, lean: bool = False
) -> tuple[Fleet, list[Diagnostic]]:
    """Load every input of the repository at `root`; invalid files become diagnostics.

    With a focus, descriptors outside it are loaded for cross-file checks only (cached, no
    positions), and a focused environment file brings every descriptor deployed there into
    the focus (they cross-reference it). A lean focused load keeps only their footprints.
    """
    root = root.resolve()
    # The repository's own vLLM contracts (runtime/vllm/) win over the shipped ones.
    runtime_contract.use_repository(root)
    bootstrap = load_config(root).bootstrap
    inputs, diags = discover(root)
    if focus is not None and lean:
        from fleetgen.loading.focused import load_focused

        lean_fleet, lean_diags = load_focused(root, inputs, diags, focus)
        return dataclasses.replace(lean_fleet, bootstrap=bootstrap), lean_diags
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
    fleet = Fleet(root, tuple(ordered), environments, inputs, focus, bootstrap=bootstrap)
    return fleet, diags
