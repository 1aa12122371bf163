"""Rendered validation split over worker processes finds exactly what one process finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgen.core import parallel
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.load import load_fleet
from fleetgen.rendered import validate as rendered
from tests.conftest import copy_example, crds_without

PASSWORD_CRD = "generators.external-secrets.io_passwords.yaml"  # the dummy keys' generator


def _broken_example(tmp_path: Path) -> Path:
    """The example with findings in every cluster: a base typo (FG701 per model app), a
    CEL violation (FG702 and FG704) and a kind without a schema (FG703)."""
    root = copy_example(tmp_path / "repo")
    for base in ("base/model/inferenceservice.yaml", "base/llmisvc/llminferenceservice.yaml"):
        server = root / base
        server.write_text(
            server.read_text().replace("      args:\n", "      argz: [--x]\n      args:\n", 1)
        )
    backend = root / "base/model/aiservicebackend.yaml"
    backend.write_text(backend.read_text().replace("    kind: Backend", "    kind: Service", 1))
    return root


def _check(root: Path, jobs: int) -> tuple[list[Diagnostic], list[str]]:
    fleet, problems = load_fleet(root)
    assert not problems
    # Without its CRD the dummy-key Password generator has no schema (FG703).
    schemas = crds_without(root.parent / f"jobs-{jobs}", PASSWORD_CRD)
    result = rendered.validate_rendered(root, fleet, schema_dirs=(schemas,), jobs=jobs)
    return sorted(result.diagnostics, key=Diagnostic.sort_key), result.notes


def test_two_workers_find_what_one_process_finds(tmp_path: Path) -> None:
    root = _broken_example(tmp_path)
    serial, serial_notes = _check(root, jobs=1)
    parallel, parallel_notes = _check(root, jobs=2)
    codes = {d.code for d in serial}
    assert {"FG701", "FG702", "FG703", "FG704"} <= codes, codes
    model_apps = int(serial_notes[0].split()[4]) - 4  # minus one platform app per cluster
    assert sum(d.code == "FG701" for d in serial) >= model_apps  # every app, every cluster
    assert parallel == serial
    assert parallel_notes == serial_notes
    # One FG703 per kind, from the first app of the whole fleet, however the work is split.
    (missing,) = [d for d in parallel if d.code == "FG703"]
    assert "applicationsets/dev/dev-a/platform" in missing.message


def test_small_fleets_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    assert parallel.workers(None, size=199, threshold=200, parts=4) == 1
    assert parallel.workers(None, size=200, threshold=200, parts=4) == 2
    assert parallel.workers(8, size=10, threshold=200, parts=3) == 3  # at most one per part
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    assert parallel.workers(8, size=10**6, threshold=200, parts=3) == 1


def test_fork_map_keeps_order_and_runs_in_other_processes() -> None:
    import os

    parent = os.getpid()
    results = parallel.fork_map(lambda i: (i * i, os.getpid()), 3)
    assert [square for square, _ in results] == [0, 1, 4]
    if parallel.can_fork():
        assert all(pid != parent for _, pid in results)


def test_shards_are_clusters_largest_first() -> None:
    clusters = {"a/x": 10, "a/y": 1, "b/x": 6, "b/y": 6, "c/x": 2}
    assert rendered._shards(clusters, 2) == [["a/x"], ["b/x"], ["b/y"], ["c/x"], ["a/y"]]
    assert rendered._shards(clusters, 1) == [sorted(clusters)]


def test_fork_map_runs_more_tasks_than_processes_in_order() -> None:
    import os

    results = parallel.fork_map(lambda i: (i, os.getpid()), 5, processes=2)
    assert [i for i, _ in results] == [0, 1, 2, 3, 4]
    if parallel.can_fork():
        assert len({pid for _, pid in results}) == 5  # a fresh worker per task


def test_an_exception_in_a_worker_is_raised_in_the_parent() -> None:
    def task(index: int) -> int:
        if index == 2:
            raise ValueError("part two is broken")
        return index

    with pytest.raises(ValueError, match="part two is broken"):
        parallel.fork_map(task, 4, processes=2)


def test_a_killed_worker_fails_the_run_instead_of_hanging() -> None:
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os
        from fleetgen.core import parallel

        def task(index):
            if index == 1:
                os._exit(7)  # as if the kernel killed it
            return index

        try:
            parallel.fork_map(task, 3, processes=2)
        except parallel.WorkerFailed as exc:
            print("failed:", exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    if parallel.can_fork():
        assert "failed: worker process for part 1 died (exit code 7)" in done.stdout
