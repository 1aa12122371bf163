"""The vLLM contract data on disk: the files fleetgen ships and a repository's own imports.

One JSON file per release (``0.34.0.json``), written by ``fleetgen runtime import``. A
repository's ``runtime/vllm/`` wins over the shipped data for the same release, so a user can
add a new vLLM release without waiting for a fleetgen release.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgen.core.errors import FleetgenError

BUNDLED = Path(__file__).parent / "data"
REPOSITORY_DIR = Path("runtime") / "vllm"
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.?(post|rc|dev)(\d+))?$")

Key = tuple[int, int, int, int, int]


def release_key(version: str) -> Key | None:
    """Sortable key of a release ("0.9.0.1", "v0.8.5.post1", "0.11"); None if not one."""
    match = _RELEASE.match(version.strip())
    if match is None:
        return None
    major, minor, patch, fourth, tag, number = match.groups()
    # A pre-release sorts before its release, a post-release after it.
    tagged = {"dev": -2, "rc": -1, "post": 1}.get(tag or "", 0) * (1000 + int(number or 0))
    return (int(major), int(minor), int(patch or 0), int(fourth or 0), tagged)


@dataclass(frozen=True, slots=True)
class Release:
    version: str
    document: Mapping[str, Any]
    path: Path


def _load(directory: Path) -> dict[Key, Release]:
    releases: dict[Key, Release] = {}
    if not directory.is_dir():
        return releases
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise FleetgenError(f"{path}: not a readable vLLM contract: {err}") from err
        version = str(document.get("version", "")) if isinstance(document, dict) else ""
        key = release_key(version)
        if key is None or document.get("runtime") != "vllm":
            raise FleetgenError(f"{path}: not a vLLM contract (no runtime/version)")
        releases[key] = Release(version, document, path)
    return releases


def load_releases(repository: Path | None) -> dict[Key, Release]:
    """Shipped releases, overlaid by those in ``repository/runtime/vllm`` (which win).

    A release stored as ``sameAs`` another gets that one's facts under its own version.
    """
    releases = _load(BUNDLED)
    if repository is not None:
        releases.update(_load(repository / REPOSITORY_DIR))
    by_version = {r.version: r for r in releases.values()}
    resolved: dict[Key, Release] = {}
    for key, release in sorted(releases.items()):
        document, hops = release.document, 0
        while "sameAs" in document:
            target = by_version.get(str(document["sameAs"]))
            hops += 1
            if target is None or hops > len(by_version):
                raise FleetgenError(
                    f"{release.path}: sameAs {document['sameAs']!r} names no known release"
                )
            document = target.document
        resolved[key] = Release(release.version, document, release.path)
    return resolved
