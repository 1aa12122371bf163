"""Repository configuration: the optional ``.fleetgen.yaml`` at the repository root.

A separate file rather than a ``[tool.fleetgen]`` table: a fleet repository is not a Python
project and has no ``pyproject.toml``. Keys (camelCase, like descriptors):

``schemaDir``
    Directory of converted CRD schemas, relative to the root (default ``schemas``):
    ``fleetgen schemas import`` writes there, strict manifest validation reads it.

Unknown keys are errors: a misspelt key must not silently fall back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fleetgen.core.errors import FleetgenError

__all__ = ["CONFIG_FILE", "DEFAULT_SCHEMA_DIR", "Config", "ConfigError", "load_config"]

CONFIG_FILE = ".fleetgen.yaml"
DEFAULT_SCHEMA_DIR = "schemas"
_KEYS = ("schemaDir",)


class ConfigError(FleetgenError):
    """``.fleetgen.yaml`` cannot be read or holds something wrong."""


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    schema_dir: Path  # root / schemaDir
    source: Path | None = None  # the file read; None when the repository has none


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
    return Config(root=root, schema_dir=root / schema_dir, source=path)


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
