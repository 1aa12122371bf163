"""Progress of long runs: one rewritten line on a terminal's stderr, nothing anywhere else,
and the same count whether the work runs in one process or in forked workers."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
from pathlib import Path

from fleetgen.core import parallel, progress
from tests.conftest import copy_example, fleetgen_exe


class _Recorder:
    def __init__(self) -> None:
        self.expected = self.done = 0

    def expect(self, units: int) -> None:
        self.expected += units

    def advance(self, units: int) -> None:
        self.done += units


def test_terminal_line_counts_throttles_and_clears() -> None:
    now = [100.0]
    out = io.StringIO()
    line = progress.TerminalProgress("validate --rendered", out, clock=lambda: now[0])
    line.expect(10)
    line.advance(3)  # within the interval: not drawn again
    now[0] += 2.5
    line.advance(4)
    assert line.line() == "validate --rendered: 7/10 apps, 2.5 s"
    drawn = out.getvalue().split("\r")[1:]
    assert drawn == [
        "validate --rendered: 0/10 apps, 0.0 s",
        "validate --rendered: 7/10 apps, 2.5 s",
    ]
    line.close()
    assert out.getvalue().endswith("\r" + " " * len(drawn[-1]) + "\r")


def test_nothing_is_drawn_for_a_run_that_reported_nothing() -> None:
    out = io.StringIO()
    with progress.reporting(progress.TerminalProgress("generate", out)):
        pass
    assert out.getvalue() == ""


def test_units_without_a_listener_go_nowhere() -> None:
    assert not progress.listening()
    progress.expect(5)
    progress.advance(5)  # no sink: nothing to fail, nothing kept


def test_forked_workers_forward_their_units_to_the_parent() -> None:
    def task(index: int) -> int:
        progress.expect(1)
        progress.advance(index + 1)
        return os.getpid()

    recorder = _Recorder()
    with progress.reporting(recorder):
        pids = parallel.fork_map(task, 3, processes=2)
    assert recorder.expected == 3
    assert recorder.done == 1 + 2 + 3
    if parallel.can_fork():
        assert os.getpid() not in pids  # the units really crossed a process boundary


def _generate(root: Path, *, terminal: bool, cache: Path) -> str:
    """stderr of `fleetgen generate --dry-run`, written to a pseudo-terminal or a pipe."""
    env = {**os.environ, "FLEETGEN_CACHE_DIR": str(cache)}
    args = [fleetgen_exe(), "generate", "--dry-run", "--root", str(root)]
    if not terminal:
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stderr
    leader, follower = pty.openpty()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    assert child.wait(timeout=120) == 0
    os.close(leader)
    return b"".join(chunks).decode()


def test_generate_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    shown = _generate(root, terminal=True, cache=tmp_path / "cache-a")
    counts = re.findall(r"generate: (\d+)/(\d+) apps, \d+\.\d s", shown)
    assert counts, shown
    total = int(counts[0][1])
    assert total > 0 and all(int(t) == total for _, t in counts)
    assert re.search(r"\r +\r", shown), "the line is cleared at the end"
    piped = _generate(root, terminal=False, cache=tmp_path / "cache-b")
    assert "apps," not in piped and "\r" not in piped
