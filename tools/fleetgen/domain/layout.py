"""Where generated files live. Everything fleetgen writes sits under one directory, so a
regenerate can replace it in one atomic step (see render.writer)."""

from __future__ import annotations

import posixpath

GENERATED_ROOT = "applicationsets"
MANIFEST = f"{GENERATED_ROOT}/.fleetgen-manifest.json"
BASE_MODEL = "base/model"
BASE_LLMISVC = "base/llmisvc"
BASE_PLATFORM = "base/platform"
APP_FILE = "app.json"


def component(name: str) -> str:
    return f"base/components/{name}"


def platform_component(name: str) -> str:
    return f"base/platform-components/{name}"


def cluster_dir(env: str, cluster: str) -> str:
    """Everything generated for one cluster of an environment."""
    return f"{GENERATED_ROOT}/{env}/{cluster}"


def platform_dir(env: str, cluster: str) -> str:
    """The shared platform overlay of one cluster."""
    return f"{GENERATED_ROOT}/{env}/{cluster}/platform"


def cluster_apps_file(env: str, cluster: str) -> str:
    """Concrete Applications of one cluster's platform (prerequisites and shared layer)."""
    return f"{GENERATED_ROOT}/{env}/{cluster}/platform-apps.yaml"


def app_dir(env: str, cluster: str, model: str) -> str:
    """The overlay (and Argo CD discovery file) of one model on one cluster."""
    return f"{GENERATED_ROOT}/{env}/{cluster}/models/{model}"


def app_glob(env: str, cluster: str) -> str:
    """The git files generator path that discovers a cluster's model apps."""
    return f"{GENERATED_ROOT}/{env}/{cluster}/models/*/{APP_FILE}"


def applicationset_file(env: str, cluster: str) -> str:
    return f"{GENERATED_ROOT}/{env}-{cluster}.yaml"


def rollout_applicationset_file(env: str) -> str:
    """The one ApplicationSet of an environment that rolls out cluster by cluster."""
    return f"{GENERATED_ROOT}/{env}-models.yaml"


# The root Application and its AppProject: applied by hand once, never synced by the root.
# No "-" in the name, so no environment-cluster ApplicationSet file can take it.
BOOTSTRAP_FILE = f"{GENERATED_ROOT}/bootstrap.yaml"


def project_file(env: str) -> str:
    return f"{GENERATED_ROOT}/projects/{env}.yaml"


def relative(from_dir: str, target: str) -> str:
    """A repository path as seen from a directory (kustomize needs relative paths)."""
    return posixpath.relpath(target, from_dir)
