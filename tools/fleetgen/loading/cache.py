"""A per-user cache of validated inputs, keyed by file content.

The pre-commit hook reports only on the files it is given, but cross-file checks need every
other descriptor. Those were valid when they were committed; re-validating hundreds of them
on every commit is most of the hook's time. The cache keeps, per content hash, the data that
passed the schema (with defaults applied), so an unchanged file costs a read and a hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fleetgen import __version__
from fleetgen.core.cache_files import cache_dir, write_cache_file


class LoadCache:
    """content sha256 -> schema-valid data with defaults, for one repository and schema."""

    def __init__(self, root: Path, schema_text: str, keep: Iterable[str] = ()) -> None:
        """`keep`: digests of files this run will not look up but that are still there."""
        directory = cache_dir()
        key = hashlib.sha256(f"{__version__}\0{root}\0{schema_text}".encode()).hexdigest()
        self.path = directory / f"{key[:24]}.json" if directory else None
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set(keep)
        self.dirty = False
        if self.path is not None:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def digest(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def get(self, digest: str) -> Any:
        found = self.entries.get(digest)
        if found is not None:
            self.used.add(digest)
        return found

    def put(self, digest: str, data: Any) -> None:
        self.entries[digest] = data
        self.used.add(digest)
        self.dirty = True

    def save(self) -> None:
        """Keep only the entries this run used; write atomically; never fail the command."""
        if self.path is None or not (self.dirty or set(self.entries) - self.used):
            return
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        write_cache_file(self.path, json.dumps(keep, separators=(",", ":")).encode("utf-8"))
