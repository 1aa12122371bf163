"""Where fleetgen keeps per-user caches, and how a cache file is replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path | None:
    """FLEETGEN_CACHE_DIR, else the XDG cache directory; None disables caching ("")."""
    explicit = os.environ.get("FLEETGEN_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fleetgen"


def write_cache_file(path: Path, data: bytes) -> None:
    """Replace a cache file atomically (readers see the old or the new content); a cache
    that cannot be written never fails the command."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
