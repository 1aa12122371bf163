"""CLI commands: schemas (registered on fleetgen.cli_base.cli)."""
