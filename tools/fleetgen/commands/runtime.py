"""CLI commands: runtime (registered on fleetgen.commands.base.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetgen.commands.base import RootOption, cli, run

runtime_app = typer.Typer(
    no_args_is_help=True,
    help="Manage the vLLM runtime contracts fleetgen checks descriptors against.",
)
cli.add_typer(runtime_app, name="runtime")


@runtime_app.command("import")
def import_(
    archives: Annotated[
        list[Path],
        typer.Argument(
            help="vLLM release artifacts: wheels (.whl) or sdists (.tar.gz).",
            metavar="ARCHIVE",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: runtime/vllm/ of the repository)."),
    ] = None,
    root: RootOption = Path(),
) -> None:
    """Read each release statically (nothing of it runs) and write its contract: `vllm
    serve` flags, metrics with types, labels and label values, KV connectors, provenance."""
    from fleetgen.knowledge.vllm.importer import import_releases
    from fleetgen.knowledge.vllm.store import REPOSITORY_DIR

    target = out if out is not None else root / REPOSITORY_DIR
    result = run(lambda: import_releases(archives, target))
    for path in result.written:
        typer.echo(path)
    typer.echo(
        f"fleetgen: {len(result.written)} vLLM contract(s) written to {target}, "
        f"{len(result.unchanged)} unchanged",
        err=True,
    )
