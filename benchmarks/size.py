"""One fleet size: synthesize the repository, then measure every metric not yet saved.

The order is fixed because metrics build on each other: ``gen_cold`` leaves the generated
tree that ``gen_same``, ``rendered`` and the anchors use, and ``kustomize_all`` is derived
from ``kustomize_one``. Every metric is saved as soon as it is done, so an interrupted run
resumes where it stopped (``--resume``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from benchmarks import results
from benchmarks.facts import code_version
from benchmarks.measure import Stat, run_once
from benchmarks.metrics import (
    ANCHORS,
    METRICS,
    checkjsonschema,
    floor,
    generate,
    kustomize,
    precommit,
    rendered,
    validate,
)
from benchmarks.options import Options
from benchmarks.workspace import Bench, overlays, synthesize, tool, tree_size

Log = Callable[[str], None]


def repeats_for(models: int, repeat: int) -> int:
    """Runs per median: at N >= 1000 at most 3, at N >= 5000 at most 2 (they take minutes)."""
    if models >= 5000:
        return min(repeat, 2)
    if models >= 1000:
        return min(repeat, 3)
    return repeat


def warm_up(options: Options, log: Log) -> None:
    """Run every measured program once on a tiny fleet, so its bytecode is cached."""
    root = options.work / "warmup"
    log("warm-up: compiling bytecode on a 3-model fleet")
    synthesize(root, 3, options.envs, options.seed)
    fleetgen = tool("fleetgen")
    one = sorted((root / "fleet").glob("*.yaml"))[0].relative_to(root).as_posix()
    commands = [[fleetgen, "validate", one], [fleetgen, "generate"], [fleetgen, "generate"]]
    if not options.no_anchors:
        commands.append(checkjsonschema.command(one))
        commands.append(floor.child_command(root, options.work / "floor-out"))
    for argv in commands:
        run_once(argv, root, options.timeout)
    shutil.rmtree(options.work / "floor-out", ignore_errors=True)


def bench_size(models: int, options: Options, cached: dict[str, Any], log: Log) -> dict[str, Any]:
    """Measure every metric not already in `cached` for one fleet size."""
    repeat = repeats_for(models, options.repeat)
    root = options.work / f"fleet-{models}x{options.envs}-s{options.seed}"
    result: dict[str, Any] = dict(cached)
    stats: dict[str, Any] = dict(result.get("stats", {}))
    wanted = [m for m in METRICS if not (options.no_anchors and m in ANCHORS)]
    if options.crds is None:
        wanted.remove("rendered")
        wanted.remove("rendered_one")
    todo = [m for m in wanted if m not in stats]
    if not todo:
        log(f"N={models}: all metrics from {options.work.name}/ (--resume)")
        return result

    # Other work on the machine skews wall times: keep the load next to the numbers.
    load = round(os.getloadavg()[0], 2)
    # The product may change between sizes of a long run: keep the code each size measured.
    result.setdefault("code", code_version())
    result.setdefault("loadavg_before", load)  # a --resume run keeps the first measurement's
    log(f"N={models}: synthesizing {root} (load average {load})")
    started = time.perf_counter()
    synthesize(root, models, options.envs, options.seed)
    result["synth_s"] = round(time.perf_counter() - started, 2)
    descriptors = sorted((root / "fleet").glob("*.yaml"))
    one = descriptors[len(descriptors) // 2].relative_to(root).as_posix()
    result["one_descriptor"] = one
    files, size = tree_size(root / "fleet")
    env_files, env_size = tree_size(root / "environments")
    result["inputs"] = {"files": files + env_files, "bytes": size + env_size}
    bench = Bench(root, options.work, one, repeat, options.timeout, tool("fleetgen"))

    def save() -> None:
        results.save(options.work, models, options.envs, options.seed, result)

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
        save()

    record("precommit", lambda: precommit.warm(bench))
    record("precommit_cold", lambda: precommit.cold(bench))
    record("validate", lambda: validate.full(bench))
    record("gen_cold", lambda: generate.cold(bench))
    generate.ensure_generated(bench)
    record("gen_same", lambda: generate.unchanged(bench))
    crds = options.crds
    if crds is not None:
        record("rendered", lambda: rendered.warm(bench, crds))
        record("rendered_one", lambda: rendered.one_changed(bench, crds))
    apps = overlays(root)
    gen_files, gen_bytes = tree_size(root / "applicationsets")
    result["generated"] = {"files": gen_files, "bytes": gen_bytes, "overlays": len(apps)}

    if not options.no_anchors:
        record("checkjsonschema", lambda: checkjsonschema.check_one(bench))
        if "kustomize_all" in todo:
            todo.append("kustomize_one")  # the extrapolation needs a fresh per-overlay time
        record(
            "kustomize_one",
            lambda: kustomize.one_overlay(
                bench, apps, options.kustomize_sample, options.kubeconform_schemas
            ),
        )
        if "kustomize_all" in todo and "kustomize_one" in stats:
            extrapolated = kustomize.all_overlays(Stat(**stats["kustomize_one"]), len(apps))
            if extrapolated is not None:
                stats["kustomize_all"] = asdict(extrapolated)
                result["stats"] = stats
        record("floor", lambda: floor.measure_floor(bench))
    result["stats"] = stats
    result.setdefault("loadavg_after", round(os.getloadavg()[0], 2))
    save()
    return result
