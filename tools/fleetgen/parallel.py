"""Spread independent work over the machine's cores with forked worker processes.

fork is what makes this cheap: a worker inherits the loaded fleet, the schemas and the task
itself instead of unpickling them; only results travel back. Where fork is unsafe (macOS
frameworks) or missing, or the work is small, everything runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_TASK: Callable[[int], Any] | None = None  # set in the parent just before forking


def cores() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def workers(requested: int | None, *, size: int, threshold: int, parts: int) -> int:
    """How many processes to use: `requested`, else every core once `size` reaches
    `threshold`; never more than `parts` (the pieces the work splits into)."""
    if requested is None:
        requested = cores() if size >= threshold else 1
    if not can_fork():
        return 1
    return max(1, min(requested, parts))


def fork_map(task: Callable[[int], T], count: int, *, processes: int | None = None) -> list[T]:
    """[task(0), ..., task(count - 1)], in order, over `processes` forked workers (default:
    one per task). Each task runs in a fresh fork, so the memory one task used is returned
    to the system before the next starts."""
    processes = count if processes is None else min(processes, count)
    if processes <= 1 or not can_fork():
        return [task(index) for index in range(count)]
    global _TASK
    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes, maxtasksperchild=1) as pool:
            return pool.map(_run, range(count), chunksize=1)
    finally:
        _TASK = None


def _run(index: int) -> Any:
    assert _TASK is not None, "worker started without a task"
    return _TASK(index)
