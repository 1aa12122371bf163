"""`fleetgen init DIR`: a fleet repository of one's own, clean from the first commit.

It holds the shared bases (``base/``, the same files as this project's), one environment to
edit, no models, ``.fleetgen.yaml``, the CRD schemas of the pinned platform releases, the
pull-request workflow, a ``.pre-commit-config.yaml`` pinned to this fleetgen, and the
generated ``applicationsets/``, so that ``validate --all`` and ``generate --check`` pass as
written and ``fleetgen new`` works at once.

Everything is written into a staging directory beside the target and renamed into place in
one step: a failed run leaves no half-made repository.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from fleetgen import __version__
from fleetgen.authoring.workflow import WORKFLOW_FILE, workflow_text
from fleetgen.core.errors import UsageError

__all__ = ["DEFAULT_FLEETGEN_REPO", "DEFAULT_REPO_URL", "InitOptions", "init_repository"]

# Placeholders in the example's style: the repository to replace them with is the user's.
DEFAULT_REPO_URL = "https://git.example.com/platform/llm-fleet.git"
DEFAULT_FLEETGEN_REPO = "https://git.example.com/platform/fleetgen.git"

# template file -> where it goes in the new repository
_TEMPLATES = {
    "environment.yaml": "environments/dev/environment.yaml",
    "fleetgen.yaml": ".fleetgen.yaml",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
    "gitignore": ".gitignore",
    "README.md": "README.md",
}
_SKELETON = ("base", "schemas")  # copied as they ship (the same as this project's)


@dataclass(frozen=True, slots=True)
class InitOptions:
    target: Path
    repo_url: str = DEFAULT_REPO_URL  # where Argo CD clones the new repository
    fleetgen_repo: str = DEFAULT_FLEETGEN_REPO  # where pre-commit and CI get fleetgen
    fleetgen_rev: str = f"v{__version__}"


def init_repository(options: InitOptions, generate: Callable[[Path], str | None]) -> list[str]:
    """Write the repository; its files, relative and sorted. ``generate`` writes the
    generated tree of the staged repository and returns None, or the problems found."""
    for value in (options.repo_url, options.fleetgen_repo, options.fleetgen_rev):
        if not value or any(ch.isspace() for ch in value) or any(ch in value for ch in "\"'`$\\"):
            raise UsageError(f"{value!r}: expected a URL or revision without spaces or quotes")
    target = options.target.absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{options.target}: exists and is not an empty directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.fleetgen-init-", dir=target.parent))
    try:
        _write(staging, options)
        problems = generate(staging)
        if problems is not None:  # the templates are tested to validate: a broken install
            raise UsageError(f"the new repository does not validate:\n{problems}")
        written = sorted(
            p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()
        )
        if target.exists():
            target.rmdir()  # empty, checked above
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _write(root: Path, options: InitOptions) -> None:
    package = files("fleetgen.authoring")
    for name in _SKELETON:
        with as_file(package.joinpath("skeleton", name)) as source:
            shutil.copytree(source, root / name)
    values = {
        "@REPO_URL@": options.repo_url,
        "@FLEETGEN_REPO@": options.fleetgen_repo,
        "@FLEETGEN_REV@": options.fleetgen_rev,
    }
    for template, rel in _TEMPLATES.items():
        text = package.joinpath("templates", "init", template).read_text("utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    install = (
        f'python -m pip install "fleetgen @ git+{options.fleetgen_repo}@{options.fleetgen_rev}"'
    )
    (root / WORKFLOW_FILE).parent.mkdir(parents=True)
    (root / WORKFLOW_FILE).write_text(workflow_text(install), encoding="utf-8")
    (root / "fleet").mkdir()
