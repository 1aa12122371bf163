"""CLI commands kept in their own modules; each registers itself on fleetgen.commands.base.cli."""
