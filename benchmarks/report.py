"""The report: RESULTS.md's text from the saved results of every size.

Tables: timings (median wall and CPU time, peak memory), fleet sizes, ratios against the
anchors and the floor, and the least-squares slope per model; then the notes and the
hand-written HISTORY.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.facts import machine, same_code
from benchmarks.metrics import METRICS
from benchmarks.options import Options
from benchmarks.workspace import HERE

HISTORY_MD = HERE / "HISTORY.md"


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
        same = " (fleetgen's code as in the checkout)" if same_code(code, now) else ""
        parts.append(f"{code}{same}: {names}")
    return f"Code measured (checkout now: {now}): " + "; ".join(parts) + "."


def _load_range(result: dict[str, Any]) -> str:
    loads = [s["loadavg"] for s in result.get("stats", {}).values() if s.get("loadavg")]
    loads += [result[k] for k in ("loadavg_before", "loadavg_after") if k in result]
    return f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?"


def report(results: dict[int, dict[str, Any]], options: Options) -> str:
    info = machine()
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines = [
        "# fleetgen benchmark results",
        "",
        f"Measured {today} with `benchmarks/run.py --sizes "
        f"{','.join(map(str, sorted(results)))} --envs {options.envs} --repeat {options.repeat}`.",
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
            if options.no_bytecode_cache
            else "on, warmed before the first size (as in a developer's hook)."
        ),
        "1-minute load average after each metric, lowest–highest per size: "
        + ", ".join(f"N={n} {_load_range(results[n])}" for n in sorted(results))
        + f" ({info['nproc']} CPUs: above that, other jobs competed for them and wall times"
        " are inflated; CPU times much less so).",
        "Synthetic fleets from `benchmarks/synth.py` (seed "
        f"{options.seed}); every one passes `fleetgen validate` with no diagnostics.",
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
