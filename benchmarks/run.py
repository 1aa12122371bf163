"""Benchmark fleetgen on synthetic fleets: wall time and peak RSS, with anchors and a floor.

    .venv/bin/python benchmarks/run.py                        # N = 10, 100, 1000, 5000; E = 3
    .venv/bin/python benchmarks/run.py --sizes 10,100 --repeat 3
    .venv/bin/python benchmarks/run.py --sizes 5000           # one size on its own ...
    .venv/bin/python benchmarks/run.py --sizes 10,100,1000,5000 --resume --write
                                                              # ... then the table from cache

Per size it writes a synthetic repository with ``benchmarks/synth.py`` into the work
directory (default ``benchmarks/.work/``, git-ignored) and times, each as a fresh process:

* ``precommit``  ``fleetgen validate fleet/<one>.yaml`` (what the pre-commit hook runs),
  with fleetgen's cache of validated inputs warm (the usual commit) and, as
  ``precommit_cold``, emptied before each run (first commit, or every file changed); the
  cache lives in the work directory (``FLEETGEN_CACHE_DIR``), never in ``~/.cache``;
* ``validate``   ``fleetgen validate`` (descriptors plus cross-references);
* ``gen_cold``   ``fleetgen generate`` into an empty ``applicationsets/``;
* ``gen_same``   ``fleetgen generate`` again on the unchanged tree (must change 0 files);
* ``rendered``   ``fleetgen validate --rendered`` against the CRDs named by ``--crds``
  (default: ``$FLEETGEN_TEST_CRDS``; skipped without them) plus the test fixture CRDs, after
  one unmeasured run that fills fleetgen's schema caches (as any earlier run would have).

Anchors (skip with ``--no-anchors``): ``check-jsonschema`` on the same descriptor;
``kubectl kustomize`` on a sample of overlays (plus kubeconform when it is on PATH and
``--kubeconform-schemas`` names local schemas, so it never downloads), extrapolated as the
per-overlay mean times the number of overlays; and the floor: one Python process that
reads every input with PyYAML's C loader and writes every generated file's data back with
its C dumper (JSON files with ``json``), excluding the time it spends loading that data.

Timings are medians over ``--repeat`` runs (at N >= 1000 at most 3, at N >= 5000 at most 2:
those runs take minutes). Peak memory is the largest over the runs of: the largest process's
peak RSS (``/usr/bin/time -f %M`` when present, else ``getrusage(RUSAGE_CHILDREN)``, an upper
bound) and the summed PSS of the whole process tree, sampled every 0.1 s (worker processes
count together; pages they share with their parent count once). Every size's numbers are
saved as JSON in the work directory; ``--resume`` reuses them instead of measuring again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
SCHEMA = REPO / "tools" / "fleetgen" / "schemas" / "descriptor.schema.json"
RESULTS_MD = HERE / "RESULTS.md"
HISTORY_MD = HERE / "HISTORY.md"
GNU_TIME = Path("/usr/bin/time")

METRICS: dict[str, str] = {
    "precommit": "pre-commit path: `fleetgen validate fleet/<one>.yaml`, warm cache",
    "precommit_cold": "pre-commit path, cold cache (first run, or every file changed)",
    "validate": "full `fleetgen validate`",
    "gen_cold": "`fleetgen generate`, cold (empty `applicationsets/`)",
    "gen_same": "`fleetgen generate`, unchanged tree (0 files written)",
    "rendered": "rendered validation: `fleetgen validate --rendered` (schemas, CEL, linker)",
    "checkjsonschema": "anchor: `check-jsonschema --schemafile descriptor.schema.json <one>`",
    "kustomize_one": "anchor: `kubectl kustomize` one overlay (median of the sample)",
    "kustomize_all": "anchor: `kubectl kustomize` × all overlays (extrapolated from the mean)",
    "floor": "floor: PyYAML C load of all inputs + C dump of all outputs, one process",
}
ANCHORS = ("checkjsonschema", "kustomize_one", "kustomize_all", "floor")


# ---------------------------------------------------------------------------------------
# Running and measuring one command
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# The floor: the least work any generator of these files must do, in one process
# ---------------------------------------------------------------------------------------


def floor_child(root: Path, out: Path) -> None:
    """Entry point of the floor process (``run.py --floor-child ROOT OUT``)."""
    import yaml

    loader: Any = yaml.CSafeLoader
    dumper: Any = yaml.CSafeDumper
    generated = root / "applicationsets"
    t0, c0 = time.perf_counter(), time.process_time()
    # Preparation, excluded from the floor: the output data has to exist in memory.
    outputs: list[tuple[Path, Any]] = []
    for path in sorted(p for p in generated.rglob("*") if p.is_file()):
        text = path.read_bytes()
        # Some generated YAML files hold several documents: keep them as a list.
        data = json.loads(text) if path.suffix == ".json" else list(yaml.load_all(text, loader))
        outputs.append((path.relative_to(generated), data))
    prep, prep_cpu = time.perf_counter() - t0, time.process_time() - c0

    t1 = time.perf_counter()
    inputs = sorted((root / "fleet").glob("*.yaml")) + sorted(
        (root / "environments").glob("*/environment.yaml")
    )
    loaded = [yaml.load(p.read_bytes(), Loader=loader) for p in inputs]
    load = time.perf_counter() - t1

    t2 = time.perf_counter()
    written = 0
    for rel, data in outputs:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel.suffix == ".json":
            blob = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
        else:
            blob = yaml.dump_all(data, Dumper=dumper, sort_keys=False, width=100).encode()
        dest.write_bytes(blob)
        written += len(blob)
    dump = time.perf_counter() - t2
    report = {
        "prep_s": prep,
        "prep_cpu_s": prep_cpu,
        "load_s": load,
        "dump_s": dump,
        "inputs": len(loaded),
        "outputs": len(outputs),
        "bytes_written": written,
    }
    sys.stdout.write(json.dumps(report) + "\n")


def measure_floor(root: Path, work: Path, repeat: int, timeout: float) -> Stat:
    """Floor wall = process wall time minus the excluded preparation."""
    out = work / "floor-out"
    samples = Samples()
    detail: dict[str, Any] = {}
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        argv = [sys.executable, str(Path(__file__).resolve()), "--floor-child", str(root), str(out)]
        result = run_once(argv, root, timeout)
        if result.returncode != 0:
            raise CommandFailed(f"floor process failed:\n{result.stderr[-3000:]}")
        detail = json.loads(result.stdout.strip().splitlines()[-1])
        samples.add(result, minus=detail["prep_s"], minus_cpu=detail["prep_cpu_s"])
    shutil.rmtree(out, ignore_errors=True)
    note = (
        f"load {detail['load_s']:.2f} s, dump+write {detail['dump_s']:.2f} s, "
        f"{detail['bytes_written'] / 1e6:.1f} MB; RSS includes the preloaded output data"
    )
    return samples.stat(note=note)


# ---------------------------------------------------------------------------------------
# One size
# ---------------------------------------------------------------------------------------


def repeats_for(models: int, repeat: int) -> int:
    if models >= 5000:
        return min(repeat, 2)
    if models >= 1000:
        return min(repeat, 3)
    return repeat


def _tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def _overlays(root: Path) -> list[Path]:
    return sorted(
        p.parent for p in (root / "applicationsets").glob("*/*/models/*/kustomization.yaml")
    )


def _reset_generated(root: Path) -> None:
    shutil.rmtree(root / "applicationsets", ignore_errors=True)
    for leftover in root.glob(".applicationsets.fleetgen-staging*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _unchanged(result: Run) -> str | None:
    text = result.stdout + result.stderr
    return None if "0 file(s) changed" in text else "expected '0 file(s) changed'"


def _tool(name: str) -> str:
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} or on PATH")
    return found


def synthesize(root: Path, models: int, envs: int, seed: int) -> None:
    argv = [sys.executable, str(HERE / "synth.py"), "--models", str(models), "--envs", str(envs)]
    argv += ["--out", str(root), "--seed", str(seed)]
    subprocess.run(argv, check=True, capture_output=True, text=True, env=CHILD_ENV)


def warm_up(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """Run every measured program once on a tiny fleet, so its bytecode is cached."""
    root = args.work / "warmup"
    log("warm-up: compiling bytecode on a 3-model fleet")
    synthesize(root, 3, args.envs, args.seed)
    fleetgen = _tool("fleetgen")
    one = sorted((root / "fleet").glob("*.yaml"))[0].relative_to(root).as_posix()
    commands = [[fleetgen, "validate", one], [fleetgen, "generate"], [fleetgen, "generate"]]
    if not args.no_anchors:
        commands.append([_tool("check-jsonschema"), "--schemafile", str(SCHEMA), one])
        floor = [sys.executable, str(Path(__file__).resolve()), "--floor-child", str(root)]
        commands.append([*floor, str(args.work / "floor-out")])
    for argv in commands:
        run_once(argv, root, args.timeout)
    shutil.rmtree(args.work / "floor-out", ignore_errors=True)


def bench_size(
    models: int, args: argparse.Namespace, cached: dict[str, Any], log: Callable[[str], None]
) -> dict[str, Any]:
    """Measure every metric not already in `cached` for one fleet size."""
    repeat = repeats_for(models, args.repeat)
    root = args.work / f"fleet-{models}x{args.envs}-s{args.seed}"
    result: dict[str, Any] = dict(cached)
    stats: dict[str, Any] = dict(result.get("stats", {}))
    wanted = [m for m in METRICS if not (args.no_anchors and m in ANCHORS)]
    if args.crds is None:
        wanted.remove("rendered")
    todo = [m for m in wanted if m not in stats]
    if not todo:
        log(f"N={models}: all metrics from {args.work.name}/ (--resume)")
        return result

    # Other work on the machine skews wall times: keep the load next to the numbers.
    load = round(os.getloadavg()[0], 2)
    # The product may change between sizes of a long run: keep the code each size measured.
    result.setdefault("code", code_version())
    result.setdefault("loadavg_before", load)  # a --resume run keeps the first measurement's
    log(f"N={models}: synthesizing {root} (load average {load})")
    started = time.perf_counter()
    synthesize(root, models, args.envs, args.seed)
    result["synth_s"] = round(time.perf_counter() - started, 2)
    fleetgen = _tool("fleetgen")
    descriptors = sorted((root / "fleet").glob("*.yaml"))
    one = descriptors[len(descriptors) // 2].relative_to(root).as_posix()
    result["one_descriptor"] = one
    files, size = _tree_size(root / "fleet")
    env_files, env_size = _tree_size(root / "environments")
    result["inputs"] = {"files": files + env_files, "bytes": size + env_size}
    timeout = args.timeout

    def record(metric: str, make: Callable[[], Stat]) -> None:
        if metric not in todo:
            return
        log(f"N={models}: {metric} ({repeat} run(s))")
        stat = make()
        stat.code = code_version()
        stats[metric] = asdict(stat)
        result["stats"] = stats
        shown = "-" if stat.median_s is None else f"{stat.median_s:.3f} s"
        log(f"N={models}: {metric} = {shown}, {stat.rss_kb or 0} KB {stat.note}")
        save(args.work, models, args, result)

    precommit = [fleetgen, "validate", one]
    cache = Path(CHILD_ENV["FLEETGEN_CACHE_DIR"])

    def clear_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def precommit_warm() -> Stat:
        clear_cache()
        run_once(precommit, root, timeout)  # fills the cache, as the previous commit did
        return measure(precommit, root, repeat, timeout)

    record("precommit", precommit_warm)
    record(
        "precommit_cold",
        lambda: measure(precommit, root, repeat, timeout, before=clear_cache),
    )
    record("validate", lambda: measure([fleetgen, "validate"], root, repeat, timeout))

    def gen_cold() -> Stat:
        return measure(
            [fleetgen, "generate"], root, repeat, timeout, before=lambda: _reset_generated(root)
        )

    record("gen_cold", gen_cold)
    if not (root / "applicationsets").is_dir():
        _reset_generated(root)
        subprocess.run(
            [fleetgen, "generate"], cwd=root, check=True, capture_output=True, env=CHILD_ENV
        )
    record(
        "gen_same",
        lambda: measure([fleetgen, "generate"], root, repeat, timeout, check=_unchanged),
    )
    if args.crds is not None:
        rendered = [fleetgen, "validate", "--rendered", "--schema-dir", str(args.crds)]

        def rendered_warm() -> Stat:
            run_once(rendered, root, timeout)  # fills the converted-CRD and compiled caches
            return measure(rendered, root, repeat, timeout)

        record("rendered", rendered_warm)
    overlays = _overlays(root)
    gen_files, gen_bytes = _tree_size(root / "applicationsets")
    result["generated"] = {"files": gen_files, "bytes": gen_bytes, "overlays": len(overlays)}

    if not args.no_anchors:
        checker = [_tool("check-jsonschema"), "--schemafile", str(SCHEMA), one]
        record("checkjsonschema", lambda: measure(checker, root, repeat, timeout))
        if "kustomize_all" in todo:
            todo.append("kustomize_one")  # the extrapolation needs a fresh per-overlay time
        record("kustomize_one", lambda: measure_kustomize(root, overlays, repeat, args))
        one_overlay = Stat(**stats["kustomize_one"]) if "kustomize_one" in stats else None
        per_overlay = one_overlay.mean_s if one_overlay else None
        if "kustomize_all" in todo and per_overlay is not None:
            # The mean, not the median, estimates a sum over overlays of mixed cost.
            stats["kustomize_all"] = asdict(
                Stat(
                    per_overlay * len(overlays),
                    one_overlay.rss_kb if one_overlay else None,
                    0,
                    note=f"extrapolated: mean {per_overlay * 1000:.0f} ms × "
                    f"{len(overlays)} overlays",
                    measured_at=one_overlay.measured_at if one_overlay else "",
                    loadavg=one_overlay.loadavg if one_overlay else None,
                    cpu_median_s=(
                        one_overlay.cpu_mean_s * len(overlays)
                        if one_overlay and one_overlay.cpu_mean_s is not None
                        else None
                    ),
                )
            )
            result["stats"] = stats
        record("floor", lambda: measure_floor(root, args.work, repeat, timeout))
    result["stats"] = stats
    result.setdefault("loadavg_after", round(os.getloadavg()[0], 2))
    save(args.work, models, args, result)
    return result


def measure_kustomize(
    root: Path, overlays: Sequence[Path], repeat: int, args: argparse.Namespace
) -> Stat:
    """kubectl kustomize (then kubeconform, where usable offline) on evenly spaced overlays."""
    from fleetgen.kube.kustomize import kustomize_command

    if not overlays:
        return Samples().stat(note="no overlays")
    count = min(args.kustomize_sample, len(overlays))
    step = len(overlays) / count
    sample = [overlays[int(i * step)] for i in range(count)]
    kustomize = kustomize_command()
    kubeconform = shutil.which("kubeconform") if args.kubeconform_schemas else None
    samples = Samples()
    # Overlays differ (components, patches), so the sample is wide and each built twice at most.
    for _ in range(min(repeat, 2)):
        for overlay in sample:
            built = run_once([*kustomize, str(overlay)], root, args.timeout)
            if built.returncode != 0:
                raise CommandFailed(f"kustomize {overlay} failed:\n{built.stderr[-3000:]}")
            if kubeconform:
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as rendered:
                    rendered.write(built.stdout)
                    rendered.flush()
                    argv = [kubeconform, "-strict", "-summary", "-ignore-missing-schemas"]
                    argv += ["-schema-location", str(args.kubeconform_schemas), rendered.name]
                    checked = run_once(argv, root, args.timeout)
                built.wall_s += checked.wall_s
                if built.cpu_s is not None and checked.cpu_s is not None:
                    built.cpu_s += checked.cpu_s
            samples.add(built)
    tool = "kustomize + kubeconform" if kubeconform else "kustomize only (no kubeconform)"
    return samples.stat(note=f"{tool}; {count} overlays × {min(repeat, 2)}")


# ---------------------------------------------------------------------------------------
# Persistence, tables and the report
# ---------------------------------------------------------------------------------------


def _cache_file(work: Path, models: int, args: argparse.Namespace) -> Path:
    return work / "results" / f"N{models}-E{args.envs}-s{args.seed}.json"


def save(work: Path, models: int, args: argparse.Namespace, result: dict[str, Any]) -> None:
    path = _cache_file(work, models, args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def load(work: Path, models: int, args: argparse.Namespace) -> dict[str, Any]:
    path = _cache_file(work, models, args)
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _fmt_mb(kb: int | None) -> str:
    return "–" if kb is None else f"{kb / 1024:.0f} MB"


def _median(
    results: dict[int, dict[str, Any]], n: int, metric: str, key: str = "median_s"
) -> float | None:
    stat = results[n].get("stats", {}).get(metric)
    return None if stat is None else stat.get(key)


def timing_table(results: dict[int, dict[str, Any]]) -> list[str]:
    sizes = sorted(results)
    lines = [
        "| metric | " + " | ".join(f"N={n}" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for metric, label in METRICS.items():
        cells = []
        for n in sizes:
            stat = results[n].get("stats", {}).get(metric)
            if stat is None:
                cells.append("–")
                continue
            cpu = stat.get("cpu_median_s")
            cell = f"{_fmt_s(stat['median_s'])} ({_fmt_s(cpu)} CPU) · {_fmt_mb(stat['rss_kb'])}"
            if stat.get("note", "").startswith("timed out"):
                cell += " (timeout)"
            cells.append(cell)
        if any(c != "–" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    runs = [str(results[n].get("stats", {}).get("validate", {}).get("runs", "–")) for n in sizes]
    lines.append("| runs per median | " + " | ".join(runs) + " |")
    return lines


def size_table(results: dict[int, dict[str, Any]]) -> list[str]:
    sizes = sorted(results)
    rows: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("descriptors", lambda r: r.get("models")),
        ("overlays (apps)", lambda r: r.get("generated", {}).get("overlays")),
        ("input files", lambda r: r.get("inputs", {}).get("files")),
        ("input MB", lambda r: _mb(r.get("inputs", {}).get("bytes"))),
        ("generated files", lambda r: r.get("generated", {}).get("files")),
        ("generated MB", lambda r: _mb(r.get("generated", {}).get("bytes"))),
    ]
    lines = ["| size | " + " | ".join(f"N={n}" for n in sizes) + " |"]
    lines.append("|---|" + "---:|" * len(sizes))
    for label, get in rows:
        lines.append(
            f"| {label} | " + " | ".join(str(get(results[n]) or "–") for n in sizes) + " |"
        )
    return lines


def _mb(size: int | None) -> str | None:
    return None if size is None else f"{size / 1e6:.2f}"


def ratio_table(results: dict[int, dict[str, Any]]) -> list[str]:
    sizes = sorted(results)
    pairs = [
        ("pre-commit path (warm cache) ÷ check-jsonschema", "precommit", "checkjsonschema"),
        ("pre-commit path (cold cache) ÷ check-jsonschema", "precommit_cold", "checkjsonschema"),
        ("full validate ÷ check-jsonschema", "validate", "checkjsonschema"),
        ("generate cold ÷ floor", "gen_cold", "floor"),
        ("generate unchanged ÷ floor", "gen_same", "floor"),
        ("kustomize × all overlays ÷ generate cold", "kustomize_all", "gen_cold"),
        ("kustomize × all overlays ÷ rendered validation", "kustomize_all", "rendered"),
    ]
    lines = ["| ratio (wall / CPU) | " + " | ".join(f"N={n}" for n in sizes) + " |"]
    lines.append("|---|" + "---:|" * len(sizes))
    for label, top, bottom in pairs:
        cells = []
        for n in sizes:
            parts = []
            for key in ("median_s", "cpu_median_s"):
                a, b = _median(results, n, top, key), _median(results, n, bottom, key)
                parts.append("–" if a is None or not b else f"{a / b:.1f}×")
            cells.append(" / ".join(parts) if parts != ["–", "–"] else "–")
        if any(c != "–" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else ["(needs the anchors: run without --no-anchors)"]


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of y = a + b·x."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def slope_table(results: dict[int, dict[str, Any]], key: str = "median_s") -> list[str]:
    sizes = sorted(results)
    if len(sizes) < 2:
        return ["(needs at least two sizes)"]
    steps = list(itertools.pairwise(sizes))
    lines = [
        "| metric | least-squares slope (ms/model) | intercept | "
        + " | ".join(f"step {a}→{b} (ms/model)" for a, b in steps)
        + " |",
        "|---|---:|---:|" + "---:|" * len(steps),
    ]
    for metric, label in METRICS.items():
        points = [(n, _median(results, n, metric, key)) for n in sizes]
        known = [(n, t) for n, t in points if t is not None]
        if len(known) < 2:
            continue
        slope, intercept = least_squares([n for n, _ in known], [t for _, t in known])
        cells = []
        for a, b in steps:
            ta, tb = _median(results, a, metric, key), _median(results, b, metric, key)
            cells.append("–" if ta is None or tb is None else f"{(tb - ta) / (b - a) * 1000:.2f}")
        lines.append(
            f"| {label} | {slope * 1000:.2f} | {_fmt_s(intercept)} | " + " | ".join(cells) + " |"
        )
    return lines


def _version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def code_version() -> str:
    """HEAD of the checkout, marked when tracked files differ from it."""
    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    # --no-optional-locks: status must not refresh (write) the index of a shared checkout.
    dirty = _version(
        ["git", "--no-optional-locks", "-C", str(REPO), "status", "--porcelain", "-uno"]
    )
    return commit + (" with uncommitted changes" if dirty not in ("", "?") else "")


def machine() -> dict[str, str]:
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    from fleetgen.kube.kustomize import kustomize_command

    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fleetgen": _version([_tool("fleetgen"), "--version"]),
        "kubectl": "kubectl " + _version([kustomize_command()[0], "version", "--client"]),
        "check-jsonschema": _version([_tool("check-jsonschema"), "--version"]),
        "kubeconform": shutil.which("kubeconform") or "not on PATH",
        "commit": code_version(),
    }


def _same_code(commit: str, now: str) -> bool:
    """True when fleetgen's package is identical at `commit` and in the checkout."""
    if "uncommitted" in commit or "uncommitted" in now:
        return False
    diff = subprocess.run(
        ["git", "-C", str(REPO), "diff", "--quiet", commit.split()[0], "--", "tools"],
        capture_output=True,
        check=False,
    )
    return diff.returncode == 0


def _code_line(results: dict[int, dict[str, Any]], now: str) -> str:
    """Which commit each metric was measured on: a size's own commit unless the metric
    was measured again later (--resume keeps the others)."""
    sizes: dict[str, dict[str, list[int]]] = {}
    for n in sorted(results):
        for metric, stat in results[n].get("stats", {}).items():
            code = stat.get("code") or results[n].get("code", "?")
            sizes.setdefault(code, {}).setdefault(metric, []).append(n)
    if len(sizes) <= 1:
        return f"Code measured: {next(iter(sizes), '?')} (checkout now: {now})."
    every = sorted(results)
    parts = []
    for code, metrics in sorted(sizes.items(), key=lambda item: -len(item[1])):
        names = ", ".join(
            m if ns == every else f"{m} (N={', '.join(map(str, ns))})"
            for m, ns in sorted(metrics.items())
        )
        same = " (fleetgen's code as in the checkout)" if _same_code(code, now) else ""
        parts.append(f"{code}{same}: {names}")
    return f"Code measured (checkout now: {now}): " + "; ".join(parts) + "."


def _load_range(result: dict[str, Any]) -> str:
    loads = [s["loadavg"] for s in result.get("stats", {}).values() if s.get("loadavg")]
    loads += [result[k] for k in ("loadavg_before", "loadavg_after") if k in result]
    return f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?"


def report(results: dict[int, dict[str, Any]], args: argparse.Namespace) -> str:
    info = machine()
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines = [
        "# fleetgen benchmark results",
        "",
        f"Measured {today} with `benchmarks/run.py --sizes "
        f"{','.join(map(str, sorted(results)))} --envs {args.envs} --repeat {args.repeat}`.",
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['memory']} RAM, Python {info['python']}, "
        f"{info['platform']}.",
        f"Tools: {info['fleetgen']}; {info['kubectl']}; "
        f"{info['check-jsonschema']}; kubeconform: {info['kubeconform']}.",
        _code_line(results, info["commit"]),
        "",
        "Each cell: median wall time of a fresh process (median user+system CPU time) · peak",
        "memory: the larger of the largest process's peak RSS and the summed PSS of its process",
        "tree (worker processes together), largest over the runs.",
        "Python bytecode cache: "
        + (
            "off (PYTHONDONTWRITEBYTECODE as inherited)."
            if args.no_bytecode_cache
            else "on, warmed before the first size (as in a developer's hook)."
        ),
        "1-minute load average after each metric, lowest–highest per size: "
        + ", ".join(f"N={n} {_load_range(results[n])}" for n in sorted(results))
        + f" ({info['nproc']} CPUs: above that, other jobs competed for them and wall times"
        " are inflated; CPU times much less so).",
        "Synthetic fleets from `benchmarks/synth.py` (seed "
        f"{args.seed}); every one passes `fleetgen validate` with no diagnostics.",
        "",
        "## Timings",
        "",
        *timing_table(results),
        "",
        "## Fleet sizes",
        "",
        *size_table(results),
        "",
        "## Ratios",
        "",
        *ratio_table(results),
        "",
        "## Scaling",
        "",
        "Least-squares fit of median time against N over all sizes, and the slope of each step.",
        "",
        "Wall time:",
        "",
        *slope_table(results),
        "",
        "CPU time (user + system; steadier when other jobs share the machine):",
        "",
        *slope_table(results, "cpu_median_s"),
        "",
        "## Notes",
        "",
    ]
    notes = []
    for n in sorted(results):
        for metric, stat in results[n].get("stats", {}).items():
            if stat.get("note"):
                notes.append(f"- N={n} {metric}: {stat['note']}")
    lines += notes
    lines += [
        "- The pre-commit path is timed on an unedited descriptor: the files given on the",
        "  command line are always validated in full (the cache serves only the other files),",
        "  so an edited file costs the same. `kustomize_all` is the per-overlay mean × overlays,",
        "  not a measured run; kubeconform is only included when on PATH with local schemas.",
        "- Floor time = floor process wall time minus its (excluded) preloading of the output",
        "  data; it includes interpreter start-up and `import yaml`.",
        "- The rendered metric runs once unmeasured first: it fills fleetgen's per-user caches",
        "  (converted CRDs, compiled schema pre-checks), as any earlier run on the machine would.",
        "",
    ]
    if HISTORY_MD.exists():  # hand-written: what profiling found and what fixing it gained
        lines += ["", HISTORY_MD.read_text().rstrip(), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--floor-child"]:
        floor_child(Path(raw[1]), Path(raw[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000", help="comma-separated N values")
    parser.add_argument("--envs", type=int, default=3, help="environments (default 3)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="synth.py seed (default 1)")
    parser.add_argument("--work", type=Path, default=HERE / ".work", help="scratch directory")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per command run")
    parser.add_argument("--no-anchors", action="store_true", help="skip the anchors and floor")
    parser.add_argument("--resume", action="store_true", help="reuse metrics saved in --work")
    parser.add_argument("--kustomize-sample", type=int, default=10, help="overlays to build")
    parser.add_argument(
        "--kubeconform-schemas", help="local kubeconform -schema-location (never downloads)"
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the caller's PYTHONDONTWRITEBYTECODE (measure uncached imports)",
    )
    parser.add_argument(
        "--crds",
        type=Path,
        default=Path(os.environ["FLEETGEN_TEST_CRDS"])
        if os.environ.get("FLEETGEN_TEST_CRDS")
        else None,
        help="upstream CRDs for the rendered metric (default $FLEETGEN_TEST_CRDS)",
    )
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS_MD.name}")
    args = parser.parse_args(raw)
    args.work = args.work.resolve()
    args.crds = args.crds.resolve() if args.crds is not None else None
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    args.work.mkdir(parents=True, exist_ok=True)
    set_child_env(args.work, bytecode_cache=not args.no_bytecode_cache)
    warm_up(args, log)
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        cached = load(args.work, n, args) if args.resume else {}
        base = {"models": n, "envs": args.envs, "seed": args.seed, **cached}
        results[n] = bench_size(n, args, base, log)
    text = report(results, args)
    sys.stdout.write(text)
    if args.write:
        RESULTS_MD.write_text(text)
        log(f"wrote {RESULTS_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
