"""Errors that stop a command (exit 2). They carry data and never print."""

from __future__ import annotations


class FleetgenError(Exception):
    """Base of every error the CLI turns into a message and exit code 2."""


class UsageError(FleetgenError):
    """The command was called wrongly (bad path, unknown model, unknown environment)."""


class ToolError(FleetgenError):
    """An external tool (kustomize, git) failed or is missing."""
