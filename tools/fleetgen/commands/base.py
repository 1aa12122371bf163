"""Shared pieces of the command line: the Typer app, options, and the one error mapping.

Exit codes: 0 clean (warnings allowed), 1 diagnostics with errors (or drift for --check),
2 usage or internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from fleetgen import __version__
from fleetgen.core import progress

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Validate and generate a GitOps fleet of LLM deployments.",
)

T = TypeVar("T")

RootOption = Annotated[
    Path, typer.Option("--root", help="Repository root (holds fleet/ and environments/).")
]


class Format(StrEnum):
    """Output formats of `validate` (docs/output-formats.md); json and sarif are contracts."""

    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    junit = "junit"


def fail(message: str) -> NoReturn:
    typer.echo(f"fleetgen: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def terminal_progress(label: str | None) -> progress.TerminalProgress | None:
    """A progress line for a long run, only when stderr is a terminal: logs, pipes and CI
    output stay exactly the diagnostics."""
    if label is None or not sys.stderr.isatty():
        return None
    return progress.TerminalProgress(label, sys.stderr)


def run(action: Callable[[], T], *, progress_label: str | None = None) -> T:
    """Run a use case; known errors and crashes become a message and exit code 2. With a
    label, a long run shows its progress on a terminal."""
    from fleetgen.core.errors import FleetgenError

    try:
        with progress.reporting(terminal_progress(progress_label)):
            return action()
    except FleetgenError as exc:
        fail(str(exc))
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # the one place a crash becomes a message, not a traceback
        if os.environ.get("FLEETGEN_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set FLEETGEN_DEBUG=1 for details)")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fleetgen {__version__}")
        raise typer.Exit(EXIT_OK)


@cli.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Validate and generate a GitOps fleet of LLM deployments."""
