"""Resource limits (issue 9): file size, alias expansion, nesting depth, file count.

Each cap is shown from both sides of its boundary, and through the CLI: a clear error with
the file and the cap, exit code 1 (never 2, never a traceback), and in bounded time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from fleetgen import app
from fleetgen.core.diagnostics import Diagnostic, Report
from fleetgen.loading import discover, yaml_source
from fleetgen.loading.yaml_source import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, ParsedFile, parse
from tests.conftest import RunCli, fleetgen_exe
from tests.strategies import TINY_PATH

TINY_TEXT = TINY_PATH.read_text(encoding="utf-8")


def errors_in(report: Report, rel: str) -> set[tuple[str, int, int]]:
    return {
        (d.code, d.location.line, d.location.column)
        for d in report.errors
        if d.location.file == rel
    }


def assert_cli_error(result: subprocess.CompletedProcess[str], line: str, cap: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert line in result.stdout, result.stdout
    assert cap in result.stdout, result.stdout


# --- FG007: file size -----------------------------------------------------------------------


def padded(text: str, size: int) -> bytes:
    """`text` followed by comment lines, exactly `size` bytes long."""
    data = text.encode()
    assert len(data) <= size
    filler = size - len(data)
    lines = b""
    while filler > 0:
        chunk = min(filler, 100)
        lines += b"#" * (chunk - 1) + b"\n" if chunk > 1 else b"\n"
        filler -= chunk
    return data + lines


def test_file_size_boundary() -> None:
    at_cap = padded(TINY_TEXT, MAX_FILE_BYTES)
    assert len(at_cap) == MAX_FILE_BYTES
    assert isinstance(parse(at_cap, "fleet/tiny.yaml"), ParsedFile)
    over = parse(padded(TINY_TEXT, MAX_FILE_BYTES + 1), "fleet/tiny.yaml")
    assert isinstance(over, Diagnostic) and over.code == "FG007"
    assert str(MAX_FILE_BYTES) in over.message


def test_oversized_descriptor_through_the_cli(example_repo: Path, run_cli: RunCli) -> None:
    (example_repo / "fleet" / "tiny.yaml").write_bytes(padded(TINY_TEXT, MAX_FILE_BYTES + 1))
    result = run_cli(["validate"], cwd=example_repo)
    assert_cli_error(result, "fleet/tiny.yaml:1:1: error FG007", f"the cap is {MAX_FILE_BYTES}")


def test_oversized_environment_file(example_repo: Path) -> None:
    env = example_repo / "environments" / "dev" / "environment.yaml"
    env.write_bytes(padded(env.read_text(), MAX_FILE_BYTES + 10))
    report = app.validate(app.ValidateOptions(example_repo))
    assert ("FG007", 1, 1) in errors_in(report, "environments/dev/environment.yaml")


def test_size_cap_bounds_memory(example_repo: Path) -> None:
    huge = example_repo / "fleet" / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(256 * 1024 * 1024)  # sparse: costs no disk
    tracemalloc.start()
    try:
        report = app.validate(app.ValidateOptions(example_repo))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ("FG007", 1, 1) in errors_in(report, "fleet/huge.yaml")
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a capped file"


def test_size_cap_bounds_memory_when_validating_given_paths(example_repo: Path) -> None:
    huge = example_repo / "fleet" / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(256 * 1024 * 1024)
    focus = (example_repo / "fleet" / "qwen2-5-0-5b-instruct.yaml",)
    tracemalloc.start()
    try:
        report = app.validate(app.ValidateOptions(example_repo, paths=focus))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.errors == ()  # huge.yaml is outside the focus: not reported, not read
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a capped file"


# --- FG005: alias expansion -----------------------------------------------------------------


def test_node_count_boundary() -> None:
    # root mapping + the list + k items = k + 2 values.
    ok = parse(("a: [" + ",".join(["1"] * (MAX_NODES - 2)) + "]").encode(), "x.yaml")
    assert isinstance(ok, ParsedFile)
    over = parse(("a: [" + ",".join(["1"] * (MAX_NODES - 1)) + "]").encode(), "x.yaml")
    assert isinstance(over, Diagnostic) and over.code == "FG005"


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{k}: &{k} [{','.join([f'*{p}'] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_alias_bomb_is_stopped_quickly(example_repo: Path, run_cli: RunCli) -> None:
    assert len(BILLION_LAUGHS) < 1000  # 9**9 values from under a kilobyte
    started = time.monotonic()
    result = parse(BILLION_LAUGHS.encode(), "fleet/tiny.yaml")
    assert time.monotonic() - started < 2.0
    assert isinstance(result, Diagnostic) and result.code == "FG005"
    (example_repo / "fleet" / "tiny.yaml").write_text(BILLION_LAUGHS)
    cli = run_cli(["validate"], cwd=example_repo)
    assert_cli_error(cli, "fleet/tiny.yaml:", f"more than {MAX_NODES} values")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: &x [1, *x]\n", (1, 4)),
        ("a: &x {b: *x}\n", (1, 4)),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", (3, 3)),
    ],
    ids=["self-list", "self-map", "merge-key"],
)
def test_recursive_aliases_and_merge_keys(text: str, where: tuple[int, int]) -> None:
    """A self-reference is reported at the anchored node (the composer shares it)."""
    result = parse(text.encode(), "x.yaml")
    assert isinstance(result, Diagnostic) and result.code == "FG005"
    assert (result.location.line, result.location.column) == where


def test_many_keys_without_aliases_hit_the_same_cap() -> None:
    text = "".join(f"k{i}: {i}\n" for i in range(MAX_NODES + 5))
    assert len(text) < MAX_FILE_BYTES
    result = parse(text.encode(), "x.yaml")
    assert isinstance(result, Diagnostic) and result.code == "FG005"


# --- FG009: nesting depth -------------------------------------------------------------------


def test_depth_boundary() -> None:
    # Depth counts from the root mapping (0): n nested lists put their scalar at n + 1.
    ok = parse(("a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)).encode(), "x.yaml")
    assert isinstance(ok, ParsedFile)
    deep = parse(("a: " + "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH).encode(), "x.yaml")
    assert isinstance(deep, Diagnostic) and deep.code == "FG009"
    assert deep.location.line == 1 and deep.location.column == 3 + MAX_DEPTH + 1


def test_deep_block_nesting_through_the_cli(example_repo: Path, run_cli: RunCli) -> None:
    lines = [TINY_TEXT.rstrip("\n"), "x-deep:"]
    lines += [" " * (2 * i) + f"k{i}:" for i in range(1, MAX_DEPTH + 5)]
    lines[-1] += " leaf"
    (example_repo / "fleet" / "tiny.yaml").write_text("\n".join(lines) + "\n")
    result = run_cli(["validate"], cwd=example_repo)
    assert_cli_error(result, "error FG009", f"deeper than {MAX_DEPTH} levels")


def test_nesting_beyond_the_parser_limit_is_a_located_error(
    example_repo: Path, run_cli: RunCli
) -> None:
    """Far deeper than the cap: libyaml stops first; still a located error, exit 1."""
    (example_repo / "fleet" / "tiny.yaml").write_text("a: " + "[" * 100_000 + "\n")
    result = run_cli(["validate"], cwd=example_repo)
    assert_cli_error(result, "fleet/tiny.yaml:1:", "nesting depth")


# --- FG010: number of files -----------------------------------------------------------------


def _input_counts(root: Path) -> tuple[int, int]:
    descriptors = len(list((root / "fleet").rglob("*.yaml")))
    environments = len(list((root / "environments").glob("*/environment.yaml")))
    return descriptors, environments


def _too_many(cap: int) -> str:
    return f"more than {cap} input files (descriptors and environment files); the cap is {cap}"


def test_file_count_boundary(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    descriptors, environments = _input_counts(example_repo)
    count = descriptors + environments
    monkeypatch.setattr(discover, "MAX_FILES", count)
    assert "FG010" not in {d.code for d in app.validate(app.ValidateOptions(example_repo)).errors}
    monkeypatch.setattr(discover, "MAX_FILES", count - 1)
    report = app.validate(app.ValidateOptions(example_repo))
    # Over the cap nothing else is checked: a partial fleet would only breed false errors.
    assert [(d.code, d.location.file, d.message) for d in report.errors] == [
        ("FG010", "fleet", _too_many(count - 1))
    ]


def test_environment_files_count_towards_the_cap(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    descriptors, environments = _input_counts(example_repo)
    assert environments >= 2
    # Enough room for the descriptors alone: the environment files tip it over.
    monkeypatch.setattr(discover, "MAX_FILES", descriptors)
    report = app.validate(app.ValidateOptions(example_repo))
    assert ("FG010", 1, 1) in errors_in(report, "fleet")
    # Fewer than the environment files alone: reported at environments/.
    monkeypatch.setattr(discover, "MAX_FILES", environments - 1)
    report = app.validate(app.ValidateOptions(example_repo))
    assert [(d.code, d.location.file, d.message) for d in report.errors] == [
        ("FG010", "environments", _too_many(environments - 1))
    ]


def test_a_huge_fleet_directory_is_not_listed_whole(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover() stops listing once the cap is passed."""
    junk = example_repo / "fleet" / "junk"
    junk.mkdir()
    for i in range(50):
        (junk / f"j{i}.yaml").write_text("a: 1\n")
    descriptors, environments = _input_counts(example_repo)
    monkeypatch.setattr(discover, "MAX_FILES", environments + 5)
    seen: list[str] = []
    real_entries = discover._yaml_entries

    def yaml_entries(top: Path) -> Any:
        for entry in real_entries(top):
            seen.append(entry.path)
            yield entry

    monkeypatch.setattr(discover, "_yaml_entries", yaml_entries)
    inputs, diags = discover.discover(example_repo)
    assert [d.code for d in diags] == ["FG010"]
    assert inputs.descriptors == () and inputs.environments == ()
    assert len(seen) == 6, len(seen)
    assert descriptors > 6


def test_file_count_cap_through_the_cli(example_repo: Path) -> None:
    """The console script's own entry point, with the cap lowered in that process."""
    script = (
        "import sys\n"
        "import fleetgen.loading.discover as d\n"
        "d.MAX_FILES = 4\n"
        "from fleetgen.cli import main\n"
        "sys.argv = ['fleetgen', 'validate']\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FLEETGEN_DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=example_repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert Path(fleetgen_exe()).exists()
    assert_cli_error(result, "fleet:1:1: error FG010", "the cap is 4")


def test_many_small_files_are_fast(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2000 junk files in fleet/: every one diagnosed, within a few seconds."""
    junk = example_repo / "fleet" / "junk"
    junk.mkdir()
    for i in range(2000):
        (junk / f"j{i}.yaml").write_text("a: [\n")
    started = time.monotonic()
    report = app.validate(app.ValidateOptions(example_repo))
    elapsed = time.monotonic() - started
    assert sum(1 for d in report.errors if d.code == "FG001") == 2000
    assert elapsed < 20, elapsed


# --- FG008: paths that leave the repository ---------------------------------------------------


@pytest.mark.parametrize("linked", ["fleet", "environments/dev"])
def test_symlinked_directories_outside_the_repository(
    example_repo: Path, tmp_path: Path, linked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    (example_repo / linked).rename(outside)
    (example_repo / linked).symlink_to(outside, target_is_directory=True)
    report = app.validate(app.ValidateOptions(example_repo))
    escaped = {d.location.file for d in report.errors if d.code == "FG008"}
    inside = {f.relative_to(outside).as_posix() for f in outside.rglob("*.yaml")}
    assert escaped == {f"{linked}/{rel}" for rel in inside}, escaped


def test_caps_are_what_the_docs_say() -> None:
    """The caps the code pages state (FG005, FG007, FG009, FG010) are the enforced ones."""
    docs = Path(yaml_source.__file__).parent.parent / "codes"
    assert f"({MAX_NODES:,} values" in (docs / "FG005.md").read_text()
    assert f"({MAX_FILE_BYTES // 1024} KiB)" in (docs / "FG007.md").read_text()
    assert f"({MAX_DEPTH} levels)" in (docs / "FG009.md").read_text()
    assert f"({discover.MAX_FILES:,} files)" in (docs / "FG010.md").read_text()
