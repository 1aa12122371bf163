"""Derive one chart's bill of materials from its source directory, without helm.

`python -m fleetgen.knowledge.installed CHART_DIR --repo OWNER/NAME --ref TAG --path PATH
[--version V] [--name N] [--curated FILE] > data/<chart>-<version>.json` reads Chart.yaml, values.yaml,
the helpers and every template that declares a Service, and every CRD the chart carries
(`crds/`, templates, compressed bundles under `files/`). Each Service template is rendered
with the chart's default values and a symbolic release (see `gotemplate`); its top-level
`if` is kept as the condition under which the chart creates it, evaluated at check time with
the values fleetgen sets. A dependency's helpers (Bitnami's `common`) are read from
`charts/<name>/` as `helm dependency build` lays them out. Every file read is recorded with its
sha256; a template the evaluator cannot read is listed under `notDerived` with the reason.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from fleetgen.knowledge.installed import gotemplate
from fleetgen.knowledge.installed.gotemplate import MARK, Unsupported

GENERATOR = "python -m fleetgen.knowledge.installed"
# Envoy Gateway keeps values.tmpl.yaml in git; its release fills the image tags in to make
# values.yaml. Nothing a Service reads depends on those tags.
VALUES_FILES = ("values.yaml", "values.tmpl.yaml")
_SERVICE = re.compile(r"^kind:\s*Service\s*$", re.M)
_CRD = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.M)
_ONLY_ACTIONS = re.compile(r"^\s*(\{\{.*?\}\}\s*)+$")
_INLINE_ACTION = re.compile(r"\{\{.*?\}\}")
# Annotations upstream CRDs carry to say which release of their project generated them.
VERSION_ANNOTATIONS = (
    "operator.prometheus.io/version",
    "gateway.networking.k8s.io/bundle-version",
    "controller-gen.kubebuilder.io/version",
)


class _Reader:
    """Reads files below the chart directory and remembers each one's sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, str] = {}

    def bytes(self, path: Path) -> bytes:
        data = path.read_bytes()
        self.files[path.relative_to(self.root).as_posix()] = hashlib.sha256(data).hexdigest()
        return data

    def text(self, path: Path) -> str:
        return self.bytes(path).decode("utf-8")


def extract(
    root: Path,
    *,
    repo: str,
    ref: str,
    path: str,
    version: str | None = None,
    name: str | None = None,
    curated: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    reader = _Reader(root)
    meta = yaml.safe_load(reader.text(root / "Chart.yaml")) or {}
    values_file = next((root / n for n in VALUES_FILES if (root / n).exists()), None)
    values = (yaml.safe_load(reader.text(values_file)) or {}) if values_file else {}
    chart = gotemplate.Chart(
        str(name or meta.get("name", "")),
        str(version or meta.get("version", "")),
        str(meta.get("appVersion", "")),
        _defines(root, reader),
    )
    services: list[dict[str, Any]] = []
    not_derived: list[dict[str, str]] = []
    for template in _templates(root):
        text = template.read_text(encoding="utf-8")
        if not _SERVICE.search(text):
            continue
        name = template.relative_to(root).as_posix()
        try:
            services.extend(_services(chart, reader.text(template), values, name))
        except (
            Unsupported,
            yaml.YAMLError,
            TypeError,
            ValueError,
            KeyError,
            AttributeError,
        ) as err:
            not_derived.append({"template": name, "reason": str(err).splitlines()[0]})
    result: dict[str, Any] = {
        "generator": GENERATOR,
        "chart": chart.name,
        "version": chart.version,
        "appVersion": chart.app_version,
        "source": {"repo": repo, "ref": ref, "path": path},
    }
    if version and str(meta.get("version")) != version:
        result["chartYamlVersion"] = str(meta.get("version"))
    if name and str(meta.get("name")) != name:
        result["chartYamlName"] = str(meta.get("name"))
    result["crds"] = _crds(root, reader)
    result["fullnames"] = {
        define: {
            "override": rule.override,
            "overrideDefault": gotemplate.lookup(values, rule.override) or None,
            "nameOverride": rule.name_override,
            "truncate": rule.truncate,
            "defaultName": rule.default_name,
        }
        for define, rule in sorted(chart.fullnames.items())
    }
    result["services"] = services
    result["values"] = _read_values(values, chart.reads)
    result["notDerived"] = not_derived
    result["curated"] = dict(curated or {})
    result["files"] = [{"path": p, "sha256": h} for p, h in sorted(reader.files.items())]
    return result


def _templates(root: Path) -> Iterator[Path]:
    base = root / "templates"
    if base.is_dir():
        yield from sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml"))


def _defines(root: Path, reader: _Reader) -> dict[str, list[Any]]:
    """Helpers of the chart and of its vendored dependencies (charts/<dep>/templates)."""
    found: dict[str, list[Any]] = {}
    helpers = [p for p in sorted(root.rglob("*.tpl")) if "templates" in p.parts]
    for helper in helpers:
        try:
            _, defines = gotemplate.parse(reader.text(helper))
        except Unsupported:
            continue  # a helper file outside the subset: its defines stay unknown
        found.update(defines)
    return found


def _split_guard(nodes: list[Any]) -> tuple[list[Any], str | None, list[Any]]:
    """The file's top-level variable assignments, its top-level `if` (the condition under
    which the chart renders it) if any, and what that `if` holds."""
    significant = [n for n in nodes if not (n.kind == "text" and not n.text.strip())]
    prelude = [n for n in significant if n.kind == "action" and _is_assignment(n.text)]
    rest = [n for n in significant if n not in prelude]
    if len(rest) == 1 and rest[0].kind == "if" and len(rest[0].branches) == 1:
        condition, body = rest[0].branches[0]
        return prelude, condition, body
    return [], None, nodes


def _is_assignment(content: str) -> bool:
    return bool(re.match(r"^\$\w+\s*:?=", content))


def _services(
    chart: gotemplate.Chart, text: str, values: Mapping[str, Any], template: str
) -> Iterator[dict[str, Any]]:
    nodes, _ = gotemplate.parse(text)
    prelude, guard, body = _split_guard(nodes)
    plain = list(yaml.safe_load_all(gotemplate.render_guarded(chart, prelude, guard, body, values)))
    chart.marking = True
    try:
        marked_text = gotemplate.render_guarded(chart, prelude, guard, body, values)
        marked = list(yaml.safe_load_all(marked_text))
    finally:
        chart.marking = False
    for doc, marks in zip(plain, marked, strict=True):
        if not isinstance(doc, dict) or doc.get("kind") != "Service":
            continue
        meta = doc.get("metadata") or {}
        ports = (doc.get("spec") or {}).get("ports") or []
        marked_ports = ((marks or {}).get("spec") or {}).get("ports") or []
        yield {
            "template": template,
            "name": str(meta.get("name", "")),
            "namespace": str(meta.get("namespace") or gotemplate.NAMESPACE),
            "when": guard,
            "ports": [_port(p, m) for p, m in zip(ports, marked_ports, strict=True)],
        }


def _port(port: Mapping[str, Any], marked: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key in ("name", "port", "targetPort", "protocol", "appProtocol"):
        if port.get(key) is not None:
            entry[key] = port[key]
            mark = marked.get(key)
            if isinstance(mark, str) and mark.startswith(MARK):
                entry[f"{key}Value"] = mark[len(MARK) :]
    entry.setdefault("protocol", "TCP")
    return entry


def _read_values(values: Mapping[str, Any], reads: list[str]) -> dict[str, Any]:
    """The chart defaults of every value a name, port or condition depends on."""
    return {path: gotemplate.lookup(values, path) for path in sorted(set(reads))}


def _crd_texts(root: Path, reader: _Reader) -> Iterator[str]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "/templates/tests/" in path.as_posix():
            continue
        if path.suffix in (".yaml", ".yml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if _CRD.search(text):
                yield _strip_actions(reader.text(path))
        elif path.suffix in (".bz2", ".gz"):
            data = reader.bytes(path)
            raw = bz2.decompress(data) if path.suffix == ".bz2" else gzip.decompress(data)
            yield raw.decode("utf-8")


def _strip_actions(text: str) -> str:
    """A CRD template as plain YAML: action-only lines dropped, inline actions blanked."""
    lines = [line for line in text.splitlines() if not _ONLY_ACTIONS.match(line)]
    return "\n".join(_INLINE_ACTION.sub("x", line) for line in lines)


def _crds(root: Path, reader: _Reader) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for text in _crd_texts(root, reader):
        for doc in _documents(text):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            versions = [v for v in spec.get("versions") or [] if isinstance(v, dict)]
            annotations = (doc.get("metadata") or {}).get("annotations") or {}
            group, kind = str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))
            entry: dict[str, Any] = {
                "group": group,
                "kind": kind,
                "versions": [str(v.get("name")) for v in versions if v.get("served", True)],
                "storage": next((str(v["name"]) for v in versions if v.get("storage")), None),
            }
            bundle = {k: str(annotations[k]) for k in VERSION_ANNOTATIONS if k in annotations}
            if bundle:
                entry["bundleVersion"] = bundle
            found[(group, kind)] = entry
    return [found[k] for k in sorted(found)]


def _documents(text: str) -> Iterator[dict[str, Any]]:
    """YAML documents one by one: a document that does not parse is skipped, not fatal."""
    for chunk in re.split(r"^---\s*$", text, flags=re.M):
        try:
            doc = yaml.safe_load(chunk)
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict):
            yield doc
