"""FG780, FG781: the environments agree with the root Application of .fleetgen.yaml.

The root syncs this repository's ApplicationSets and AppProjects; each ApplicationSet then
reads its models' app.json from the environment's `argocd.repoURL`, and Argo CD reads
AppProjects only from its own namespace. An environment pointing elsewhere is almost always a
typo that leaves its models undeployed, but a mirror URL or a second Argo CD can be meant,
hence warnings.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet

__all__ = ["check_bootstrap"]


def check_bootstrap(fleet: Fleet) -> Iterator[Diagnostic]:
    boot = fleet.bootstrap
    if boot is None:
        return
    for env in sorted(fleet.environments.values(), key=lambda e: e.name):
        if not fleet.in_focus(env.source.path):
            continue
        if env.argocd.repo_url != boot.repo_url:
            yield diag(
                "FG780",
                f"argocd.repoURL {env.argocd.repo_url!r} is not the repository the root "
                f"Application syncs ({boot.repo_url!r} in .fleetgen.yaml)",
                env.source.at("spec", "argocd", "repoURL"),
                hint="use the same URL in both, or the ApplicationSets read another repository",
            )
        if env.argocd.namespace != boot.namespace:
            yield diag(
                "FG781",
                f"argocd.namespace {env.argocd.namespace!r} is not Argo CD's namespace "
                f"({boot.namespace!r} in .fleetgen.yaml): Argo CD reads AppProjects only "
                "from its own namespace",
                env.source.at("spec", "argocd", "namespace"),
                hint="use bootstrap.namespace, or bootstrap a second Argo CD for this environment",
            )
