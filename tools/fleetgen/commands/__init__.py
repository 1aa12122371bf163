"""CLI commands kept in their own modules; each registers itself on fleetgen.cli_base.cli."""
