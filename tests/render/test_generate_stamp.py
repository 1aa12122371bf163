"""`fleetgen generate` on an unchanged repository skips rendering, and only then."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetgen import app
from fleetgen.render import fileplan
from tests.conftest import RunCli

QWEN = "fleet/qwen2-5-0-5b-instruct.yaml"
QWEN_APP = "applicationsets/dev/dev-a/models/qwen2-5-0-5b-instruct/kustomization.yaml"


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts build_plan calls (the rendering a current tree lets generate skip)."""
    calls: list[int] = []
    real: Callable[..., Any] = fileplan.build_plan

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fileplan, "build_plan", counted)
    return calls


def _generate(root: Path, *, write: bool = True) -> app.GenerateResult:
    result = app.generate(root, write=write)
    assert result.report.ok and result.changes is not None
    return result


def test_second_run_on_an_unchanged_repository_renders_nothing(
    example_repo: Path, plans: list[int]
) -> None:
    assert _generate(example_repo).changes.empty  # type: ignore[union-attr]
    assert len(plans) == 1
    assert _generate(example_repo).changes.empty  # type: ignore[union-attr]
    assert _generate(example_repo, write=False).changes.empty  # type: ignore[union-attr]
    assert len(plans) == 1


def test_a_hand_edited_generated_file_is_still_restored(
    example_repo: Path, plans: list[int]
) -> None:
    _generate(example_repo)
    app_file = example_repo / QWEN_APP
    original = app_file.read_bytes()
    app_file.write_bytes(original + b"# edited\n")
    changes = _generate(example_repo).changes
    assert changes is not None and changes.changed == (QWEN_APP,)
    assert app_file.read_bytes() == original
    assert len(plans) == 2


def test_an_input_edit_renders_again_even_without_output_change(
    example_repo: Path, plans: list[int]
) -> None:
    _generate(example_repo)
    descriptor = example_repo / QWEN
    descriptor.write_text(descriptor.read_text() + "# a comment changes no output\n")
    assert _generate(example_repo).changes.empty  # type: ignore[union-attr]
    assert len(plans) == 2
    base = example_repo / "base/model/scaledobject.yaml"
    base.write_text(base.read_text() + "# and neither does this one\n")
    _generate(example_repo)
    assert len(plans) == 3


def test_a_removed_generated_file_is_recreated(example_repo: Path, plans: list[int]) -> None:
    _generate(example_repo)
    (example_repo / QWEN_APP).unlink()
    changes = _generate(example_repo).changes
    assert changes is not None and changes.created == (QWEN_APP,)
    assert len(plans) == 2


def test_errors_are_still_reported_on_an_unchanged_repository(
    example_repo: Path, run_cli: RunCli
) -> None:
    assert run_cli(["generate"], cwd=example_repo).returncode == 0
    descriptor = example_repo / QWEN
    descriptor.write_text(descriptor.read_text().replace("spec:\n", "spec:\n  bogusKey: 1\n", 1))
    failed = run_cli(["generate"], cwd=example_repo)
    assert failed.returncode == 1 and "FG101" in failed.stdout + failed.stderr
