"""FG436-FG441 beyond the lint cases: where each finding points, and what it leaves unsaid
(an unknown name is reported once, not again as the empty step it causes)."""

from __future__ import annotations

from pathlib import Path

from fleetgen.checks.rollout import check_rollout
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.load import load_fleet
from tests.conftest import copy_example
from tests.render.test_rollout import PROD, set_rollout

MIXTRAL = "fleet/mixtral-8x7b-instruct.yaml"


def findings(root: Path) -> list[Diagnostic]:
    fleet, diagnostics = load_fleet(root)
    assert diagnostics == [], diagnostics
    return list(check_rollout(fleet))


def line_of(root: Path, rel: str, marker: str) -> int:
    lines = (root / rel).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    text = (root / rel).read_text()
    assert old in text, old
    (root / rel).write_text(text.replace(old, new, 1))


def rollout(*steps: str, progressive: bool = True) -> str:
    head = "  rollout:\n" + ("    progressiveSyncs: true\n" if progressive else "")
    return head + "    steps:\n" + "".join(f"      - {s}\n" for s in steps)


def test_a_canary_on_a_cluster_the_model_does_not_run_on_is_an_empty_step(
    tmp_path: Path,
) -> None:
    root = copy_example(tmp_path / "repo")
    edit(root, MIXTRAL, "clusters: [prod-a, prod-b]", "clusters: [prod-b]")
    set_rollout(
        root,
        rollout(
            "clusters: [prod-a]\n        canary: [mixtral-8x7b-instruct]", "clusters: [prod-b]"
        ),
    )
    (found,) = findings(root)
    assert found.code == "FG438"
    assert found.location.line == line_of(root, PROD, "canary: [mixtral")
    assert "mixtral-8x7b-instruct run(s) on none of its clusters" in found.message


def test_a_step_whose_clusters_run_no_model_is_empty(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    for name in ("llama-3-1-8b-instruct", "llama-3-1-70b-instruct-fp8", "mixtral-8x7b-instruct"):
        path = f"fleet/{name}.yaml"
        text = (root / path).read_text()
        if "clusters: [prod-a, prod-b]" in text:
            edit(root, path, "clusters: [prod-a, prod-b]", "clusters: [prod-a]")
        else:
            edit(root, path, "    prod:\n", "    prod:\n      clusters: [prod-a]\n")
    set_rollout(root, rollout("clusters: [prod-a]", "clusters: [prod-b]"))
    (found,) = findings(root)
    assert (found.code, found.location.line) == ("FG438", line_of(root, PROD, "[prod-b]"))
    assert "no model runs on its clusters" in found.message


def test_a_retired_canary_model_is_unknown_to_the_environment(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    edit(
        root,
        MIXTRAL,
        "    prod:\n      clusters: [prod-a, prod-b]",
        "    prod:\n      lifecycle: retired\n      clusters: [prod-a, prod-b]",
    )
    set_rollout(
        root,
        rollout(
            "clusters: [prod-a]\n        canary: [mixtral-8x7b-instruct]", "clusters: [prod-b]"
        ),
    )
    (found,) = findings(root)
    assert found.code == "FG441"
    assert found.location.line == line_of(root, PROD, "canary: [mixtral")


def test_an_unknown_cluster_is_not_reported_again_as_an_empty_step(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    set_rollout(root, rollout("clusters: [prod-a, prod-b]", "clusters: [prod-c]"))
    assert [d.code for d in findings(root)] == ["FG440"]


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    set_rollout(
        root,
        rollout(
            "clusters: [prod-a]\n        canary: [llama-3-1-8b-instruct]",
            "clusters: [prod-a]",
            progressive=False,
        ),
    )
    codes = sorted(d.code for d in findings(root))
    # prod-a twice (FG437), prod-b in no step (FG436), no progressive syncs (FG439).
    assert codes == ["FG436", "FG437", "FG439"]


def test_environments_without_a_rollout_have_nothing_to_check(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    set_rollout(root, "")
    assert findings(root) == []
