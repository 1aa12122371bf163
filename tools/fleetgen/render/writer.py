"""Compare a file plan with the disk, and apply it atomically.

Everything generated lives under one directory (layout.GENERATED_ROOT). A regenerate builds
the complete new directory beside the old one (hard links for unchanged files, so it is
cheap), then swaps the two with one renameat2(RENAME_EXCHANGE): a run killed at any point
leaves exactly the old tree or exactly the new one. Only files listed in the previous run's
manifest are ever removed; hand-written files under the directory are carried over.

Without RENAME_EXCHANGE (other kernels, some file systems) no single call can replace a
non-empty directory, so the swap is two renames: the old tree to RETIRED, which is also the
durable record that a swap is under way (the complete new tree is in STAGING), then STAGING
into place. A crash between the two leaves no generated directory; `recover` rolls that swap
forward, and every fleetgen command that reads or writes the tree runs it first (under the
lock), so the tree it sees is always exactly the old one or exactly the new one.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fleetgen.core.errors import FleetgenError
from fleetgen.domain import layout

LOCK_FILE = ".fleetgen.lock"
STAGING = f".{layout.GENERATED_ROOT}.fleetgen-staging"
# The old tree during a two-rename swap; while it exists, a swap is under way (or crashed).
RETIRED = f"{STAGING}-old"
_RENAME_EXCHANGE = 2  # renameat2 flag (Linux)
_RENAME_SWAP = 2  # renamex_np flag (macOS)
# errnos meaning "no atomic exchange here", as opposed to a real failure
_NO_EXCHANGE = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP})
_AT_FDCWD = -100


@dataclass(frozen=True, slots=True)
class Changes:
    """What applying a plan does (or would do) to the disk."""

    created: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.created or self.changed or self.removed)

    def lines(self, *, done: bool = False) -> list[str]:
        verbs = ("created", "updated", "deleted") if done else ("create", "update", "delete")
        return (
            [f"{verbs[0]} {p}" for p in self.created]
            + [f"{verbs[1]} {p}" for p in self.changed]
            + [f"{verbs[2]} {p}" for p in self.removed]
        )


def _owned(root: Path) -> set[str]:
    """Files the previous run wrote (its manifest), as repository paths."""
    manifest = root / layout.MANIFEST
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
        files = record["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    prefix = layout.GENERATED_ROOT + "/"
    owned = {prefix + str(rel) for rel in files}
    return {p for p in owned if ".." not in Path(p).parts}


def compute_changes(root: Path, desired: Mapping[str, bytes]) -> Changes:
    """What applying `desired` would change. A swap a crash interrupted is finished first,
    so the comparison is with exactly the old or exactly the new tree."""
    if _present(root / RETIRED):
        with generate_lock(root):
            recover(root)
    return _compare(root, desired)


def _compare(root: Path, desired: Mapping[str, bytes]) -> Changes:
    created, changed = [], []
    for path, data in desired.items():
        target = root / path
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            created.append(path)
            continue
        if current != data:
            changed.append(path)
    removed = sorted(p for p in _owned(root) - set(desired) if (root / p).is_file())
    return Changes(tuple(sorted(created)), tuple(sorted(changed)), tuple(removed))


@contextmanager
def generate_lock(root: Path, *, wait_seconds: float = 30.0) -> Iterator[None]:
    """One generate at a time per repository: wait for the holder, then fail clearly."""
    with (root / LOCK_FILE).open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FleetgenError(
                        f"another `fleetgen generate` is running in {root} "
                        f"(waited {wait_seconds:.0f} s for {LOCK_FILE})"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove(path: Path) -> None:
    """Delete a leftover of fleetgen's; a link there is not ours: drop the link only."""
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def recover(root: Path) -> None:
    """Finish a two-rename swap that a crash interrupted. Call with the lock held; idempotent.

    RETIRED appears only after STAGING is complete, and goes only after the swap: with no
    generated directory, STAGING (the new tree, hand-written files included) goes into place;
    with one, the swap was done and RETIRED is the old tree.
    """
    retired = root / RETIRED
    if retired.is_symlink():  # not made by fleetgen (a committed link): never follow it
        retired.unlink()
        return
    if not retired.exists():
        return
    target = root / layout.GENERATED_ROOT
    staging = root / STAGING
    if not _present(target):
        if staging.is_symlink() or not staging.is_dir():
            # Not a state the writer leaves: keep the old tree rather than none.
            retired.rename(target)
            return
        staging.rename(target)  # roll forward
    shutil.rmtree(retired)


def settle(root: Path) -> None:
    """Clean up after a crashed run (an interrupted swap, a staging directory), if it left
    anything: for callers that may skip `apply` (a tree known to be current)."""
    if _present(root / RETIRED) or _present(root / STAGING):
        with generate_lock(root):
            recover(root)
            _remove(root / STAGING)


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if sys.platform == "darwin":
        result = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    else:
        result = libc.renameat2(
            _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
        )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a))


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    try:
        _exchange(staging, target)
    except (OSError, AttributeError) as exc:
        if isinstance(exc, OSError) and exc.errno not in _NO_EXCHANGE:
            raise
        # No atomic exchange here: two renames, with RETIRED as the record that `recover`
        # rolls forward if a crash comes between them.
        retired = staging.with_name(RETIRED)
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired)


def _refuse_links(root: Path, target: Path) -> None:
    """fleetgen never writes or deletes through a link: a link in its tree is an error."""
    if target.is_symlink():
        raise FleetgenError(
            f"{layout.GENERATED_ROOT} is a symlink; fleetgen will not write through it"
        )
    for directory, dirs, files in os.walk(target):
        for name in (*dirs, *files):
            path = Path(directory) / name
            if path.is_symlink():
                rel = path.relative_to(root).as_posix()
                raise FleetgenError(f"{rel} is a symlink; fleetgen will not write through it")


def _prune_empty_dirs(start: Path, stop: Path) -> None:
    current = start
    while current != stop and current.is_dir() and not any(current.iterdir()):
        current.rmdir()
        current = current.parent


def apply(root: Path, desired: Mapping[str, bytes]) -> Changes:
    """Make the generated directory match `desired`, atomically; return what changed."""
    with generate_lock(root):
        recover(root)  # before anything else: it may need STAGING
        _remove(root / STAGING)
        changes = _compare(root, desired)
        if changes.empty:
            return changes
        target = root / layout.GENERATED_ROOT
        staging = root / STAGING
        _refuse_links(root, target)
        if target.is_dir():
            shutil.copytree(target, staging, copy_function=os.link, symlinks=True)
        else:
            staging.mkdir()
        prefix = layout.GENERATED_ROOT + "/"
        for path in changes.removed:
            stale = staging / path.removeprefix(prefix)
            stale.unlink()
            _prune_empty_dirs(stale.parent, staging)
        for path in (*changes.created, *changes.changed):
            dest = staging / path.removeprefix(prefix)
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Hard-linked from the old tree: replace the link, never write through it.
            dest.unlink(missing_ok=True)
            dest.write_bytes(desired[path])
        _swap_in(staging, target)
        _remove(staging)  # the old tree, after an exchange
        return changes
