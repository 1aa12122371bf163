"""CLI commands: plan (registered on fleetgen.cli_base.cli)."""
