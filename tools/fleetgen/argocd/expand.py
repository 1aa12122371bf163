"""ApplicationSet -> the Applications its controller would create (argo-cd v3.5).

Generators: ``git`` (files and directories, with ``values`` and ``pathParamPrefix``) and
``list``; the template's strings (and map keys) are rendered per parameter set with Go
templates (``goTemplate: true``) or fasttemplate's ``{{key}}`` substitution, as
applicationset/utils/utils.go does. The parameters follow applicationset/generators/git.go:
file content first, then ``path`` (``path``, ``basename``, ``filename``, ``basenameNormalized``,
``filenameNormalized``, ``segments``), then ``values``. ``strategy`` and ``syncPolicy`` do not
change what is generated (only ``preserveResourcesOnDeletion`` decides the finalizer).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetgen.argocd import gotemplate
from fleetgen.argocd.documents import Doc
from fleetgen.argocd.glob import git_pathspec, path_match
from fleetgen.argocd.model import App, wave_of
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic

__all__ = ["Expansion", "RepoFiles", "expand"]

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


@dataclass(frozen=True, slots=True)
class RepoFiles:
    """The repository as the generator's repo server lists it."""

    root: Path
    files: tuple[str, ...]  # every file, repository-relative, sorted
    urls: frozenset[str]  # the URLs this repository is known by

    @classmethod
    def scan(cls, root: Path, urls: Collection[str]) -> RepoFiles:
        found = sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts
        )
        return cls(root, tuple(found), frozenset(_normal(u) for u in urls))

    def serves(self, url: str) -> bool:
        return _normal(url) in self.urls

    def directories(self) -> list[str]:
        dirs = {posixpath.dirname(f) for f in self.files}
        out = set()
        for d in dirs:
            while d:
                out.add(d)
                d = posixpath.dirname(d)
        return sorted(out)


def _normal(url: str) -> str:
    return url.strip().lower().removesuffix("/").removesuffix(".git")


@dataclass(slots=True)
class Expansion:
    apps: list[App] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _Fail(Exception):
    def __init__(self, code: str, message: str, where: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.code, self.where = code, where


Params = dict[str, Any]


def _numbers_as_float(value: Any) -> Any:
    """sigs.k8s.io/yaml decodes every JSON number as float64."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _numbers_as_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_float(v) for v in value]
    return value


def _parse_file(text: str) -> list[dict[str, Any]]:
    """One object, or failing that a list of objects; an empty file is one empty object."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"unable to parse file: {exc}") from exc
    if data is None:
        return [{}]
    if isinstance(data, dict):
        return [_numbers_as_float(data)]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return [_numbers_as_float(d) for d in data]
    raise ValueError("unable to parse file: neither an object nor a list of objects")


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """jeremywohl/flatten DotStyle with every value stringified by %v."""
    out: dict[str, str] = {}
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict | list) and value:
            out.update(_flatten(value, name))
        else:
            out[name] = gotemplate.go_print(value)
    return out


def _path_params(directory: str, filename: str | None, go: bool, prefix: str) -> Params:
    base = posixpath.basename(directory)
    if go:
        path: Params = {
            "path": directory,
            "basename": base,
            "basenameNormalized": gotemplate.sanitize_name(base),
            "segments": directory.split("/"),
        }
        if filename is not None:
            path["filename"] = filename
            path["filenameNormalized"] = gotemplate.sanitize_name(filename)
        return {prefix: {"path": path}} if prefix else {"path": path}
    name = f"{prefix}.path" if prefix else "path"
    flat: Params = {name: directory, f"{name}.basename": base}
    flat[f"{name}.basenameNormalized"] = gotemplate.sanitize_name(base)
    if filename is not None:
        flat[f"{name}.filename"] = filename
        flat[f"{name}.filenameNormalized"] = gotemplate.sanitize_name(filename)
    for index, segment in enumerate(directory.split("/")):
        if segment:
            flat[f"{name}[{index}]"] = segment
    return flat


class _Renderer:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.go = bool(spec.get("goTemplate"))
        try:
            self.options = gotemplate.Options.parse(
                [str(o) for o in spec.get("goTemplateOptions") or []]
            )
        except gotemplate.TemplateError as exc:
            raise _Fail("FG720", str(exc), ("spec", "goTemplateOptions")) from exc

    def string(self, text: str, params: Params, where: tuple[str | int, ...]) -> str:
        if not self.go:
            return _fasttemplate(text, params)
        try:
            return gotemplate.render(text, params, self.options)
        except gotemplate.TemplateError as exc:
            raise _Fail("FG720", f"template {text!r}: {exc}", where) from exc
        except gotemplate.Unsupported as exc:
            raise _Fail("FG721", f"template {text!r}: {exc} not expanded offline", where) from exc

    def tree(self, node: Any, params: Params, where: tuple[str | int, ...]) -> Any:
        if isinstance(node, str):
            return self.string(node, params, where)
        if isinstance(node, list):
            return [self.tree(v, params, (*where, i)) for i, v in enumerate(node)]
        if isinstance(node, dict):
            return {
                self.string(str(k), params, (*where, k)): self.tree(v, params, (*where, k))
                for k, v in node.items()
            }
        return node


def _fasttemplate(text: str, params: Params) -> str:
    out, pos = [], 0
    while (start := text.find("{{", pos)) >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            break
        tag = text[start + 2 : end]
        value = params.get(tag.strip())
        out.append(text[pos:start])
        out.append(value if isinstance(value, str) and tag.strip() else "{{" + tag + "}}")
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


def _git_params(
    git: dict[str, Any], repo: RepoFiles, render: _Renderer, where: tuple[str | int, ...]
) -> Iterator[tuple[Params, str | None]]:
    url = str(git.get("repoURL", ""))
    if not repo.serves(url):
        raise _Fail("FG721", f"git generator reads {url}, not this repository", (*where, "repoURL"))
    prefix = str(git.get("pathParamPrefix") or "")
    values = {str(k): str(v) for k, v in (git.get("values") or {}).items()}
    sets: list[tuple[Params, str | None]] = []
    if git.get("files"):
        include = [str(f.get("path", "")) for f in git["files"] if not f.get("exclude")]
        exclude = [str(f.get("path", "")) for f in git["files"] if f.get("exclude")]
        chosen = sorted(
            f
            for f in repo.files
            if any(git_pathspec(p, f) for p in include)
            and not any(git_pathspec(p, f) for p in exclude)
        )
        for file in chosen:
            try:
                objects = _parse_file((repo.root / file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise _Fail(
                    "FG720", f"unable to process file {file!r}: {exc}", (*where, "files")
                ) from exc
            for found in objects:
                params: Params = dict(found) if render.go else _flatten(found) if found else {}
                params.update(
                    _path_params(
                        posixpath.dirname(file), posixpath.basename(file), render.go, prefix
                    )
                )
                sets.append((params, file))
    elif git.get("directories"):
        items = git["directories"]
        for directory in repo.directories():
            if any(part.startswith(".") for part in directory.split("/")):
                continue
            included = any(
                path_match(str(i.get("path", "")), directory) for i in items if not i.get("exclude")
            )
            if included and not any(
                path_match(str(i.get("path", "")), directory) for i in items if i.get("exclude")
            ):
                sets.append((_path_params(directory, None, render.go, prefix), None))
    for params, origin in sets:
        for key, value in values.items():
            rendered = render.string(value, params, (*where, "values", key))
            if render.go:
                params.setdefault("values", {})
                params["values"] = {**params["values"], key: rendered}
            else:
                params[f"values.{key}"] = rendered
        yield params, origin


def _parameter_sets(
    spec: dict[str, Any], repo: RepoFiles, render: _Renderer
) -> Iterator[tuple[Params, str | None]]:
    for index, generator in enumerate(spec.get("generators") or []):
        where: tuple[str | int, ...] = ("spec", "generators", index)
        if not isinstance(generator, dict):
            raise _Fail("FG720", "a generator must be a mapping", where)
        kinds = [k for k in generator if k not in ("selector", "template")]
        if generator.get("selector") or generator.get("template"):
            raise _Fail("FG721", "generator selector/template overrides", where)
        if kinds == ["git"]:
            yield from _git_params(generator["git"] or {}, repo, render, (*where, "git"))
        elif kinds == ["list"]:
            for element in (generator["list"] or {}).get("elements") or []:
                yield (dict(element) if render.go else _flatten(element)), None
        else:
            raise _Fail("FG721", f"{', '.join(kinds) or 'empty'} generator", where)


def expand(doc: Doc, repo: RepoFiles) -> Expansion:
    """The Applications of one ApplicationSet document, or the diagnostics that stop it."""
    result = Expansion()
    spec = doc.data.get("spec") or {}
    wave, wave_at = (
        wave_of(doc.data),
        doc.at("metadata", "annotations", "argocd.argoproj.io/sync-wave"),
    )
    try:
        if spec.get("templatePatch"):
            raise _Fail("FG721", "templatePatch", ("spec", "templatePatch"))
        render = _Renderer(spec)
        template = spec.get("template") or {}
        preserve = bool((spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion"))
        for params, file in _parameter_sets(spec, repo, render):
            try:
                app: dict[str, Any] = render.tree(template, params, ("spec", "template"))
            except _Fail as fail:
                if file is not None:
                    fail.args = (f"{fail} (parameters from {file})",)
                raise
            metadata = dict(app.get("metadata") or {})
            metadata["namespace"] = doc.namespace  # the controller creates apps beside the set
            if not preserve and not metadata.get("finalizers"):
                metadata["finalizers"] = [RESOURCES_FINALIZER]
            data = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": metadata,
                "spec": app.get("spec") or {},
            }
            result.apps.append(App(data, doc, ("spec", "template"), wave, wave_at, doc.name, file))
    except _Fail as fail:
        result.apps.clear()
        hint = (
            "fleetgen cannot expand this offline, so no check sees its Applications"
            if fail.code == "FG721"
            else "the controller would create none of this ApplicationSet's Applications"
        )
        result.diagnostics.append(
            diag(
                fail.code,
                f"ApplicationSet {doc.name}: {fail}",
                doc.at(*fail.where),
                hint=hint,
            )
        )
    return result


def canonical(app: App) -> str:
    """An Application as comparable text (for plan)."""
    return json.dumps(app.data, sort_keys=True, indent=1)
