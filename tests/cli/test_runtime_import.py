"""`fleetgen runtime import` and releases newer than the data, through the CLI as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import RunCli
from tests.knowledge.vllm_archives import new_sources, write_wheel

FLEET_FILE = "fleet/qwen2-5-0-5b-instruct.yaml"


def _pin(root: Path, version: str, files: tuple[str, ...] = (FLEET_FILE,)) -> None:
    for rel in files:
        path = root / rel
        text = re.sub(r"vllm-openai:v[0-9.]+", f"vllm-openai:v{version}", path.read_text())
        path.write_text(text)


def _diagnostics(run_cli: RunCli, root: Path) -> tuple[int, list[dict[str, object]]]:
    done = run_cli(["validate", "--root", str(root), "--format", "json"])
    return done.returncode, json.loads(done.stdout)


def test_a_fleet_on_0_33_validates(run_cli: RunCli, example_repo: Path) -> None:
    _pin(
        example_repo,
        "0.33.0",
        tuple(str(p.relative_to(example_repo)) for p in (example_repo / "fleet").glob("*.yaml")),
    )
    code, found = _diagnostics(run_cli, example_repo)
    assert (code, found) == (0, [])


def test_a_future_release_validates_with_one_warning(run_cli: RunCli, example_repo: Path) -> None:
    _pin(example_repo, "0.35.0")
    code, found = _diagnostics(run_cli, example_repo)
    assert code == 0
    assert [(d["code"], d["severity"], d["file"]) for d in found] == [
        ("FG511", "warning", FLEET_FILE)
    ]
    assert "0.34.0" in str(found[0]["message"]) and "runtime import" in str(found[0]["hint"])


def test_import_into_the_repository_is_preferred(
    run_cli: RunCli, example_repo: Path, tmp_path: Path
) -> None:
    _pin(example_repo, "0.35.0")
    wheel = write_wheel(tmp_path, "0.35.0", new_sources())
    done = run_cli(["runtime", "import", str(wheel), "--root", str(example_repo)])
    assert done.returncode == 0, done.stderr
    written = example_repo / "runtime" / "vllm" / "0.35.0.json"
    assert done.stdout.strip() == str(written)
    assert json.loads(written.read_text())["provenance"]["artifact"] == wheel.name
    # The imported release is known now: no FG511; its own (tiny) contract is checked, so a
    # flag it lacks is refused.
    _, found = _diagnostics(run_cli, example_repo)
    assert "FG511" not in {d["code"] for d in found}
    path = example_repo / FLEET_FILE
    path.write_text(
        path.read_text().replace(
            "maxModelLen:", 'extraArgs: ["--enforce-eager"]\n    maxModelLen:', 1
        )
    )
    _, found = _diagnostics(run_cli, example_repo)
    assert "FG505" not in {d["code"] for d in found}  # --enforce-eager is in the tiny contract
    before = written.read_bytes()
    again = run_cli(["runtime", "import", str(wheel), "--root", str(example_repo)])
    assert again.returncode == 0 and again.stdout == "" and written.read_bytes() == before


def test_a_broken_archive_is_refused_and_nothing_is_written(
    run_cli: RunCli, example_repo: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "vllm-0.35.0-cp38-abi3-manylinux_2_28_x86_64.whl"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    done = run_cli(["runtime", "import", str(bad), "--root", str(example_repo)])
    assert done.returncode == 2
    assert str(bad) in done.stderr and "Traceback" not in done.stderr
    assert not (example_repo / "runtime").exists()


def test_a_damaged_repository_contract_is_reported(run_cli: RunCli, example_repo: Path) -> None:
    target = example_repo / "runtime" / "vllm"
    target.mkdir(parents=True)
    (target / "0.35.0.json").write_text("{not json")
    done = run_cli(["validate", "--root", str(example_repo)])
    assert done.returncode == 2
    assert "0.35.0.json" in done.stderr and "Traceback" not in done.stderr
