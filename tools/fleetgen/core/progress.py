"""Progress of long runs, as a side channel: work reports units done, and whoever listens
(the CLI, on a terminal) shows them.

Work calls :func:`expect` and :func:`advance` wherever it is; without a listener they cost a
global lookup. Forked workers forward their units to the parent (see core.parallel), so the
count stays right when the work is spread over cores. Nothing here decides whether to show
anything: the CLI installs a :class:`TerminalProgress` only when stderr is a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO


class Sink(Protocol):
    def expect(self, units: int) -> None:
        """More work is known: `units` to do."""

    def advance(self, units: int) -> None:
        """`units` of the known work are done."""


_SINK: Sink | None = None


def expect(units: int) -> None:
    if _SINK is not None and units > 0:
        _SINK.expect(units)


def advance(units: int = 1) -> None:
    if _SINK is not None and units > 0:
        _SINK.advance(units)


def listening() -> bool:
    return _SINK is not None


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Send the progress of the work inside the block to `sink` (None: to no one)."""
    global _SINK
    previous, _SINK = _SINK, sink
    try:
        yield
    finally:
        _SINK = previous
        close = getattr(sink, "close", None)
        if callable(close):
            close()


class Forward:
    """A sink in a forked worker: hands every call to `send` (the pipe to the parent)."""

    def __init__(self, send: Callable[[tuple[str, int]], None]) -> None:
        self._send = send

    def expect(self, units: int) -> None:
        self._send(("expect", units))

    def advance(self, units: int) -> None:
        self._send(("advance", units))


def install(sink: Sink | None) -> None:
    """Replace the listener for the rest of this process (a worker's forwarder)."""
    global _SINK
    _SINK = sink


def forward(message: tuple[str, int]) -> None:
    """Apply a unit message a worker forwarded."""
    kind, units = message
    if kind == "expect":
        expect(units)
    elif kind == "advance":
        advance(units)


class TerminalProgress:
    """One line on a terminal, rewritten in place: `label: done/total unit, elapsed`."""

    def __init__(
        self,
        label: str,
        stream: TextIO,
        *,
        unit: str = "apps",
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self.label, self.stream, self.unit = label, stream, unit
        self.clock, self.interval = clock, interval
        self.started = clock()
        self.total = self.done = 0
        self._shown_at: float | None = None
        self._width = 0

    def expect(self, units: int) -> None:
        self.total += units
        self._show()

    def advance(self, units: int) -> None:
        self.done += units
        self._show()

    def line(self) -> str:
        elapsed = self.clock() - self.started
        return f"{self.label}: {self.done}/{self.total} {self.unit}, {elapsed:.1f} s"

    def _show(self, *, force: bool = False) -> None:
        now = self.clock()
        if not force and self._shown_at is not None and now - self._shown_at < self.interval:
            return
        self._shown_at = now
        text = self.line()
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def close(self) -> None:
        """Leave the terminal as it was: the line is cleared once the run ends."""
        if self._shown_at is None:
            return
        self.stream.write("\r" + " " * self._width + "\r")
        self.stream.flush()
