"""Running one command and measuring it: wall and CPU time, peak memory of its process tree.

Every measured command is a fresh process started with ``CHILD_ENV``. Peak memory is the
larger of the largest process's peak RSS (``/usr/bin/time -f %M`` when present, else
``getrusage(RUSAGE_CHILDREN)``, an upper bound) and the summed PSS of the whole process tree,
sampled every 0.1 s (worker processes count together; pages they share count once).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")


@dataclass(slots=True)
class Run:
    wall_s: float
    cpu_s: float | None  # user + system time of the process tree
    rss_kb: int | None
    returncode: int
    stdout: str
    stderr: str


class CommandFailed(RuntimeError):
    pass


CHILD_ENV: dict[str, str] = dict(os.environ)


def set_child_env(work: Path, *, bytecode_cache: bool) -> None:
    """Environment of every measured process.

    A developer's pre-commit hook runs with Python's bytecode cache; sandboxes often set
    PYTHONDONTWRITEBYTECODE, which would recompile every fleetgen module on every run. The
    cache goes under the work directory so nothing is written into the source tree.
    """
    CHILD_ENV.clear()
    CHILD_ENV.update(os.environ)
    CHILD_ENV.pop("FLEETGEN_DEBUG", None)
    # fleetgen's per-user cache of validated inputs: kept private, so warm and cold runs
    # are under our control and nothing lands in the user's ~/.cache.
    CHILD_ENV["FLEETGEN_CACHE_DIR"] = str(work / "fleetgen-cache")
    # Recorded rendered findings only where a metric asks for them (rendered_one).
    CHILD_ENV["FLEETGEN_RESULTS_DIR"] = ""
    if bytecode_cache:
        CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")


def run_once(argv: Sequence[str], cwd: Path, timeout: float) -> Run:
    """Run one process; wall time from perf_counter, CPU time and peak RSS of its tree."""
    import resource

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        prefix: list[str] = []
        if GNU_TIME.exists():
            prefix = [str(GNU_TIME), "-q", "-f", "%M %U %S", "-o", rss_file.name]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *argv],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=CHILD_ENV,
        )
        sampler = TreeMemory(proc.pid)
        sampler.start()
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        finally:
            sampler.stop()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time survives a busy machine far better than wall time: report both.
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rss: int | None = None
        if prefix:
            fields = (rss_file.read().strip().splitlines() or [""])[-1].split()
            rss = int(fields[0]) if fields and fields[0].isdigit() else None
        else:
            # RUSAGE_CHILDREN's maxrss is a running maximum over every child so far, so it
            # only bounds this one from above.
            rss = after.ru_maxrss
        # A command with worker processes: their memory together, not the largest alone.
        if sampler.peak_kb is not None:
            rss = max(rss or 0, sampler.peak_kb)
    return Run(wall, cpu, rss, proc.returncode, out, err)


class TreeMemory:
    """Samples the summed PSS (proportional set size: shared pages split between the
    processes sharing them) of a process and all its descendants, every 0.1 s (Linux)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid = pid
        self.peak_kb: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if Path(f"/proc/{self.pid}/smaps_rollup").exists():
            self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            total = sum(_pss_kb(pid) for pid in _tree(self.pid))
            if total:
                self.peak_kb = max(self.peak_kb or 0, total)
            self._done.wait(0.1)


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _tree(int(child)))]


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass(slots=True)
class Stat:
    """One metric at one size: median wall time, largest peak RSS, all samples."""

    median_s: float | None
    rss_kb: int | None
    runs: int
    samples_s: list[float] = field(default_factory=list)
    note: str = ""
    measured_at: str = ""
    mean_s: float | None = None
    cpu_median_s: float | None = None
    cpu_mean_s: float | None = None
    loadavg: float | None = None  # 1-minute load average when the metric was done
    code: str = ""  # the commit measured (a --resume run may mix commits across metrics)


@dataclass(slots=True)
class Samples:
    """Accumulates runs of one metric."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)

    def add(self, run: Run, *, minus: float = 0.0, minus_cpu: float = 0.0) -> None:
        """Record a run; `minus`/`minus_cpu`: wall/CPU time spent outside the metric."""
        self.walls.append(run.wall_s - minus)
        if run.cpu_s is not None:
            self.cpus.append(run.cpu_s - minus_cpu)
        if run.rss_kb is not None:
            self.rss.append(run.rss_kb)

    def stat(self, note: str = "") -> Stat:
        return Stat(
            statistics.median(self.walls) if self.walls else None,
            max(self.rss) if self.rss else None,
            len(self.walls),
            [round(s, 4) for s in self.walls],
            note,
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            statistics.fmean(self.walls) if self.walls else None,
            statistics.median(self.cpus) if self.cpus else None,
            statistics.fmean(self.cpus) if self.cpus else None,
            round(os.getloadavg()[0], 2),
        )


def measure(
    argv: Sequence[str],
    cwd: Path,
    repeat: int,
    timeout: float,
    *,
    before: Callable[[], None] | None = None,
    check: Callable[[Run], str | None] | None = None,
) -> Stat:
    """Median over `repeat` runs; `before` resets state, `check` returns an error or None."""
    samples = Samples()
    for _ in range(repeat):
        if before is not None:
            before()
        try:
            result = run_once(argv, cwd, timeout)
        except subprocess.TimeoutExpired:
            return samples.stat(note=f"timed out after {timeout:.0f} s")
        problem = check(result) if check else None
        if result.returncode != 0 or problem:
            raise CommandFailed(
                f"{' '.join(argv)} (in {cwd}) exited {result.returncode}: {problem or ''}\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        samples.add(result)
    return samples.stat()
