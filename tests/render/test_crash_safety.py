"""Crash safety and concurrency of `fleetgen generate` (issue 9).

The writer promises (render/writer.py, README): a run killed at any point leaves
applicationsets/ exactly as the old tree or exactly as the new one, and the next run cleans
up and converges. Two kinds of evidence:

* real SIGKILLs of the console script at seeded random moments spread over a whole run
  (FLEETGEN_KILL_ITERATIONS=200 for a longer run);
* a deterministic crash injected before (or in the middle of) every file-system mutation
  the writer makes, in-process, which reaches the microsecond windows a timer cannot.

Without renameat2(RENAME_EXCHANGE) the writer swaps with two renames; a crash between them
leaves no tree but a record of the swap (writer.RETIRED), which every later run and every
read of the tree rolls forward first (writer.recover). Those tests check the tree after that
documented recovery step, and that the gap is exactly that recoverable state.

The change between the two trees is large: every descriptor edited, one model retired, six
added, and a hand-written file carried along.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.loading.load import load_fleet
from fleetgen.render import writer
from fleetgen.render.fileplan import build_plan
from tests.conftest import REPO, copy_example, fleetgen_exe
from tests.strategies import describe_difference, dump_descriptor, snapshot, staging_leftovers

SEED = 20_251_126
HAND_WRITTEN = "prod/NOTES.md"
KILL_ITERATIONS = int(os.environ.get("FLEETGEN_KILL_ITERATIONS", "24"))


@dataclass(frozen=True)
class Trees:
    template: Path  # old generated tree + new inputs: what every run starts from
    old: dict[str, bytes]
    new: dict[str, bytes]


def _cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "FLEETGEN_DEBUG"}


def _generate_cli(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [fleetgen_exe(), "generate", *extra],
        cwd=root,
        capture_output=True,
        text=True,
        env=_cli_env(),
        timeout=300,
        check=False,
    )


def _change_inputs(root: Path) -> None:
    """Edit every descriptor, retire one model, add six."""
    fleet = root / "fleet"
    for index, path in enumerate(sorted(fleet.glob("*.yaml"))):
        doc = yaml.safe_load(path.read_text())
        doc["spec"]["runtime"]["maxNumSeqs"] = 8 + index
        doc["spec"]["autoscaling"]["targetPerPod"] = 3 + index
        if doc["metadata"]["name"] == "mixtral-8x7b-instruct":
            doc["spec"]["lifecycle"] = "retired"
        path.write_text(dump_descriptor(doc))
    qwen = yaml.safe_load((REPO / "fleet" / "qwen2-5-0-5b-instruct.yaml").read_text())
    for i in range(6):
        doc = yaml.safe_load(yaml.safe_dump(qwen))
        name = f"extra-model-{i}"
        doc["metadata"]["name"] = name
        doc["spec"]["model"]["servedName"] = f"extra/{name}"
        doc["spec"]["resources"]["gpuPool"] = "l4" if i < 3 else "h100"
        doc["spec"]["autoscaling"] = {"minReplicas": 1, "maxReplicas": 1}
        (fleet / f"{name}.yaml").write_text(dump_descriptor(doc))


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    base = copy_example(tmp_path_factory.mktemp("crash") / "base")
    (base / "applicationsets" / HAND_WRITTEN).write_text("hand-written, not owned\n")
    first = _generate_cli(base)
    assert first.returncode == 0, first.stderr
    old = snapshot(base)
    template = base.parent / "template"
    shutil.copytree(base, template)
    _change_inputs(template)
    assert app.validate(app.ValidateOptions(template)).errors == ()
    expected = base.parent / "expected"
    shutil.copytree(template, expected)
    done = _generate_cli(expected)
    assert done.returncode == 0, done.stderr
    new = snapshot(expected)
    changed = {p for p in set(old) | set(new) if old.get(p) != new.get(p)}
    assert len(changed) >= 40, len(changed)
    assert old[HAND_WRITTEN] == new[HAND_WRITTEN]
    return Trees(template, old, new)


def fresh(trees: Trees, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(trees.template, dest, symlinks=True)
    return dest


def classify(trees: Trees, root: Path) -> str:
    got = snapshot(root)
    if got == trees.old:
        return "old"
    if got == trees.new:
        return "new"
    pytest.fail(
        "applicationsets/ is neither the old nor the new tree: "
        f"vs old {describe_difference(got, trees.old)}; "
        f"vs new {describe_difference(got, trees.new)}"
    )


def test_tree_comparison_detects_a_mixed_tree(trees: Trees, tmp_path: Path) -> None:
    """Control: one new file in the old tree is caught as a mix."""
    root = fresh(trees, tmp_path / "mixed")
    path = next(p for p in trees.new if trees.new[p] != trees.old.get(p) and p in trees.old)
    (root / "applicationsets" / path).write_bytes(trees.new[path])
    with pytest.raises(pytest.fail.Exception, match="neither the old nor the new"):
        classify(trees, root)


# --- real SIGKILLs -----------------------------------------------------------------------------


def _calibrate(trees: Trees, root: Path) -> tuple[float, float]:
    """Seconds from start to the first sight of the staging dir, and to the end of a run."""
    fresh(trees, root)
    started = time.monotonic()
    proc = _start_generate(root)
    staged: float | None = None
    while proc.poll() is None:
        if staged is None and staging_leftovers(root):
            staged = time.monotonic() - started
        time.sleep(0.0005)
    total = time.monotonic() - started
    assert proc.returncode == 0
    return (staged if staged is not None else total * 0.9), total


def _start_generate(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [fleetgen_exe(), "generate"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_cli_env(),
    )


def _wait_for_staging(proc: subprocess.Popen[bytes], root: Path) -> None:
    while proc.poll() is None and not staging_leftovers(root):
        time.sleep(0.0005)


def test_sigkill_at_random_moments_leaves_old_or_new_tree(trees: Trees, tmp_path: Path) -> None:
    """Even iterations: a kill anywhere in [0, 1.1 x run time]. Odd ones: a kill at a random
    moment after the writer has created its staging directory (load on the machine cannot
    push those kills out of the writer's window)."""
    staged, total = _calibrate(trees, tmp_path / "calibrate")
    window = max(0.01, total - staged) + 0.02
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    cli_recoveries = 0
    for i in range(KILL_ITERATIONS):
        root = fresh(trees, tmp_path / "run")
        proc = _start_generate(root)
        if i % 2 == 0:
            time.sleep(rng.uniform(0.0, total * 1.1))
        else:
            _wait_for_staging(proc, root)
            time.sleep(rng.uniform(0.0, window))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        outcomes[classify(trees, root)] += 1
        leftovers = staging_leftovers(root)
        if leftovers:
            outcomes["left staging"] += 1
        if leftovers and cli_recoveries < 3:
            cli_recoveries += 1
            result = _generate_cli(root)
            assert result.returncode == 0, result.stderr
        else:
            assert app.generate(root, write=True).report.ok
        assert snapshot(root) == trees.new, describe_difference(snapshot(root), trees.new)
        assert staging_leftovers(root) == []
    print(f"kills: {dict(outcomes)}; run {total:.2f} s, staging seen at {staged:.2f} s")
    # The kills covered the run: some came before the swap, some after.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes


# --- a crash before every file-system mutation ---------------------------------------------------


class _Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler in the writer can catch it."""


@contextmanager
def crash_at(step: int | None, trace: list[str]) -> Iterator[None]:
    """Count the writer's mutations; raise _Crash at mutation number `step` (1-based).

    A crash in a file write first writes half the bytes (a torn write).
    """
    counter = [0]
    originals: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counter[0] += 1
            trace.append(label)
            if counter[0] == step:
                if label == "write":
                    path, data = args[0], args[1]
                    with open(path, "wb") as handle:  # noqa: PTH123 - real is replaced
                        handle.write(data[: len(data) // 2])
                raise _Crash(label)
            return real(*args, **kwargs)

        originals.append((owner, name, real))
        setattr(owner, name, wrapper)

    for name in ("link", "unlink", "rmdir", "mkdir", "rename", "replace"):
        wrap(os, name, name)
    wrap(pathlib.Path, "write_bytes", "write")
    wrap(writer, "_exchange", "exchange")
    try:
        yield
    finally:
        for owner, name, real in reversed(originals):
            setattr(owner, name, real)


def _desired(trees: Trees) -> dict[str, bytes]:
    fleet, problems = load_fleet(trees.template)
    assert not [p for p in problems if p.severity.value == "error"]
    return dict(build_plan(fleet).with_manifest())


def _crash_points(trace: list[str], *, spread: int) -> list[int]:
    """Both ends, the first and last of each kind of transition between two mutation kinds
    (with their neighbours), and `spread` points between; every point with
    FLEETGEN_CRASH_POINTS=all."""
    if os.environ.get("FLEETGEN_CRASH_POINTS") == "all":
        return list(range(1, len(trace) + 1))
    points = {1, 2, len(trace), len(trace) - 1}
    first: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], int] = {}
    for i in range(1, len(trace)):
        pair = (trace[i - 1], trace[i])
        if pair[0] != pair[1]:
            first.setdefault(pair, i)
            last[pair] = i
    for i in (*first.values(), *last.values()):
        points.update({i, i + 1, i + 2})
    if spread:
        points.update(range(1, len(trace) + 1, max(1, len(trace) // spread)))
    return sorted(p for p in points if 1 <= p <= len(trace))


def fresh_tree(trees: Trees, dest: Path) -> Path:
    """Only the generated tree: all that writer.apply touches, cheaper than `fresh`."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir()
    shutil.copytree(trees.template / "applicationsets", dest / "applicationsets", symlinks=True)
    return dest


def run_crash_points(
    trees: Trees,
    tmp_path: Path,
    patch: Callable[[pytest.MonkeyPatch], None],
    *,
    spread: int,
    last_first: bool = False,
    recovery: bool = False,
) -> Counter[str]:
    """Crash at each chosen point, then check the tree. With `recovery`, a crash may also
    leave the documented interrupted swap (no tree, writer.RETIRED present); then the tree is
    checked after writer.recover, the step every later fleetgen run takes first."""
    desired = _desired(trees)
    outcomes: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as mp:
        patch(mp)
        trace: list[str] = []
        root = fresh_tree(trees, tmp_path / "trace")
        with crash_at(None, trace):
            writer.apply(root, desired)
        assert snapshot(root) == trees.new
        assert {"link", "write", "unlink"} <= set(trace), Counter(trace)
        points = _crash_points(trace, spread=spread)
        outcomes["points"] = len(points)
        outcomes["mutations"] = len(trace)
        for step in reversed(points) if last_first else points:
            root = fresh_tree(trees, tmp_path / "step")
            with pytest.raises(_Crash), crash_at(step, []):
                writer.apply(root, desired)
            label = trace[step - 1]
            if recovery and not (root / "applicationsets").exists():
                assert (root / writer.RETIRED).is_dir(), (step, label)
                outcomes[f"interrupted swap after {label}"] += 1
            else:
                outcomes[f"{classify(trees, root)} after {label}"] += 1
            if recovery:
                with writer.generate_lock(root):
                    writer.recover(root)
                outcomes[f"{classify(trees, root)} after recovery"] += 1
            writer.apply(root, desired)  # the next run
            assert snapshot(root) == trees.new, (step, trace[step - 1])
            assert staging_leftovers(root) == [], (step, trace[step - 1])
    return outcomes


def test_crash_before_any_writer_step_leaves_old_or_new_tree(trees: Trees, tmp_path: Path) -> None:
    outcomes = run_crash_points(trees, tmp_path, lambda mp: None, spread=25)
    print(f"crash points: {dict(outcomes)}")
    assert any(k.startswith("old") for k in outcomes), outcomes
    assert any(k.startswith("new") for k in outcomes), outcomes


def _no_exchange(a: Path, b: Path) -> None:
    raise OSError(errno.EINVAL, "RENAME_EXCHANGE not supported", str(a))


def test_crash_in_the_rename_fallback_leaves_old_or_new_tree(trees: Trees, tmp_path: Path) -> None:
    """No RENAME_EXCHANGE (other kernels, some file systems): two renames. A crash between
    them leaves no tree but a record of the swap; recovery makes it exactly the new tree."""
    outcomes = run_crash_points(
        trees,
        tmp_path,
        lambda mp: mp.setattr(writer, "_exchange", _no_exchange),
        spread=0,
        last_first=True,
        recovery=True,
    )
    print(f"crash points: {dict(outcomes)}")
    assert outcomes["interrupted swap after rename"] >= 1, outcomes
    assert outcomes["old after recovery"] > 0 and outcomes["new after recovery"] > 0, outcomes


def test_a_read_finishes_an_interrupted_swap(trees: Trees, tmp_path: Path) -> None:
    """`generate --check` and `validate --in-sync` compare with the tree: they recover first."""
    desired = _desired(trees)
    root = fresh_tree(trees, tmp_path / "read")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "_exchange", _no_exchange)
        _crash_between_the_renames(mp, root)
        with pytest.raises(_Crash):
            writer.apply(root, desired)
    assert not (root / "applicationsets").exists()
    assert writer.compute_changes(root, desired).empty
    assert snapshot(root) == trees.new
    assert staging_leftovers(root) == []


def test_a_crash_during_recovery_is_recovered_by_the_next_run(trees: Trees, tmp_path: Path) -> None:
    """Recovery is itself crash-safe: one rename, then deleting the old tree."""
    desired = _desired(trees)

    def interrupted(dest: Path) -> Path:
        root = fresh_tree(trees, dest)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(writer, "_exchange", _no_exchange)
            _crash_between_the_renames(mp, root)
            with pytest.raises(_Crash):
                writer.apply(root, desired)
        return root

    trace: list[str] = []
    root = interrupted(tmp_path / "trace")
    with crash_at(None, trace):
        writer.recover(root)
    assert trace[0] == "rename" and len(trace) > 10, trace
    for step in _crash_points(trace, spread=10):
        root = interrupted(tmp_path / "step")
        with pytest.raises(_Crash), crash_at(step, []):
            writer.recover(root)
        if step > 1:  # the rename happened: the new tree is in place
            assert classify(trees, root) == "new"
        writer.apply(root, desired)
        assert snapshot(root) == trees.new, step
        assert staging_leftovers(root) == [], step


@pytest.mark.parametrize("leftover", [writer.STAGING, writer.RETIRED])
def test_a_current_tree_still_gets_a_crashed_runs_leftovers_cleaned(
    trees: Trees, tmp_path: Path, leftover: str
) -> None:
    """A kill after the swap but before the clean-up leaves the new tree plus the old one
    beside it. The next generate knows the tree is current (and skips rendering); it still
    removes the leftover."""
    root = fresh(trees, tmp_path / "current")
    assert app.generate(root, write=True).report.ok
    shutil.copytree(root / "applicationsets", root / leftover)
    result = app.generate(root, write=True)
    assert result.changes is not None and result.changes.empty
    assert snapshot(root) == trees.new
    assert staging_leftovers(root) == []


def _crash_between_the_renames(mp: pytest.MonkeyPatch, root: Path) -> None:
    staging = root / writer.STAGING
    real_rename = pathlib.Path.rename

    def rename(self: pathlib.Path, target: Any) -> Any:
        if self == staging and Path(target) == root / "applicationsets":
            raise _Crash("between the two renames")
        return real_rename(self, target)

    mp.setattr(pathlib.Path, "rename", rename)


def test_hand_written_files_survive_a_crash_in_the_rename_fallback(
    trees: Trees, tmp_path: Path
) -> None:
    desired = _desired(trees)
    root = fresh_tree(trees, tmp_path / "fallback")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "_exchange", _no_exchange)
        _crash_between_the_renames(mp, root)
        with pytest.raises(_Crash):
            writer.apply(root, desired)
    writer.apply(root, desired)
    assert (root / "applicationsets" / HAND_WRITTEN).is_file()
    assert snapshot(root) == trees.new


# --- concurrency ---------------------------------------------------------------------------------


@contextmanager
def holding_lock(root: Path) -> Iterator[None]:
    with (root / writer.LOCK_FILE).open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def test_second_generate_waits_for_the_lock_then_succeeds(trees: Trees, tmp_path: Path) -> None:
    root = fresh(trees, tmp_path / "wait")
    with holding_lock(root):
        proc = subprocess.Popen(
            [fleetgen_exe(), "generate"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_cli_env(),
        )
        time.sleep(4.0)  # about four times a whole run
        assert proc.poll() is None, "generate did not wait for the lock"
        assert snapshot(root) == trees.old
        assert staging_leftovers(root) == []
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert snapshot(root) == trees.new
    assert "file(s) changed" in err


def test_lock_timeout_fails_clearly_and_writes_nothing(trees: Trees, tmp_path: Path) -> None:
    """The wait is 30 s; the console script's entry point runs with it lowered to 1 s."""
    root = fresh(trees, tmp_path / "timeout")
    script = (
        "import sys\n"
        "from fleetgen.render import writer\n"
        "writer.generate_lock.__wrapped__.__kwdefaults__['wait_seconds'] = 1.0\n"
        "from fleetgen.cli import main\n"
        "sys.argv = ['fleetgen', 'generate']\n"
        "main()\n"
    )
    with holding_lock(root):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            capture_output=True,
            text=True,
            env=_cli_env(),
            timeout=120,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert "another `fleetgen generate` is running" in result.stderr
    assert writer.LOCK_FILE in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed >= 1.0
    assert snapshot(root) == trees.old
    assert staging_leftovers(root) == []


def test_check_reads_without_waiting_for_the_lock(trees: Trees, tmp_path: Path) -> None:
    """--check writes nothing, so it does not queue behind a running generate."""
    root = fresh(trees, tmp_path / "check")
    with holding_lock(root):
        started = time.monotonic()
        result = _generate_cli(root, "--check")
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "out of date" in result.stderr
    assert elapsed < 20


def test_concurrent_generates_converge(trees: Trees, tmp_path: Path) -> None:
    root = fresh(trees, tmp_path / "both")
    procs = [
        subprocess.Popen(
            [fleetgen_exe(), "generate"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_cli_env(),
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert snapshot(root) == trees.new
    assert staging_leftovers(root) == []
