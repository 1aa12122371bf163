"""CLI command `init` (registered on fleetgen.commands.base.cli); logic in authoring.init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetgen.authoring.init import DEFAULT_FLEETGEN_REPO, DEFAULT_REPO_URL
from fleetgen.commands.base import cli, run


@cli.command()
def init(
    directory: Annotated[Path, typer.Argument(help="New repository (absent or empty).")],
    repo_url: Annotated[
        str, typer.Option("--repo-url", help="Where Argo CD clones the new repository.")
    ] = DEFAULT_REPO_URL,
    fleetgen_repo: Annotated[
        str,
        typer.Option("--fleetgen-repo", help="Where pre-commit and CI install fleetgen from."),
    ] = DEFAULT_FLEETGEN_REPO,
    fleetgen_rev: Annotated[
        str | None,
        typer.Option("--fleetgen-rev", help="fleetgen revision to pin (default: this version)."),
    ] = None,
) -> None:
    """Write a fleet repository of one's own: bases, one environment, schemas, the PR
    workflow, pre-commit hooks pinned to this fleetgen, and its generated files."""
    from fleetgen import app
    from fleetgen.authoring.init import InitOptions

    options = InitOptions(target=directory, repo_url=repo_url, fleetgen_repo=fleetgen_repo)
    if fleetgen_rev is not None:
        options = InitOptions(directory, repo_url, fleetgen_repo, fleetgen_rev)
    written = run(lambda: app.init(options))
    typer.echo(f"fleetgen: {len(written)} file(s) written to {directory}", err=True)
    typer.echo(
        f"next: edit {directory}/environments/dev/environment.yaml and .fleetgen.yaml, then "
        "`fleetgen new NAME --model CATALOG_ID --env dev`",
        err=True,
    )
