"""Spread independent work over the machine's cores with forked worker processes.

fork is what makes this cheap: a worker inherits the loaded fleet, the schemas and the task
itself instead of unpickling them; only results travel back. Where fork is unsafe (macOS
frameworks) or missing, or the work is small, everything runs in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from fleetgen.core import progress

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


class WorkerFailed(RuntimeError):
    """A worker process died without a result (killed, out of memory, ...)."""


def fork_map(task: Callable[[int], T], count: int, *, processes: int | None = None) -> list[T]:
    """[task(0), ..., task(count - 1)], in order, over `processes` forked workers (default:
    one per task).

    Each task runs in a fresh fork, so the memory one task used is returned to the system
    before the next starts. multiprocessing.Pool would wait forever for a worker the kernel
    killed, and ProcessPoolExecutor cannot fork a fresh worker per task; hence this small
    scheduler: a dead worker is an error at once. An exception in a task is raised here.
    """
    processes = count if processes is None else min(processes, count)
    if processes <= 1 or not can_fork():
        return [task(index) for index in range(count)]
    global _TASK
    _TASK = task
    # Everything the parent holds moves out of the collector's sight: a child's collections
    # would otherwise write to the header of every inherited object and copy its page.
    gc.freeze()
    context = multiprocessing.get_context("fork")
    waiting = list(range(count))
    running: dict[Connection, tuple[int, BaseProcess]] = {}
    results: dict[int, T] = {}
    try:
        while waiting or running:
            while waiting and len(running) < processes:
                index = waiting.pop(0)
                reader, writer = context.Pipe(duplex=False)
                child = context.Process(target=_child, args=(index, writer), daemon=True)
                child.start()
                writer.close()  # the child holds the only writer: its death reads as EOF
                running[reader] = (index, child)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                index, process = running[ready]
                try:
                    tag, message = ready.recv()
                except EOFError:
                    del running[ready]
                    ready.close()
                    process.join()
                    raise WorkerFailed(
                        f"worker process for part {index} died (exit code {process.exitcode})"
                    ) from None
                if tag == "progress":  # units of work done in the child: pass them on
                    progress.forward(message)
                    continue
                del running[ready]
                ready.close()
                process.join()
                ok, value = message
                if not ok:
                    raise value
                results[index] = value
    finally:
        _TASK = None
        gc.unfreeze()
        for _, leftover in running.values():
            leftover.kill()
            leftover.join()
    return [results[index] for index in range(count)]


def _child(index: int, writer: Connection) -> None:
    assert _TASK is not None, "worker started without a task"
    if progress.listening():
        progress.install(progress.Forward(lambda message: writer.send(("progress", message))))
    try:
        outcome: tuple[bool, Any] = (True, _TASK(index))
    except BaseException as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    try:
        writer.send(("result", outcome))
    except Exception as exc:  # an unpicklable result or exception: say what it was
        failed = WorkerFailed(f"part {index}: {type(exc).__name__}: {exc}")
        writer.send(("result", (False, failed)))
    writer.close()
