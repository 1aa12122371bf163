"""FG012: names that must equal the file they live in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet


def check_file_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """A descriptor's name equals its file stem; an environment's its directory name."""
    for desc in fleet.focused():
        stem = PurePosixPath(desc.source.path).stem
        if desc.name != stem:
            yield diag(
                "FG012",
                f"metadata.name {desc.name!r} differs from the file name {stem!r}",
                desc.source.at("metadata", "name"),
                hint=f"rename the file to {desc.name}.yaml or the model to {stem!r}",
            )
    for env in fleet.environments.values():
        directory = PurePosixPath(env.source.path).parent.name
        if env.name != directory:
            yield diag(
                "FG012",
                f"metadata.name {env.name!r} differs from the directory name {directory!r}",
                env.source.at("metadata", "name"),
                hint=f"the environment's directory must be environments/{env.name}/",
            )
