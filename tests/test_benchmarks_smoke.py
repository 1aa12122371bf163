"""The benchmark tools still run: a tiny synthetic fleet validates, run.py completes, and
each metric module measures its commands on a tiny fleet.

No timing assertions: timings belong in benchmarks/RESULTS.md, not in the test suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import results
from benchmarks.measure import CHILD_ENV, CommandFailed, Samples, Stat, set_child_env
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
from benchmarks.workspace import Bench, overlays, reset_generated, synthesize
from tests.conftest import fleetgen_exe

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_synthetic_fleet_validates_clean(tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    synth = _run(
        [
            sys.executable,
            str(BENCHMARKS / "synth.py"),
            "--models",
            "5",
            "--envs",
            "3",
            "--out",
            str(out),
        ],
        cwd=REPO,
    )
    assert synth.returncode == 0, synth.stderr
    assert len(list((out / "fleet").glob("*.yaml"))) == 5
    assert sorted(p.name for p in (out / "environments").iterdir()) == ["dev", "prod", "staging"]
    result = _run([fleetgen_exe(), "validate", "--format", "json"], cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_run_completes_without_anchors_and_resumes(tmp_path: Path) -> None:
    work = tmp_path / "work"
    argv = [sys.executable, str(BENCHMARKS / "run.py"), "--sizes", "5", "--repeat", "1"]
    argv += ["--no-anchors", "--work", str(work)]
    result = _run(argv, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| full `fleetgen validate` |" in result.stdout
    assert "N=5" in result.stdout
    assert list((work / "results").glob("N5-*.json"))
    if os.environ.get("FLEETGEN_TEST_CRDS"):  # the rendered metric needs upstream CRDs
        assert "| rendered validation: `fleetgen validate --rendered`" in result.stdout

    # --resume takes every metric from the saved results: nothing is measured again.
    again = _run([*argv, "--resume"], cwd=REPO)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "N=5: all metrics from work/ (--resume)" in again.stderr
    assert "synthesizing" not in again.stderr
    tables = result.stdout.split("## Timings")[1].split("## Notes")[0]
    assert tables == again.stdout.split("## Timings")[1].split("## Notes")[0]


# ---------------------------------------------------------------------------------------
# Each metric module on its own, on one tiny fleet (one run each; no timing assertions)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    """A 3-model, 1-environment synthetic fleet, generated once, as bench_size sets it up."""
    work = tmp_path_factory.mktemp("bench-work")
    set_child_env(work, bytecode_cache=False)  # fleetgen's cache goes under `work`
    root = work / "fleet"
    synthesize(root, 3, 1, 1)
    one = sorted((root / "fleet").glob("*.yaml"))[1].relative_to(root).as_posix()
    tiny = Bench(root, work, one, repeat=1, timeout=120, fleetgen=fleetgen_exe())
    generate.ensure_generated(tiny)
    return tiny


def _measured_once(stat: Stat) -> None:
    """One run was recorded with a wall time, a CPU time and a peak memory."""
    assert stat.runs == 1, stat
    assert stat.median_s is not None and stat.median_s > 0, stat
    assert stat.cpu_median_s is not None, stat
    assert stat.rss_kb is not None and stat.rss_kb > 0, stat
    assert len(stat.samples_s) == 1, stat


def test_every_metric_has_a_module_and_a_label() -> None:
    assert list(METRICS) == [
        "precommit",
        "precommit_cold",
        "validate",
        "gen_cold",
        "gen_same",
        "rendered",
        "rendered_one",
        "checkjsonschema",
        "kustomize_one",
        "kustomize_all",
        "floor",
    ]
    assert ANCHORS == ("checkjsonschema", "kustomize_one", "kustomize_all", "floor")


def test_precommit_warm_and_cold(bench: Bench) -> None:
    cache = Path(CHILD_ENV["FLEETGEN_CACHE_DIR"])
    _measured_once(precommit.warm(bench))
    assert cache.is_dir()  # the unmeasured first run filled it
    _measured_once(precommit.cold(bench))


def test_full_validate(bench: Bench) -> None:
    _measured_once(validate.full(bench))


def test_generate_cold_then_unchanged(bench: Bench) -> None:
    _measured_once(generate.cold(bench))
    assert overlays(bench.root), "gen_cold leaves the generated tree behind"
    _measured_once(generate.unchanged(bench))


def test_generate_unchanged_refuses_a_tree_that_changed(bench: Bench) -> None:
    generate.ensure_generated(bench)
    kustomization = bench.root / "applicationsets" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# edited\n")
    with pytest.raises(CommandFailed, match="expected '0 file\\(s\\) changed'"):
        generate.unchanged(bench)
    _measured_once(generate.unchanged(bench))  # that generate restored the tree


def test_ensure_generated_restores_a_missing_tree(bench: Bench) -> None:
    reset_generated(bench.root)
    generate.ensure_generated(bench)
    assert overlays(bench.root)


def test_rendered_validation(bench: Bench) -> None:
    crds = os.environ.get("FLEETGEN_TEST_CRDS")
    if not crds or not Path(crds).is_dir():
        pytest.skip("FLEETGEN_TEST_CRDS is unset or missing: the rendered metric needs CRDs")
    generate.ensure_generated(bench)
    _measured_once(rendered.warm(bench, Path(crds)))
    one = bench.root / bench.one
    before = one.read_text()
    _measured_once(rendered.one_changed(bench, Path(crds)))
    assert one.read_text() == before  # the changed descriptor is put back
    assert list((bench.work / "rendered-results").glob("*.json"))  # findings were recorded


def test_check_jsonschema_anchor(bench: Bench) -> None:
    _measured_once(checkjsonschema.check_one(bench))


def test_kustomize_anchor_and_its_extrapolation(bench: Bench) -> None:
    generate.ensure_generated(bench)
    apps = overlays(bench.root)
    one = kustomize.one_overlay(bench, apps, 2, None)
    assert one.runs == 2, one  # two overlays of the sample, built once each
    assert one.note == "kustomize only (no kubeconform); 2 overlays × 1"
    assert one.mean_s is not None and one.cpu_mean_s is not None
    every = kustomize.all_overlays(one, len(apps))
    assert every is not None
    assert every.median_s == pytest.approx(one.mean_s * len(apps))
    assert every.cpu_median_s == pytest.approx(one.cpu_mean_s * len(apps))
    assert every.runs == 0 and every.note.startswith("extrapolated: mean ")
    assert kustomize.all_overlays(Samples().stat(), len(apps)) is None  # nothing to scale


def test_floor(bench: Bench) -> None:
    generate.ensure_generated(bench)
    stat = floor.measure_floor(bench)
    _measured_once(stat)
    assert "dump+write" in stat.note, stat.note
    assert not (bench.work / "floor-out").exists()  # its output is removed again


def test_results_round_trip_for_resume(tmp_path: Path) -> None:
    saved = {"models": 3, "stats": {"validate": {"median_s": 0.5, "runs": 1}}}
    results.save(tmp_path, 3, 1, 7, saved)
    assert results.load(tmp_path, 3, 1, 7) == saved
    assert results.cache_file(tmp_path, 3, 1, 7).name == "N3-E1-s7.json"
    assert results.load(tmp_path, 4, 1, 7) == {}  # nothing saved for that size
