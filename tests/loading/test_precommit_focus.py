"""The pre-commit path (validate on some files) reports exactly what a full run reports there.

The focused run loads only its files in full and knows every other descriptor by the
footprint kept in the footprint cache. Over every lint case, each file with a diagnostic
(and one without) is validated alone, with the cache cold and then warm, and must get the
full run's diagnostics for that file, message and severity included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.core.diagnostics import Report
from tests.checks.test_cases import CASES, build_case

Finding = tuple[str, int, int, str, str, str]


def _findings(report: Report) -> set[Finding]:
    return {
        (
            d.location.file,
            d.location.line,
            d.location.column,
            d.code,
            d.message,
            d.severity.value,
        )
        for d in report.diagnostics
    }


def _descriptor_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "fleet").rglob("*.yaml"))


def _cases() -> list[Path]:
    return sorted(p.parent for p in CASES.glob("*/*/expected.yaml"))


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_focused_run_reports_what_the_full_run_reports_there(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec: dict[str, Any] = yaml.safe_load((case / "expected.yaml").read_text()) or {}
    for dotted_name, value in spec.get("limits", {}).items():
        module, attr = dotted_name.rsplit(".", 1)
        monkeypatch.setattr(f"{module}.{attr}", value)
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    root = build_case(case, tmp_path / "repo")
    base = "HEAD" if spec.get("base") else None
    full = _findings(app.validate(app.ValidateOptions(root=root, base=base)))
    with_findings = sorted({f[0] for f in full})
    quiet = [f for f in _descriptor_files(root) if f not in with_findings][:1]
    for rel in [*with_findings, *quiet]:
        path = root / rel
        if path.is_symlink() or not path.is_file():
            continue  # a diagnostic on a link or a directory: not a file one can commit
        expected = {f for f in full if f[0] == rel}
        for attempt in ("cold", "warm"):
            options = app.ValidateOptions(root=root, paths=(path,), base=base)
            got = _findings(app.validate(options))
            if rel.startswith("fleet/"):
                assert got == expected, f"{rel} ({attempt} cache)"
            else:  # an environment file brings the descriptors deployed there along
                assert {f for f in got if f[0] == rel} == expected, f"{rel} ({attempt})"
                assert got <= full, f"{rel} ({attempt} cache)"
