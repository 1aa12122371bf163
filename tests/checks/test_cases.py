"""Data-driven lint cases: tests/cases/<code>/<case>/.

Each case is the example repository with the case's `files/` copied over it (and the paths
in `delete` removed); `expected.yaml` lists every diagnostic as [file, line, column, code].
The set of diagnostics must match exactly, so a case proves both that the rule fires where
it should and that nothing else does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.codes import CODES
from tests.conftest import copy_example

CASES = Path(__file__).resolve().parents[1] / "cases"


def _case_dirs() -> list[Path]:
    return sorted(p.parent for p in CASES.glob("*/*/expected.yaml"))


def _commit_all(root: Path, message: str) -> None:
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", message]):
        if args[0] == "init" and (root / ".git").exists():
            continue
        subprocess.run(
            ["git", "-c", "user.name=fleetgen", "-c", "user.email=fleetgen@example.com", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )


def build_case(case: Path, dest: Path) -> Path:
    root = copy_example(dest)
    spec: dict[str, Any] = yaml.safe_load((case / "expected.yaml").read_text()) or {}
    if spec.get("base"):
        # The example is the base revision (HEAD); the case's changes are the work tree.
        _commit_all(root, "base")
    for rel in spec.get("delete", []):
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    files = case / "files"
    if files.is_dir():
        for src in sorted(files.rglob("*")):
            if src.is_file():
                dst = root / src.relative_to(files)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    for rel, size in spec.get("pad", {}).items():
        # Large inputs are made here rather than committed.
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"# padding\n" * (size // 10 + 1))
    for rel, link_target in spec.get("symlinks", {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(link_target)
    return root


def _expected(case: Path) -> set[tuple[str, int, int, str]]:
    spec = yaml.safe_load((case / "expected.yaml").read_text()) or {}
    return {tuple(item) for item in spec.get("diagnostics", [])}  # type: ignore[misc]


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = yaml.safe_load((case / "expected.yaml").read_text()) or {}
    for dotted_name, value in spec.get("limits", {}).items():
        module, attr = dotted_name.rsplit(".", 1)
        monkeypatch.setattr(f"{module}.{attr}", value)
    root = build_case(case, tmp_path / "repo")
    base = "HEAD" if spec.get("base") else None
    options = app.ValidateOptions(root=root, base=base, max_drop=spec.get("max_drop", 0.25))
    report = app.validate(options)
    got = {
        (d.location.file, d.location.line, d.location.column, d.code) for d in report.diagnostics
    }
    assert got == _expected(case)


def test_every_code_has_a_negative_case_and_a_doc() -> None:
    from tests.argocd.test_mutations import covered_codes as argocd_codes
    from tests.rendered.test_linker import covered_codes
    from tests.stories.story import covered_codes as story_codes

    covered = {entry[3] for case in _case_dirs() for entry in _expected(case)}
    # Rendered-manifest codes (FG7xx, FG9xx) are proven by the mutation suites in
    # test_linker, tests/argocd and tests/stories.
    missing_cases = sorted(set(CODES) - covered - covered_codes() - argocd_codes() - story_codes())
    assert not missing_cases, f"codes without a negative case: {missing_cases}"
    for code in CODES:
        page = (Path(app.__file__).parent / "codes" / f"{code}.md").read_text()
        for section in ("## What", "## Why", "## Example", "## How to fix"):
            assert section in page, f"{code}.md lacks {section}"


def test_case_directories_are_named_after_their_code() -> None:
    for case in _case_dirs():
        codes = {entry[3] for entry in _expected(case)}
        assert case.parent.name in codes or case.parent.name == "clean", case
