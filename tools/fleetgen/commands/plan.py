"""CLI command: plan (registered on fleetgen.commands.base.cli)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fleetgen.commands.base import EXIT_OK, EXIT_PROBLEMS, RootOption, cli, run


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"


@cli.command()
def plan(
    base: Annotated[
        str, typer.Option("--base", help="Revision to compare against (e.g. origin/main).")
    ],
    head: Annotated[
        str | None, typer.Option("--head", help="Revision to plan (default: the work tree).")
    ] = None,
    root: RootOption = Path(),
    output_format: Annotated[
        PlanFormat, typer.Option("--format", help="text, or markdown for a PR comment.")
    ] = PlanFormat.text,
    max_drop: Annotated[
        float, typer.Option("--max-drop", help="Largest share of apps a change may remove.")
    ] = 0.25,
) -> None:
    """Offline: the Argo CD apps a change adds, changes and removes, with manifest diffs."""
    from fleetgen import app
    from fleetgen.review import report as plan_report

    result = run(lambda: app.plan(root, base, head, max_drop=max_drop), progress_label="plan")
    render = plan_report.markdown if output_format is PlanFormat.markdown else plan_report.text
    sys.stdout.write(render(result))
    raise typer.Exit(EXIT_OK if result.report.ok else EXIT_PROBLEMS)
