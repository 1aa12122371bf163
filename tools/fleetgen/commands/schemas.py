"""CLI commands: schemas (registered on fleetgen.commands.base.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetgen.commands.base import RootOption, cli, run

schemas_app = typer.Typer(
    no_args_is_help=True,
    help="Manage the repository's CRD schema directory (`schemaDir` in .fleetgen.yaml).",
)
cli.add_typer(schemas_app, name="schemas")


@schemas_app.command("import")
def import_(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="CRD YAML files or directories (multi-document files and "
            "`kubectl get crd -o yaml` output are fine).",
            metavar="FILE_OR_DIR",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: schemaDir of .fleetgen.yaml)."),
    ] = None,
    origins: Annotated[
        Path | None,
        typer.Option(
            "--origins",
            help="YAML naming each input file's upstream (file: {repository, tag, path}), "
            "recorded in provenance.json.",
        ),
    ] = None,
    root: RootOption = Path(),
) -> None:
    """Convert CRDs to strict JSON Schemas as {group}/{kind}_{version}.json, recording
    each source file (sha256, git blob, upstream) in provenance.json."""
    from fleetgen.kube.crd_import import import_crds
    from fleetgen.kube.schema_provenance import load_origins
    from fleetgen.loading.config import load_config

    target = out if out is not None else run(lambda: load_config(root)).schema_dir
    upstream = run(lambda: load_origins(origins)) if origins is not None else None
    result = run(lambda: import_crds(inputs, target, origins=upstream))
    for path in result.written:
        typer.echo(path)
    skipped = f"; {len(result.skipped)} file(s) without a CRD skipped" if result.skipped else ""
    typer.echo(
        f"fleetgen: {len(result.written)} schema(s) from {len(result.crds)} CRD(s) "
        f"written to {target}{skipped}",
        err=True,
    )
