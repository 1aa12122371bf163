"""Facts printed beside the numbers: the machine, the tools' versions, the code measured."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from benchmarks.workspace import REPO, tool


def _version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def code_version() -> str:
    """HEAD of the checkout, marked when tracked files differ from it."""
    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    # --no-optional-locks: status must not refresh (write) the index of a shared checkout.
    dirty = _version(
        ["git", "--no-optional-locks", "-C", str(REPO), "status", "--porcelain", "-uno"]
    )
    return commit + (" with uncommitted changes" if dirty not in ("", "?") else "")


def machine() -> dict[str, str]:
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    from fleetgen.kube.kustomize import kustomize_command

    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fleetgen": _version([tool("fleetgen"), "--version"]),
        "kubectl": "kubectl " + _version([kustomize_command()[0], "version", "--client"]),
        "check-jsonschema": _version([tool("check-jsonschema"), "--version"]),
        "kubeconform": shutil.which("kubeconform") or "not on PATH",
        "commit": code_version(),
    }


def same_code(commit: str, now: str) -> bool:
    """True when fleetgen's package is identical at `commit` and in the checkout."""
    if "uncommitted" in commit or "uncommitted" in now:
        return False
    diff = subprocess.run(
        ["git", "-C", str(REPO), "diff", "--quiet", commit.split()[0], "--", "tools"],
        capture_output=True,
        check=False,
    )
    return diff.returncode == 0
