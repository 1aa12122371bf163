"""CLI commands `new` and `fmt` (registered on fleetgen.commands.base.cli); logic in scaffold, fmt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fleetgen.commands.base import EXIT_OK, EXIT_PROBLEMS, RootOption, cli, run


@cli.command()
def new(
    name: Annotated[str, typer.Argument(help="Model name: fleet/NAME.yaml (a DNS label).")],
    model: Annotated[str, typer.Option("--model", help="Catalog id (`fleetgen catalog`).")],
    env: Annotated[list[str], typer.Option("--env", help="Target environment (repeatable).")],
    team: Annotated[str | None, typer.Option("--team", help="Owning team.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Owners' e-mail.")] = None,
    pool: Annotated[
        str | None, typer.Option("--pool", help="GPU pool in every environment (default: chosen).")
    ] = None,
    root: RootOption = Path(),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Scaffold fleet/NAME.yaml: a commented descriptor that fits its GPU pool and validates.

    The pool is the smallest GPU on every cluster of every --env (else one per environment),
    tensorParallel the smallest power of two leaving KV cache for several sequences of
    maxModelLen = min(context, 8192) tokens, and the image the fleet's digest-pinned one.
    """
    from fleetgen.authoring import scaffold

    options = scaffold.NewOptions(
        root=root,
        name=name,
        catalog=model,
        envs=tuple(env),
        team=team,
        contact=contact,
        pool=pool,
        force=force,
    )
    done = run(lambda: scaffold.new(options))
    choice = done.choice
    pools = ", ".join(f"{e}: {p}" for e, p in choice.pools.items())
    typer.echo(
        f"created {done.path} ({model} on {choice.tightest.gpu}, TP={choice.tp}, "
        f"maxModelLen {done.max_model_len}, maxNumSeqs {choice.max_num_seqs}; {pools})"
    )
    for warning in done.warnings:
        typer.echo(f"{warning.location}: warning {warning.code} {warning.message}", err=True)
    typer.echo(
        "next: edit it (team, contact, description, storageUri, revision, tenants), then\n"
        "  fleetgen validate\n"
        "  fleetgen generate\n"
        "  fleetgen plan --base origin/main"
    )


@cli.command()
def fmt(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or directories (default: every descriptor and environment)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change.")
    ] = False,
    root: RootOption = Path(),
) -> None:
    """Normalize descriptors and environment files (indentation, key order), keeping comments."""
    from fleetgen.authoring import fmt as formatter

    result = run(lambda: formatter.fmt(root, tuple(paths or ()), write=not check))
    for problem in result.problems:
        sys.stdout.write(f"{problem}\n")
    verb = "would reformat" if check else "reformatted"
    for path in result.changed:
        typer.echo(f"{verb} {path}")
    typer.echo(
        f"fleetgen: {len(result.changed)} file(s) {verb}, {len(result.unchanged)} unchanged"
        + (f", {len(result.problems)} not formatted" if result.problems else ""),
        err=True,
    )
    failed = result.problems or (check and result.changed)
    raise typer.Exit(EXIT_PROBLEMS if failed else EXIT_OK)
