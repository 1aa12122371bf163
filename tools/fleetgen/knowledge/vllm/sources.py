"""A vLLM release's Python sources, read from its wheel or sdist without importing anything.

The extractor only ever parses these files with :mod:`ast`; nothing of the release runs.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from fleetgen.core.errors import FleetgenError

# Folders of the package that hold no serving code (and are large): never parsed.
_SKIPPED = ("vllm/benchmarks/", "vllm/tests/", "vllm/third_party/")


@dataclass(frozen=True, slots=True)
class Artifact:
    """Where the sources came from: the archive's file name and digest, and its version."""

    file_name: str
    sha256: str
    version: str


@dataclass(slots=True)
class SourceTree:
    """``vllm/...py`` path -> text, with parsed modules cached on first use."""

    files: dict[str, str]
    _parsed: dict[str, ast.Module] = field(default_factory=dict)

    def module(self, path: str) -> ast.Module | None:
        if path not in self.files:
            return None
        if path not in self._parsed:
            try:
                self._parsed[path] = ast.parse(self.files[path], filename=path)
            except SyntaxError:
                # A file newer Python syntax cannot parse contributes nothing.
                self._parsed[path] = ast.Module(body=[], type_ignores=[])
        return self._parsed[path]

    def path_of(self, dotted: str) -> str | None:
        """The file of a dotted module name (``vllm.config`` -> ``vllm/config/__init__.py``)."""
        base = dotted.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self.files:
                return candidate
        return None

    def paths(self, containing: str = "") -> Iterator[str]:
        """Every source path whose text contains ``containing``, sorted."""
        for path in sorted(self.files):
            if containing in self.files[path]:
                yield path


_SDIST_ROOT = re.compile(r"^[^/]+/(vllm/.*\.py)$")


def _keep(path: str) -> bool:
    return path.startswith("vllm/") and path.endswith(".py") and not path.startswith(_SKIPPED)


def _version_from_metadata(text: str) -> str | None:
    version = HeaderParser().parsestr(text).get("Version")
    return version.strip() if version else None


def read_archive(path: Path) -> tuple[Artifact, SourceTree]:
    """Read a ``.whl`` or ``.tar.gz`` sdist of vLLM; FleetgenError when it is neither."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FleetgenError(f"{path}: cannot read: {err.strerror}") from err
    digest = hashlib.sha256(data).hexdigest()
    files: dict[str, str] = {}
    version: str | None = None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if _keep(name):
                        files[name] = archive.read(name).decode("utf-8", "replace")
                    elif re.fullmatch(r"vllm-[^/]+\.dist-info/METADATA", name):
                        version = _version_from_metadata(archive.read(name).decode())
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    if not member.isfile():
                        continue
                    name = member.name
                    match = _SDIST_ROOT.match(name)
                    extracted = archive.extractfile(member)
                    if extracted is None:
                        continue
                    if match and _keep(match.group(1)):
                        files[match.group(1)] = extracted.read().decode("utf-8", "replace")
                    elif PurePosixPath(name).parts[1:] == ("PKG-INFO",):
                        version = _version_from_metadata(extracted.read().decode())
        else:
            raise FleetgenError(f"{path}: not a wheel or sdist (zip or tar archive)")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
        raise FleetgenError(f"{path}: damaged archive: {err}") from err
    if not files:
        raise FleetgenError(f"{path}: no vllm/ Python sources in the archive")
    if version is None:
        raise FleetgenError(f"{path}: no package metadata (METADATA or PKG-INFO) with a Version")
    return Artifact(path.name, digest, version), SourceTree(files)
