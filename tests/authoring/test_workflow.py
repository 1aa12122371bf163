"""The pull-request workflow (.github/workflows/fleet.yml) and the plan comment it posts.

actionlint (with shellcheck on every `run:` script) checks the workflow; the comment step's
own shell runs against a stand-in `gh` that keeps the pull request's comments in a JSON
file and filters with the real jq, so the marker-based update is exercised as written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.authoring.workflow import WORKFLOW_FILE, workflow_text
from fleetgen.review.report import COMMENT_LIMIT, PLAN_MARKER
from tests.conftest import REPO, RunCli, copy_example

BIN = Path(sys.executable).parent
WORKFLOW = REPO / WORKFLOW_FILE
GIT = ["git", "-c", "user.name=fleetgen", "-c", "user.email=fleetgen@example.com"]


def git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def actionlint(root: Path) -> subprocess.CompletedProcess[str]:
    exe, shellcheck = BIN / "actionlint", BIN / "shellcheck"
    if not exe.exists() or not shellcheck.exists():
        pytest.fail(
            "actionlint/shellcheck missing: install the test extras (pip install -e '.[test]')"
        )
    return subprocess.run(
        [str(exe), "-shellcheck", str(shellcheck), "-no-color"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_workflow_is_the_rendered_one() -> None:
    assert WORKFLOW.read_text() == workflow_text("python -m pip install -e .")


def test_actionlint_passes_and_catches_a_broken_workflow(tmp_path: Path) -> None:
    clean = actionlint(REPO)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # The same run really checks: an injectable expression in a script is refused.
    broken = tmp_path / "repo"
    (broken / ".github" / "workflows").mkdir(parents=True)
    git(tmp_path, "init", "-q", str(broken))
    text = WORKFLOW.read_text().replace(
        'fleetgen plan --base "$BASE"', 'fleetgen plan --base "${{ github.head_ref }}"'
    )
    (broken / WORKFLOW_FILE).write_text(text)
    found = actionlint(broken)
    assert found.returncode == 1 and "github.head_ref" in found.stdout


def test_actions_are_pinned_and_permissions_are_least_privilege() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    uses = re.findall(r"uses: (\S+)@(\S+) # (v\d+\.\d+\.\d+)$", WORKFLOW.read_text(), re.M)
    steps = [s for job in flow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert len(uses) == len(steps) == 6
    # The rendered findings of earlier runs come back before the check and go to fleetgen.
    cache = next(s for s in flow["jobs"]["check"]["steps"] if "actions/cache@" in s.get("uses", ""))
    results = cache["with"]["path"]
    validates = [s for s in flow["jobs"]["check"]["steps"] if "validate" in s.get("run", "")]
    assert validates and all(s["env"]["FLEETGEN_RESULTS_DIR"] == results for s in validates)
    assert all(re.fullmatch(r"[0-9a-f]{40}", sha) for _, sha, _ in uses)
    assert flow["permissions"] == {}
    assert flow["jobs"]["check"]["permissions"] == {
        "contents": "read", "security-events": "write", "actions": "read",
    }  # fmt: skip
    assert flow["jobs"]["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    commands = " ".join(s.get("run", "") for job in flow["jobs"].values() for s in job["steps"])
    for expected in (
        "fleetgen validate --all --format github",
        "fleetgen validate --all --format sarif",
        "fleetgen generate --check",
        'fleetgen plan --base "$BASE" --format markdown',
    ):
        assert expected in commands
    # Untrusted event data never reaches a script: only through env.
    assert "${{" not in commands


FAKE_GH = r'''#!/usr/bin/env python3
"""A stand-in for `gh api` over a JSON file of comments (tests only)."""
import json, subprocess, sys
from pathlib import Path

state = Path(sys.argv[0]).with_name("comments.json")
comments = json.loads(state.read_text())
args = sys.argv[1:]
assert args.pop(0) == "api"
method, jq, body, path = "GET", None, None, None
while args:
    arg = args.pop(0)
    if arg == "--paginate":
        continue
    if arg == "--method":
        method = args.pop(0)
    elif arg == "--jq":
        jq = args.pop(0)
    elif arg == "-F":
        key, _, value = args.pop(0).partition("=")
        assert key == "body" and value.startswith("@")
        body = Path(value[1:]).read_text()
    else:
        path = arg
with state.with_name("calls.log").open("a") as log:
    log.write(f"{method} {path}\n")
if method == "GET":
    out = json.dumps(comments)
    if jq:
        out = subprocess.run(["jq", "-r", jq], input=out, capture_output=True, text=True,
                             check=True).stdout
    sys.stdout.write(out)
elif method == "POST":
    comments.append({"id": 100 + len(comments), "body": body})
elif method == "PATCH":
    (target,) = [c for c in comments if str(c["id"]) == path.rsplit("/", 1)[1]]
    target["body"] = body
state.write_text(json.dumps(comments))
'''


def comment_step() -> str:
    flow = yaml.safe_load(WORKFLOW.read_text())
    (step,) = [s for s in flow["jobs"]["plan"]["steps"] if s.get("name", "").startswith("Post")]
    script: str = step["run"]
    return script


def post(tmp_path: Path, plan: str) -> list[dict[str, Any]]:
    """Run the workflow's comment step with `plan` as plan.md; the comments after it."""
    (tmp_path / "plan.md").write_text(plan)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "PR": "7"}
    env.update(REPO="acme/fleet", GH_TOKEN="unused")
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", comment_step()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    comments: list[dict[str, Any]] = json.loads((tmp_path / "bin" / "comments.json").read_text())
    return comments


@pytest.fixture
def two_commits(tmp_path: Path) -> Path:
    """A real repository: the example fleet, then a commit that changes one model."""
    root = copy_example(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    desc = root / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    desc.write_text(desc.read_text().replace("targetPerPod: 10", "targetPerPod: 12"))
    done = subprocess.run(
        [str(BIN / "fleetgen"), "generate"], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    git(root, "commit", "-qam", "scale qwen on a longer queue")
    return root


def test_plan_comment_is_posted_once_and_then_updated(
    two_commits: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (the GitHub runners have it; the stand-in uses it)")
    plan = run_cli(
        ["plan", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown"], cwd=two_commits
    )
    assert plan.returncode == 0, plan.stderr
    body = plan.stdout
    assert body.startswith(PLAN_MARKER + "\n### fleetgen plan: `HEAD~1` → `HEAD`")
    assert "<code>dev-dev-a-qwen2-5-0-5b-instruct</code> (changed)" in body
    assert '-      threshold: "10"\n+      threshold: "12"' in body  # the rendered diff
    assert len(body) <= COMMENT_LIMIT

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    other = {"id": 1, "body": "Looks good to me"}
    (bin_dir / "comments.json").write_text(json.dumps([other]))
    first = post(tmp_path, body)
    assert first == [other, {"id": 101, "body": body}]
    updated = body.replace("(changed)", "(changed again)")
    second = post(tmp_path, updated)
    assert second == [other, {"id": 101, "body": updated}]  # the same comment, updated
    calls = (bin_dir / "calls.log").read_text().splitlines()
    assert calls == [
        "GET repos/acme/fleet/issues/7/comments",
        "POST repos/acme/fleet/issues/7/comments",
        "GET repos/acme/fleet/issues/7/comments",
        "PATCH repos/acme/fleet/issues/comments/101",
    ]


def test_a_plan_too_long_for_a_comment_drops_diffs_but_keeps_every_app(
    two_commits: Path,
) -> None:
    from fleetgen import app
    from fleetgen.review import report

    base = two_commits / "base" / "model" / "scaledobject.yaml"
    base.write_text(base.read_text() + "# every app's overlay changes with its base\n")
    desc = two_commits / "fleet" / "llama-3-1-8b-instruct.yaml"
    desc.write_text(desc.read_text().replace("maxNumSeqs: 32", "maxNumSeqs: 16"))
    result = app.plan(two_commits, "HEAD~1", None, max_drop=0.25)
    full = report.markdown(result)
    assert full.count("```diff") == len(result.apps) >= 2
    limit = len(full) - 10
    cut = report.markdown(result, limit=limit)
    assert len(cut) <= limit and cut.startswith(PLAN_MARKER)
    assert cut.count("<details>") == len(result.apps)  # every app is still listed
    assert 0 < cut.count("```diff") < len(result.apps)
    assert "diff(s) left out to fit a comment" in cut
