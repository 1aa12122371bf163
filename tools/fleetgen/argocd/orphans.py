"""FG963: every app directory under applicationsets/ belongs to a descriptor.

The model ApplicationSets' git files generator turns every `app.json` below their directory
into an Application. A directory copied by hand, or left behind when a descriptor was deleted
outside `fleetgen generate`, is deployed by Argo CD although no descriptor owns it, and no
change to the fleet will ever touch it again. FG714 only sees the files fleetgen once wrote.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from fleetgen.argocd.checks import Snapshot
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location

__all__ = ["check_orphans"]


def check_orphans(snap: Snapshot, planned: Collection[str]) -> Iterator[Diagnostic]:
    """FG963 for each generator file an ApplicationSet reads that fleetgen does not plan."""
    seen: set[str] = set()
    for app in snap.apps:
        params = app.params_file
        if params is None or params in planned or params in seen:
            continue
        if not params.endswith("/app.json"):
            continue
        seen.add(params)
        yield diag(
            "FG963",
            f"{params} makes {app.generated_by} deploy {app.name}, but no descriptor in fleet/ "
            "places a model there: Argo CD runs an app nothing owns",
            Location(params, 1, 1),
            hint="delete the directory (or restore its descriptor and run `fleetgen generate`)",
        )
