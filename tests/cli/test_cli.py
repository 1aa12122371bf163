"""The console script as a user runs it: exit codes, formats, help, version."""

from __future__ import annotations

import json
from pathlib import Path

from fleetgen import __version__
from fleetgen.codes import CODES
from tests.conftest import RunCli


def test_example_repository_validates_clean(run_cli: RunCli) -> None:
    result = run_cli(["validate", "--root", "."], cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_errors_exit_1_with_file_line_column_code(example_repo: Path, run_cli: RunCli) -> None:
    target = example_repo / "fleet" / "llama-3-1-8b-instruct.yaml"
    text = target.read_text().replace("    maxModelLen: 8192", "    maxModelLength: 8192")
    target.write_text(text)
    line = text.splitlines().index("    maxModelLength: 8192") + 1
    result = run_cli(["validate"], cwd=example_repo)
    assert result.returncode == 1
    assert f"fleet/llama-3-1-8b-instruct.yaml:{line}:5: error FG101 " in result.stdout
    assert "did you mean 'maxModelLen'?" in result.stdout
    assert "Traceback" not in result.stderr


def test_json_format_is_a_list_of_diagnostics(example_repo: Path, run_cli: RunCli) -> None:
    target = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    target.write_text(target.read_text().replace("dtype: bfloat16", "dtype: bf16"))
    result = run_cli(["validate", "--format", "json", "--root", str(example_repo)])
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert [d["code"] for d in payload] == ["FG103"]
    assert set(payload[0]) == {"code", "severity", "file", "line", "column", "message", "hint"}
    assert payload[0]["file"] == "fleet/mixtral-8x7b-instruct.yaml"
    assert payload[0]["hint"] == "did you mean 'bfloat16'?"


def test_paths_limit_the_report_to_those_files(example_repo: Path, run_cli: RunCli) -> None:
    broken = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    broken.write_text(broken.read_text().replace("dtype: bfloat16", "dtype: bf16"))
    clean = run_cli(["validate", "fleet/llama-3-1-8b-instruct.yaml"], cwd=example_repo)
    assert clean.returncode == 0, clean.stdout
    dirty = run_cli(["validate", "fleet/mixtral-8x7b-instruct.yaml"], cwd=example_repo)
    assert dirty.returncode == 1
    assert "FG103" in dirty.stdout


def test_broken_yaml_and_duplicate_keys_exit_1(example_repo: Path, run_cli: RunCli) -> None:
    target = example_repo / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    text = target.read_text().replace(
        "    maxNumSeqs: 64\n", "    maxNumSeqs: 64\n    maxNumSeqs: 8\n"
    )
    target.write_text(text)
    second = text.splitlines().index("    maxNumSeqs: 8") + 1
    result = run_cli(["validate", "--format", "json"], cwd=example_repo)
    assert result.returncode == 1
    (found,) = json.loads(result.stdout)
    assert (found["code"], found["line"], found["column"]) == ("FG002", second, 5)
    target.write_text("spec: [unclosed\n")
    result = run_cli(["validate"], cwd=example_repo)
    assert result.returncode == 1
    assert "fleet/qwen2-5-0-5b-instruct.yaml:2:1: error FG001" in result.stdout


def test_usage_errors_exit_2_without_traceback(tmp_path: Path, run_cli: RunCli) -> None:
    missing = run_cli(["validate", "--root", str(tmp_path / "nope")])
    assert missing.returncode == 2
    assert "not a directory" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_flag = run_cli(["validate", "--format", "xml"])
    assert bad_flag.returncode == 2
    no_file = run_cli(["validate", "fleet/absent.yaml"], cwd=tmp_path)
    assert no_file.returncode == 2
    assert "no such file" in no_file.stderr


def test_version_and_help(run_cli: RunCli) -> None:
    version = run_cli(["--version"])
    assert version.returncode == 0
    assert version.stdout.strip() == f"fleetgen {__version__}"
    for command in ("validate", "schema", "codes", "explain"):
        helped = run_cli([command, "--help"])
        assert helped.returncode == 0, command
        assert "Usage:" in helped.stdout


def test_codes_and_explain(run_cli: RunCli) -> None:
    listed = run_cli(["codes"])
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(CODES)
    page = run_cli(["explain", "fg101"])
    assert page.returncode == 0
    assert page.stdout.startswith("# FG101 unknown-key")
    unknown = run_cli(["explain", "FG999"])
    assert unknown.returncode == 2


def test_schema_command_prints_the_packaged_schema(run_cli: RunCli) -> None:
    for kind in ("descriptor", "environment"):
        result = run_cli(["schema", kind])
        assert result.returncode == 0
        assert (
            json.loads(result.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        )


def test_hook_path_reports_a_clash_on_either_file(example_repo: Path, run_cli: RunCli) -> None:
    """A served-name clash is reported on each file involved, so a pre-commit run on any of
    them (only the changed files are passed) refuses the commit."""
    source = (example_repo / "fleet" / "qwen2-5-0-5b-instruct.yaml").read_text()
    clash = source.replace("qwen2-5-0-5b-instruct", "zz-copy").replace(
        "servedName: qwen2.5-0.5b-instruct", "servedName: llama-3.1-8b-instruct"
    )
    (example_repo / "fleet" / "zz-copy.yaml").write_text(clash)
    for target in ("fleet/zz-copy.yaml", "fleet/llama-3-1-8b-instruct.yaml"):
        result = run_cli(["validate", "--format", "json", target], cwd=example_repo)
        assert result.returncode == 1, target
        found = json.loads(result.stdout)
        assert {d["code"] for d in found} == {"FG302"}
        assert {d["file"] for d in found} == {target}


def test_hook_on_an_environment_file_checks_the_models_deployed_there(
    example_repo: Path, run_cli: RunCli
) -> None:
    """Changing an environment is validated against every descriptor that references it."""
    env = example_repo / "environments" / "dev" / "environment.yaml"
    text = env.read_text()
    start = text.index("        - name: l4\n")
    end = text.index("        - name: h100\n")
    env.write_text(text[:start] + text[end:])  # drop the L4 pool the small model uses
    result = run_cli(
        ["validate", "--format", "json", "environments/dev/environment.yaml"], cwd=example_repo
    )
    assert result.returncode == 1
    found = {(d["code"], d["file"]) for d in json.loads(result.stdout)}
    assert ("FG202", "fleet/qwen2-5-0-5b-instruct.yaml") in found


def test_hook_results_do_not_depend_on_the_cache(
    example_repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    """A warm cache gives the same verdicts as a cold run, including after an edit."""
    target = ["validate", "--format", "json", "fleet/mixtral-8x7b-instruct.yaml"]
    cold = run_cli(target, cwd=example_repo)
    warm = run_cli(target, cwd=example_repo)
    assert cold.returncode == warm.returncode == 0
    other = example_repo / "fleet" / "llama-3-1-8b-instruct.yaml"
    other.write_text(
        other.read_text().replace(
            "servedName: llama-3.1-8b-instruct", "servedName: mixtral-8x7b-instruct"
        )
    )
    clash = run_cli(target, cwd=example_repo)
    assert clash.returncode == 1
    assert {d["code"] for d in json.loads(clash.stdout)} == {"FG302"}
