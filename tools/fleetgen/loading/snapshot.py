"""A per-user cache of the fleet's footprints, so the pre-commit path reads only its files.

Every descriptor outside the hook's files enters the cross-file checks through its footprint
(fleetgen.domain.footprint), which depends on the file, on the environment files and on fleetgen's
code. Like git's index, the cache keeps each file's footprint with its stat (size, mtime,
inode, ctime) and content digest: a file whose stat is unchanged is not read, a changed stat
costs a read and a hash, and only changed content is parsed again. A stat taken less than a
second after the file last changed is not trusted, since a second write within the same
timestamp tick could keep it; such a file is hashed next time instead.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Mapping
from pathlib import Path

from fleetgen import __version__
from fleetgen.core.cache_files import cache_dir, write_cache_file

FORMAT = 1
RACY_NS = 1_000_000_000
_PACKAGE = Path(__file__).resolve().parent.parent

StatKey = tuple[int, int, int, int]  # size, mtime, inode, ctime (ns)
Record = tuple[object, ...] | None  # a footprint's record; None: the file is not valid
# stat key (None: hash the file next time), content sha256, record
Entry = tuple[StatKey | None, bytes, Record]


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def code_stamp() -> bytes:
    """Size and mtime of each of fleetgen's modules: a reinstall or an edit changes it."""
    parts: list[str] = [__version__]
    for directory, dirs, names in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".json")):
                st = (Path(directory) / name).stat()
                parts.append(f"{directory}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts).encode()


def inputs_context(environment_files: Mapping[str, bytes | None], schema_text: str) -> bytes:
    """What every footprint depends on besides its own file: the environment files' bytes
    as loaded (None: unreadable), the descriptor schema and fleetgen's code."""
    digest = hashlib.sha256(code_stamp())
    digest.update(schema_text.encode())
    for rel, content in sorted(environment_files.items()):
        digest.update(b"\0" + rel.encode() + b"\0")
        digest.update(b"unreadable" if content is None else hashlib.sha256(content).digest())
    return digest.digest()


class FootprintCache:
    """Per repository: path -> Entry, valid for one context (environments, schema, code)."""

    def __init__(self, root: Path, context: bytes) -> None:
        directory = cache_dir()
        key = hashlib.sha256(str(root).encode()).hexdigest()[:24]
        self.path = directory / "footprints" / f"{key}.marshal" if directory else None
        self.context = context
        self.started_ns = time.time_ns()
        self.entries: dict[str, Entry] = {}
        self.seen: dict[str, Entry] = {}
        if self.path is None:
            return
        try:
            loaded = marshal.loads(self.path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return
        if (
            isinstance(loaded, tuple)
            and len(loaded) == 3
            and loaded[0] == FORMAT
            and loaded[1] == context
            and isinstance(loaded[2], dict)
        ):
            self.entries = loaded[2]

    def by_stat(self, rel: str, key: StatKey) -> Entry | None:
        """The entry of a file whose stat is unchanged since it was recorded."""
        entry = self.entries.get(rel)
        if entry is None or entry[0] is None or entry[0] != key:
            return None
        self.seen[rel] = entry
        return entry

    def by_digest(self, rel: str, digest: bytes) -> Entry | None:
        entry = self.entries.get(rel)
        return entry if entry is not None and entry[1] == digest else None

    def put(self, rel: str, key: StatKey | None, digest: bytes, record: Record) -> None:
        if key is not None and key[3] >= self.started_ns - RACY_NS:
            key = None
        self.seen[rel] = (key, digest, record)

    def save(self) -> None:
        """Keep the files of this run; write only when something changed."""
        if self.path is None or self.seen == self.entries:
            return
        data = marshal.dumps((FORMAT, self.context, self.seen))
        write_cache_file(self.path, data)
