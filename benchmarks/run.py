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
  (default: ``$FLEETGEN_TEST_CRDS``; skipped without them), after one unmeasured run that
  fills fleetgen's schema caches (as any earlier run would have).

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

The code: ``run.py`` parses the command line and wires; ``size.py`` measures one size,
one module per metric in ``metrics/`` (``precommit``, ``validate``, ``generate``,
``rendered``, and the anchors ``checkjsonschema``, ``kustomize``, ``floor``), each on
``measure.py``; ``results.py`` saves and reloads them, ``report.py`` writes the tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root holds the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import results
from benchmarks.measure import set_child_env
from benchmarks.metrics.floor import floor_child
from benchmarks.options import Options
from benchmarks.report import report
from benchmarks.size import bench_size, warm_up
from benchmarks.workspace import HERE, REPO

RESULTS_MD = HERE / "RESULTS.md"


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--floor-child"]:
        floor_child(Path(raw[1]), Path(raw[2]))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
    work: Path = args.work.resolve()
    options = Options(
        work=work,
        envs=args.envs,
        repeat=args.repeat,
        seed=args.seed,
        timeout=args.timeout,
        no_anchors=args.no_anchors,
        kustomize_sample=args.kustomize_sample,
        kubeconform_schemas=args.kubeconform_schemas,
        no_bytecode_cache=args.no_bytecode_cache,
        crds=args.crds.resolve() if args.crds is not None else None,
    )
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    work.mkdir(parents=True, exist_ok=True)
    set_child_env(work, bytecode_cache=not options.no_bytecode_cache)
    warm_up(options, log)
    measured: dict[int, dict[str, Any]] = {}
    for n in sizes:
        cached = results.load(work, n, options.envs, options.seed) if args.resume else {}
        base = {"models": n, "envs": options.envs, "seed": options.seed, **cached}
        measured[n] = bench_size(n, options, base, log)
    text = report(measured, options)
    sys.stdout.write(text)
    if args.write:
        RESULTS_MD.write_text(text)
        log(f"wrote {RESULTS_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
