"""Cross-file checks: pure functions from a Fleet to diagnostics, listed explicitly."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleetgen.checks import names
from fleetgen.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet

Check = Callable[[Fleet], Iterable[Diagnostic]]

CHECKS: tuple[Check, ...] = (names.check_file_names,)


def run_checks(fleet: Fleet) -> list[Diagnostic]:
    """Every check over the fleet, in registry order."""
    return [found for check in CHECKS for found in check(fleet)]
