"""The footprint cache behind the pre-commit path never answers for a file that changed.

Each test warms the cache with a focused run, changes the repository behind its back, and
checks that the next focused run reports what a full run reports for the focused file.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import pytest

from fleetgen import app
from fleetgen.core.diagnostics import Report
from fleetgen.loading import load as fleet_loading
from fleetgen.loading import read as reading
from fleetgen.loading import snapshot

SMALL = "fleet/llama-3-1-8b-instruct.yaml"
LARGE = "fleet/llama-3-1-70b-instruct-fp8.yaml"
SMALL_SERVED = "llama-3.1-8b-instruct"


def _findings(report: Report) -> set[tuple[str, int, int, str, str]]:
    return {
        (d.location.file, d.location.line, d.location.column, d.code, d.message)
        for d in report.diagnostics
    }


def _focused(root: Path, rel: str) -> set[tuple[str, int, int, str, str]]:
    return _findings(app.validate(app.ValidateOptions(root=root, paths=(root / rel,))))


def _full_there(root: Path, rel: str) -> set[tuple[str, int, int, str, str]]:
    return {f for f in _findings(app.validate(app.ValidateOptions(root=root))) if f[0] == rel}


@pytest.fixture
def repo(example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    return example_repo


@pytest.fixture
def reads(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The input files the loader reads, in order."""
    seen: list[str] = []
    real = reading.read_capped
    root = repo.resolve()

    def read_capped(path: Path) -> Any:
        seen.append(path.relative_to(root).as_posix())
        return real(path)

    monkeypatch.setattr(reading, "read_capped", read_capped)
    return seen


def _trust_fresh_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust a stat at once: the files here were all written a moment ago."""
    monkeypatch.setattr(snapshot, "RACY_NS", 0)


def _claim_small_alias_keeping_stat(path: Path) -> None:
    """Make the large model also claim the alias `llama-8b`, in place, keeping the file's
    size, mtime and inode: only its ctime tells that it changed."""
    before = path.stat()
    text = path.read_bytes()
    assert text.count(b"[llama-70b]") == 1
    data = text.replace(b"[llama-70b]", b"[llama-8b] ")  # same length
    time.sleep(0.05)  # past the timestamp tick of the copy: the ctime moves
    with path.open("r+b") as handle:
        handle.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    kept = ("st_size", "st_mtime_ns", "st_ino")
    assert [getattr(after, k) for k in kept] == [getattr(before, k) for k in kept]


def test_unchanged_files_outside_the_focus_are_not_read(
    repo: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    assert _focused(repo, SMALL) == set()
    reads.clear()
    assert _focused(repo, SMALL) == set()
    assert [r for r in reads if r.startswith("fleet/")] == [SMALL]


def test_a_fresh_stat_is_not_trusted_so_the_file_is_hashed(repo: Path, reads: list[str]) -> None:
    """Files written less than a second ago may change again within the same tick."""
    _focused(repo, SMALL)
    reads.clear()
    _focused(repo, SMALL)
    assert LARGE in reads
    cache = snapshot.FootprintCache(repo.resolve(), b"context")
    cache.put("fleet/x.yaml", (1, time.time_ns(), 1, time.time_ns()), b"d", None)
    cache.put("fleet/y.yaml", (1, 1, 1, 1), b"d", None)
    assert cache.seen["fleet/x.yaml"][0] is None
    assert cache.seen["fleet/y.yaml"][0] == (1, 1, 1, 1)


def test_an_edit_that_keeps_size_and_mtime_is_seen(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    assert _focused(repo, SMALL) == set()
    _claim_small_alias_keeping_stat(repo / LARGE)
    got = _focused(repo, SMALL)
    assert {f[3] for f in got} == {"FG302"}
    assert got == _full_there(repo, SMALL)


def test_an_environment_edit_changes_every_footprint(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    for rel in (SMALL, LARGE):
        assert _focused(repo, rel) == set()
    env = repo / "environments" / "prod" / "environment.yaml"
    env.write_text(env.read_text().replace("nodes: 6", "nodes: 1", 1))
    full = _full_there(repo, SMALL) | _full_there(repo, LARGE)
    assert {"FG406", "FG407"} & {f[3] for f in full}, "the shrunken pool must show"
    assert _focused(repo, SMALL) | _focused(repo, LARGE) == full


def test_added_and_deleted_files_outside_the_focus(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    assert _focused(repo, SMALL) == set()
    twin = repo / "fleet" / "twin.yaml"
    twin.write_text((repo / SMALL).read_text())  # same model name and served names
    added = _focused(repo, SMALL)
    assert {"FG301", "FG302"} <= {f[3] for f in added}
    assert added == _full_there(repo, SMALL)
    twin.unlink()
    assert _focused(repo, SMALL) == set()


def test_a_broken_file_outside_the_focus_is_left_out_until_fixed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    twin = repo / "fleet" / "twin.yaml"
    good = (repo / SMALL).read_text()
    twin.write_text(good.replace("kind: ModelDeployment", "kind: Nonsense"))
    assert _focused(repo, SMALL) == set()  # the broken twin is its own file's problem
    twin.write_text(good)
    assert {"FG301", "FG302"} <= {f[3] for f in _focused(repo, SMALL)}


@pytest.mark.parametrize("damage", [b"", b"garbage", b"\xff" * 64])
def test_a_damaged_cache_file_is_ignored(repo: Path, damage: bytes) -> None:
    _focused(repo, SMALL)
    files = list((repo.parent / "cache" / "footprints").iterdir())
    assert len(files) == 1
    files[0].write_bytes(damage)
    (repo / "fleet" / "twin.yaml").write_text((repo / SMALL).read_text())
    assert _focused(repo, SMALL) == _full_there(repo, SMALL) != set()


def test_a_new_fleetgen_build_does_not_reuse_footprints(
    repo: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust_fresh_stats(monkeypatch)
    _focused(repo, SMALL)
    monkeypatch.setattr(snapshot, "code_stamp", lambda: b"another build")
    reads.clear()
    _focused(repo, SMALL)
    assert LARGE in reads


def test_without_a_cache_directory_the_focused_run_still_agrees(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", "")
    (repo / "fleet" / "twin.yaml").write_text((repo / SMALL).read_text())
    assert _focused(repo, SMALL) == _full_there(repo, SMALL) != set()


def test_a_changed_copy_of_a_fleet_sums_its_own_footprints(repo: Path) -> None:
    loaded, _ = fleet_loading.load_fleet(repo)
    assert SMALL_SERVED in {key[3] for key in loaded.footprints().served}
    fewer = dataclasses.replace(
        loaded, descriptors=tuple(d for d in loaded.descriptors if d.source.path != SMALL)
    )
    assert SMALL_SERVED not in {key[3] for key in fewer.footprints().served}


def _clashing_copies(repo: Path, count: int) -> None:
    """`count` more descriptors outside the focus, one of them invalid and one that claims
    the focused model's served name, so cross-file findings depend on every one of them."""
    text = (repo / LARGE).read_text()
    name = "llama-3-1-70b-instruct-fp8"
    for i in range(count):
        copy = text.replace(f"name: {name}", f"name: {name}-copy-{i}")
        (repo / f"fleet/{name}-copy-{i}.yaml").write_text(copy)
    (repo / f"fleet/{name}-copy-0.yaml").write_text(text.replace("kind:", "knd:"))
    small = (repo / SMALL).read_text()
    clash = small.replace("name: llama-3-1-8b-instruct", "name: llama-3-1-8b-clash", 1)
    (repo / "fleet/llama-3-1-8b-clash.yaml").write_text(clash)


def test_cold_derivation_over_workers_equals_one_process(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold pre-commit run parses the other descriptors in forked workers past a size;
    what it finds, and the footprints it leaves in the cache, equal a run in one process."""
    from fleetgen.core import parallel
    from fleetgen.loading import focused

    _clashing_copies(repo, 6)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    runs = []
    real = parallel.fork_map
    for threshold in (10**9, 1):  # one process, then forked workers
        monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / f"cold-{threshold}"))
        monkeypatch.setattr(focused, "_FORK_AFTER", threshold)
        forks: list[int] = []

        def counting(*args: Any, forks: list[int] = forks, **kwargs: Any) -> Any:
            forks.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(parallel, "fork_map", counting)
        findings = _focused(repo, SMALL)
        fleet, _ = fleet_loading.load_fleet(repo, focus=frozenset({SMALL}), lean=True)
        runs.append((findings, sorted(fleet.others), len(forks)))
    (serial, serial_others, serial_forks), (forked, forked_others, forked_forks) = runs
    assert serial_forks == 0 and (forked_forks > 0 or not parallel.can_fork())
    assert any(f[3] == "FG302" for f in serial), serial  # the served-name clash is seen
    assert forked == serial
    assert forked_others == serial_others
    assert forked == _full_there(repo, SMALL)
