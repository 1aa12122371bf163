"""The fleetgen command line: parse flags, call app, map results to exit codes. No logic.

Exit codes: 0 clean (warnings allowed), 1 diagnostics with errors (or drift for --check),
2 usage or internal error. Commands live here and in fleetgen.commands.*, which register
themselves on the shared Typer app when imported below.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fleetgen.commands.base import (
    EXIT_OK,
    EXIT_PROBLEMS,
    Format,
    RootOption,
    cli,
)
from fleetgen.commands.base import fail as _fail
from fleetgen.commands.base import run as _run


class Renderer(StrEnum):
    fast = "fast"
    kustomize = "kustomize"


class SchemaKind(StrEnum):
    descriptor = "descriptor"
    environment = "environment"


@cli.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Only report on these files (pre-commit).")
    ] = None,
    root: RootOption = Path(),
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
    base: Annotated[
        str | None,
        typer.Option(
            "--base", help="Also guard deletions against this revision (e.g. origin/main)."
        ),
    ] = None,
    max_drop: Annotated[
        float,
        typer.Option("--max-drop", help="With --base: largest share of apps a change may remove."),
    ] = 0.25,
    rendered: Annotated[
        bool,
        typer.Option("--rendered", help="Also render every app and check schemas and wiring."),
    ] = False,
    everything: Annotated[
        bool,
        typer.Option("--all", help="--rendered, and the committed generated files are in sync."),
    ] = False,
    schema_dir: Annotated[
        list[Path] | None,
        typer.Option("--schema-dir", help="CRD schemas (CRD YAML or converted); repeatable."),
    ] = None,
    renderer: Annotated[
        Renderer,
        typer.Option(
            "--renderer", help="fast (checked against kustomize) or kustomize for every app."
        ),
    ] = Renderer.fast,
) -> None:
    """Lint descriptors and environments and cross-check them against each other."""
    from fleetgen import app
    from fleetgen.report.reporters import REPORTERS, summary

    options = app.ValidateOptions(
        root=root,
        paths=tuple(paths or ()),
        base=base,
        max_drop=max_drop,
        rendered=rendered or everything,
        in_sync=everything,
        schema_dirs=tuple(schema_dir or ()),
        renderer=renderer.value,
    )
    label = (
        ("validate --all" if everything else "validate --rendered") if options.rendered else None
    )
    report = _run(lambda: app.validate(options), progress_label=label)
    sys.stdout.write(REPORTERS[output_format.value](report))
    if output_format is Format.text:
        typer.echo(summary(report), err=True)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


class SchemaFormat(StrEnum):
    json = "json"
    markdown = "markdown"


@cli.command()
def schema(
    kind: Annotated[SchemaKind, typer.Argument(help="Which schema.")],
    output_format: Annotated[
        SchemaFormat, typer.Option("--format", help="JSON Schema, or a Markdown field reference.")
    ] = SchemaFormat.json,
) -> None:
    """Print the JSON Schema of descriptors or environment files."""
    if output_format is SchemaFormat.markdown:
        from fleetgen.authoring.schema_docs import reference

        sys.stdout.write(reference(kind.value))
        return
    from fleetgen.loading.schema import schema_text

    sys.stdout.write(schema_text(kind.value))


@cli.command()
def codes() -> None:
    """List every diagnostic code."""
    from fleetgen.codes import CODES

    for code in CODES.values():
        typer.echo(f"{code.id}  {code.severity.value:<7}  {code.slug:<28}  {code.title}")


@cli.command()
def explain(code: Annotated[str, typer.Argument(help="A code such as FG101.")]) -> None:
    """Print the documentation of one diagnostic code."""
    from fleetgen.codes import CODES, doc

    key = code.upper()
    if key not in CODES:
        _fail(f"unknown code {code!r}; `fleetgen codes` lists them")
    sys.stdout.write(doc(key))


EnvOption = Annotated[str | None, typer.Option("--env", help="Only this environment.")]


class TableFormat(StrEnum):
    text = "text"
    json = "json"


@cli.command()
def capacity(
    env: EnvOption = None,
    root: RootOption = Path(),
    output_format: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.text,
) -> None:
    """GPUs and their monthly cost at minimum and maximum scale, and each cluster loss."""
    import json

    from fleetgen import app
    from fleetgen.report.tables import ledger_text

    ledger, problems = _run(lambda: app.capacity(root, env))
    if problems:
        typer.echo(
            f"fleetgen: {len(problems)} file problem(s) left models out of the ledger; "
            "run `fleetgen validate`",
            err=True,
        )
    if output_format is TableFormat.json:
        payload = {
            "pools": [p.as_dict() for p in ledger.pools],
            "teams": [t.as_dict() for t in ledger.teams],
            "costs": [c.as_dict() for c in ledger.costs],
            "losses": [loss.as_dict() for loss in ledger.losses],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(ledger_text(ledger))


@cli.command()
def fit(
    model: Annotated[str, typer.Argument(help="Model name (metadata.name).")],
    env: EnvOption = None,
    root: RootOption = Path(),
) -> None:
    """GPU memory breakdown of a model in each environment it is deployed to."""
    from fleetgen import app
    from fleetgen.report.tables import fit_text

    fits = _run(lambda: app.fit(root, model, env))
    if not fits:
        _fail(f"no placement of {model!r} with a known GPU type and architecture")
    sys.stdout.write(fit_text(fits))


@cli.command()
def generate(
    root: RootOption = Path(),
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
) -> None:
    """Write Kustomize overlays and Argo CD ApplicationSets for the whole fleet."""
    from fleetgen import app
    from fleetgen.report.reporters import summary, text

    result = _run(
        lambda: app.generate(root, write=not (check or dry_run)), progress_label="generate"
    )
    if result.changes is None:
        sys.stdout.write(text(result.report))
        typer.echo(summary(result.report) + "; nothing generated", err=True)
        raise typer.Exit(EXIT_PROBLEMS)
    lines = result.changes.lines(done=not (check or dry_run))
    if check:
        for line in lines:
            typer.echo(line)
        if lines:
            typer.echo(
                f"fleetgen: {len(lines)} generated file(s) out of date; run `fleetgen generate`",
                err=True,
            )
            raise typer.Exit(EXIT_PROBLEMS)
        typer.echo("fleetgen: generated files are up to date", err=True)
        return
    for line in lines:
        typer.echo(line)
    verb = "would change" if dry_run else "changed"
    typer.echo(f"fleetgen: {len(lines)} file(s) {verb}", err=True)


@cli.command()
def render(
    model: Annotated[str, typer.Argument(help="Model name (metadata.name).")],
    env: Annotated[str, typer.Option("--env", help="Environment.")],
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="Cluster (default: the first one).")
    ] = None,
    root: RootOption = Path(),
) -> None:
    """Print the final manifests of one app, built by the real kustomize."""
    from fleetgen import app

    sys.stdout.write(_run(lambda: app.render(root, model, env, cluster)))


@cli.command()
def catalog() -> None:
    """The built-in catalog of open models and GPU types."""
    from fleetgen.report.tables import catalog_text

    sys.stdout.write(catalog_text())


def main() -> None:
    """Console-script entry point."""
    cli()


# Commands kept in their own modules register themselves on import.
from fleetgen.commands import init, plan, runtime, scaffold, schemas  # noqa: E402, F401
