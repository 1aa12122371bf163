"""CLI commands: scaffold (registered on fleetgen.cli_base.cli)."""
