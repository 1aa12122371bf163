"""Use cases behind the CLI. Nothing here prints; results are returned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetgen.diagnostics import Diagnostic, Report
from fleetgen.errors import UsageError


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    root: Path
    paths: tuple[Path, ...] = ()


def _relative(root: Path, paths: Sequence[Path]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        full = path if path.is_absolute() else Path.cwd() / path
        if not full.exists():
            raise UsageError(f"{path}: no such file")
        try:
            out.add(full.resolve().relative_to(root).as_posix())
        except ValueError as exc:
            raise UsageError(f"{path}: not inside the repository {root}") from exc
    return out


def validate(options: ValidateOptions) -> Report:
    """Lint the repository: load, schema, cross-file checks.

    With paths, only diagnostics located in those files are reported, but the checks still
    see the whole fleet, so cross-references from and to those files are verified.
    """
    from fleetgen.checks import run_checks
    from fleetgen.loading.fleet import load_fleet

    root = options.root.resolve()
    if not root.is_dir():
        raise UsageError(f"{options.root}: not a directory")
    wanted = _relative(root, options.paths)
    fleet, diags = load_fleet(root)
    diags.extend(run_checks(fleet))
    if wanted:
        diags = [d for d in diags if d.location.file in wanted]
    return Report.of(diags)


def select(report: Report, codes: Sequence[str]) -> tuple[Diagnostic, ...]:
    """Diagnostics of the given codes (for tests and tools)."""
    return tuple(d for d in report.diagnostics if d.code in codes)
