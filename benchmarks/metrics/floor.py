"""The floor: the least work any generator of these files must do, in one process.

One Python process reads every input with PyYAML's C loader and writes every generated
file's data back with its C dumper (JSON files with ``json``). It runs as
``run.py --floor-child ROOT OUT`` (``floor_child``); the time it spends loading the output
data first is excluded. Floor time includes interpreter start-up and ``import yaml``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import CommandFailed, Samples, Stat, run_once
from benchmarks.workspace import RUN_PY, Bench

LABELS: dict[str, str] = {
    "floor": "floor: PyYAML C load of all inputs + C dump of all outputs, one process",
}


def child_command(root: Path, out: Path) -> list[str]:
    """The floor process: `run.py`, so it starts as the benchmark command itself does."""
    return [sys.executable, str(RUN_PY), "--floor-child", str(root), str(out)]


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


def measure_floor(bench: Bench) -> Stat:
    """``floor``: floor wall = process wall time minus the excluded preparation."""
    root = bench.root
    out = bench.work / "floor-out"
    samples = Samples()
    detail: dict[str, Any] = {}
    for _ in range(bench.repeat):
        shutil.rmtree(out, ignore_errors=True)
        result = run_once(child_command(root, out), root, bench.timeout)
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
