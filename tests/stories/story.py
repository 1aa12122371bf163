"""Stories: one realistic edit a person makes to a copy of the example repository, and where
fleetgen must catch it.

A `Story` is a mis-wiring: after its edits (and `fleetgen generate`, as the pre-commit hook
runs it, unless the person hand-edited a generated file), `validate` at the story's level must
report its code on the first line of its file that holds its marker, and no error codes but
those. A `Change` is legitimate: after it, `validate --all` must stay free of findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fleetgen import app
from fleetgen.core.diagnostics import Report, Severity
from tests.conftest import REPO

Level = Literal["validate", "rendered", "all"]
SCHEMAS = REPO / "schemas"

# (file, old, new): `old` replaced once by `new`; `old` "" writes `new` as a new file.
Edit = tuple[str, str, str]


@dataclass(frozen=True)
class Story:
    says: str  # one sentence: what the engineer did
    edits: tuple[Edit, ...]
    level: Level
    code: str
    file: str
    marker: str
    regenerate: bool = True  # False: the person edited a generated file by hand
    also: frozenset[str] = field(default_factory=frozenset)  # other error codes it may raise


@dataclass(frozen=True)
class Change:
    says: str
    edits: tuple[Edit, ...]


def apply_edits(root: Path, edits: tuple[Edit, ...]) -> None:
    for rel, old, new in edits:
        path = root / rel
        if not old:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new, encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{rel} does not hold {old!r}: the story is stale"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def regenerate(root: Path) -> Report:
    """`fleetgen generate`; lint errors stop it, as they stop the user's hook."""
    return app.generate(root, write=True).report


def validate_at(root: Path, level: Level) -> Report:
    return app.validate(
        app.ValidateOptions(
            root=root,
            rendered=level != "validate",
            in_sync=level == "all",
            schema_dirs=(SCHEMAS,) if level != "validate" else (),
        )
    )


def marker_line(root: Path, rel: str, marker: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if marker in line:
            return number
    raise AssertionError(f"{rel} has no line holding {marker!r}")


def located(report: Report) -> set[tuple[str, str, int]]:
    return {(d.code, d.location.file, d.location.line) for d in report.diagnostics}


def run_story(root: Path, story: Story) -> Report:
    apply_edits(root, story.edits)
    if story.regenerate:
        regenerate(root)
    return validate_at(root, story.level)


def assert_caught(root: Path, story: Story, report: Report) -> None:
    where = (story.code, story.file, marker_line(root, story.file, story.marker))
    shown = "\n".join(
        f"{d.location.file}:{d.location.line} {d.code} {d.message}" for d in report.diagnostics
    )
    assert where in located(report), f"{story.says}\nwanted {where}, got:\n{shown}"
    errors = {d.code for d in report.diagnostics if d.severity is Severity.ERROR}
    stray = errors - {story.code} - story.also
    assert not stray, f"{story.says}\nunexpected error codes {sorted(stray)}:\n{shown}"


def run_change(root: Path, change: Change) -> Report:
    apply_edits(root, change.edits)
    generated = regenerate(root)
    assert generated.ok, (change.says, generated.diagnostics)
    return validate_at(root, "all")


def story_id(story: Story | Change) -> str:
    return story.says[:60]


def covered_codes() -> set[str]:
    """Every code some story in tests/stories proves (for the every-code-has-a-case test)."""
    import importlib

    found: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.stories.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, tuple):
                found.update(s.code for s in value if isinstance(s, Story))
    return found
