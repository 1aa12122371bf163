"""The pull-request workflow of a fleet repository: ``.github/workflows/fleet.yml``.

One template (``templates/fleet.yml``) for this repository and for every repository
``fleetgen init`` writes; only the step that installs fleetgen differs. The plan comment's
marker comes from the plan renderer, so the workflow and the comment can never disagree.
"""

from __future__ import annotations

from importlib.resources import files

from fleetgen.review.report import PLAN_MARKER

__all__ = ["WORKFLOW_FILE", "workflow_text"]

WORKFLOW_FILE = ".github/workflows/fleet.yml"


def workflow_text(install: str) -> str:
    """The workflow with ``install`` as the shell command that installs fleetgen."""
    if "\n" in install or not install.strip():
        raise ValueError(f"the install command must be one line: {install!r}")
    template = files("fleetgen.authoring").joinpath("templates/fleet.yml").read_text("utf-8")
    return template.replace("@INSTALL@", install).replace("@PLAN_MARKER@", PLAN_MARKER)
