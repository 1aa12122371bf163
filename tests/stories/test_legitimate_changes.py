"""Legitimate changes a team makes every week: after each (and `fleetgen generate`), the full
PR check stays free of findings. Any finding here is a false positive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Change, run_change, story_id

LLAMA = "fleet/llama-3-1-8b-instruct.yaml"

CHANGES = (
    Change(
        "A model owner raises the autoscaling target per pod.",
        ((LLAMA, "    targetPerPod: 5", "    targetPerPod: 8"),),
    ),
    Change(
        "A model owner gives a tenant more tokens per hour.",
        ((LLAMA, "{name: support, tokens: 500000", "{name: support, tokens: 900000"),),
    ),
)


@pytest.mark.parametrize("change", CHANGES, ids=story_id)
def test_the_change_stays_clean(change: Change, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    report = run_change(root, change)
    assert not report.diagnostics, (change.says, [d.as_dict() for d in report.diagnostics])
