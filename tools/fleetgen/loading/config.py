"""Repository configuration: the optional ``.fleetgen.yaml`` at the repository root.

A separate file rather than a ``[tool.fleetgen]`` table: a fleet repository is not a Python
project and has no ``pyproject.toml``. Keys (camelCase, like descriptors):

``schemaDir``
    Directory of converted CRD schemas, relative to the root (default ``schemas``):
    ``fleetgen schemas import`` writes there, strict manifest validation reads it.

``bootstrap``
    The Argo CD root Application that syncs ``applicationsets/``: ``repoURL`` and
    ``targetRevision`` of this repository (both required), ``namespace`` of Argo CD
    (default ``argocd``) and ``name`` (default ``fleet``: the Application ``<name>-root`` in
    the AppProject ``<name>-bootstrap``). Without it no root Application is generated.

Unknown keys are errors: a misspelt key must not silently fall back to a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fleetgen.core.errors import FleetgenError

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_SCHEMA_DIR",
    "Bootstrap",
    "Config",
    "ConfigError",
    "load_config",
]

CONFIG_FILE = ".fleetgen.yaml"
DEFAULT_SCHEMA_DIR = "schemas"
_KEYS = ("schemaDir", "bootstrap")
_BOOTSTRAP_KEYS = ("repoURL", "targetRevision", "namespace", "name")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# name is suffixed with "-bootstrap" (10 characters) and must stay a DNS label.
_NAME_MAX = 63 - len("-bootstrap")


class ConfigError(FleetgenError):
    """``.fleetgen.yaml`` cannot be read or holds something wrong."""


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    schema_dir: Path  # root / schemaDir
    source: Path | None = None  # the file read; None when the repository has none
    bootstrap: Bootstrap | None = None


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Where the root Application finds this repository, and what it is called."""

    repo_url: str
    target_revision: str
    namespace: str = "argocd"
    name: str = "fleet"


def load_config(root: Path) -> Config:
    """The configuration of the repository at ``root`` (defaults when there is no file)."""
    path = root / CONFIG_FILE
    if not path.exists():
        return Config(root=root, schema_dir=root / DEFAULT_SCHEMA_DIR)
    data = _read(path)
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(_KEYS)}"
        )
    schema_dir = _relative_dir(path, "schemaDir", data.get("schemaDir", DEFAULT_SCHEMA_DIR))
    bootstrap = _bootstrap(path, data["bootstrap"]) if "bootstrap" in data else None
    return Config(root=root, schema_dir=root / schema_dir, source=path, bootstrap=bootstrap)


def _bootstrap(path: Path, value: Any) -> Bootstrap:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: bootstrap must be a mapping, not {value!r}")
    unknown = sorted(set(value) - set(_BOOTSTRAP_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: bootstrap: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(_BOOTSTRAP_KEYS)}"
        )
    for key in ("repoURL", "targetRevision"):
        if key not in value:
            raise ConfigError(f"{path}: bootstrap: {key} is required")
    for key, item in value.items():
        # Plain strings only: they are written verbatim into the root Application.
        if not isinstance(item, str) or not item.strip() or item != item.strip():
            raise ConfigError(f"{path}: bootstrap: {key} must be a non-empty string, not {item!r}")
        if any(ch in item for ch in "\n\r\t "):
            raise ConfigError(f"{path}: bootstrap: {key} must not contain whitespace: {item!r}")
    for key, limit in (("namespace", 63), ("name", _NAME_MAX)):
        item = value.get(key)
        if item is not None and (not _DNS_LABEL.fullmatch(item) or len(item) > limit):
            raise ConfigError(
                f"{path}: bootstrap: {key} must be a DNS label of at most {limit} "
                f"characters (lower-case letters, digits, '-'), not {item!r}"
            )
    return Bootstrap(
        repo_url=value["repoURL"],
        target_revision=value["targetRevision"],
        namespace=value.get("namespace", "argocd"),
        name=value.get("name", "fleet"),
    )


def _read(path: Path) -> dict[str, Any]:
    from fleetgen.kube.manifests import ManifestError, load_manifests

    try:
        docs = load_manifests(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except ManifestError as exc:
        raise ConfigError(str(exc)) from exc
    if len(docs) > 1:
        raise ConfigError(f"{path}: expected one YAML document, found {len(docs)}")
    return docs[0] if docs else {}


def _relative_dir(path: Path, key: str, value: Any) -> PurePosixPath:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {key} must be a non-empty string, not {value!r}")
    relative = PurePosixPath(value)
    # Committed configuration must work in every clone: no absolute or escaping paths.
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(f"{path}: {key} must be a path inside the repository, not {value!r}")
    return relative
