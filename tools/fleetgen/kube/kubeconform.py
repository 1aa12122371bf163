"""Validate documents with kubeconform, when it is on PATH, giving verdicts shaped like
``SchemaStore.validate``'s: one list of ``SchemaViolation`` per document, empty when valid.

No package registry ships kubeconform (not PyPI, Debian or npm), so nothing installs it: this
engine is for cross-checking the Python one where a binary exists.

Schemas are the same as the Python engine's:

* CRDs from a catalog directory as ``fleetgen schemas import`` writes it, through the
  location ``DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``;
* core kinds from kubernetes-validate's ``-local-strict`` files, named
  ``{kind}-{first label of group}-{version}.json`` (``{kind}-v1.json`` for the core group),
  which is kubeconform's ``{{.ResourceKind}}{{.KindSuffix}}.json``. Their ``$ref``s are
  absolute (``/api/_definitions.json#/$defs/...``) and would resolve against the filesystem
  root, so each file needed is written standalone (definitions inlined) to a temporary
  directory; only files whose full group matches are written, as ``SchemaStore`` checks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fleetgen.kube.schema_store import SchemaViolation, core_schema_dir

__all__ = [
    "KubeconformError",
    "KubeconformNotFound",
    "core_schema_filename",
    "kubeconform_path",
    "parse_output",
    "validate_with_kubeconform",
]

_CATALOG_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
_CORE_TEMPLATE = "{{.ResourceKind}}{{.KindSuffix}}.json"
_ABSOLUTE_REF = '"/api/_definitions.json#'


class KubeconformNotFound(RuntimeError):
    """kubeconform is not on PATH."""


class KubeconformError(RuntimeError):
    """kubeconform failed (bad flags, timeout, unreadable output); ``stderr`` holds its text."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(f"{message}: {stderr.strip()}" if stderr.strip() else message)
        self.stderr = stderr


def kubeconform_path() -> str | None:
    return shutil.which("kubeconform")


def core_schema_filename(api_version: str, kind: str) -> str:
    """kubeconform's ``{{.ResourceKind}}{{.KindSuffix}}.json`` for a GVK."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.', 1)[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


def validate_with_kubeconform(
    docs: Sequence[Mapping[str, Any]],
    *,
    schema_dir: Path | None,
    kubernetes_version: str = "1.32.0",
    include_core: bool = True,
    ignore_missing: bool = False,
    executable: str | None = None,
    timeout: float = 300.0,
) -> list[list[SchemaViolation]]:
    """Run ``kubeconform -strict`` over ``docs``; the result is aligned with ``docs``."""
    exe = executable or kubeconform_path()
    if exe is None:
        raise KubeconformNotFound("kubeconform is not on PATH")
    with tempfile.TemporaryDirectory(prefix="fleetgen-kubeconform-") as tmp:
        work = Path(tmp)
        (work / "docs").mkdir()
        for index, doc in enumerate(docs):
            # JSON is YAML to kubeconform and keeps every scalar's type exactly.
            (work / "docs" / f"{index:06d}.yaml").write_text(json.dumps(doc), encoding="utf-8")
        argv = [exe, "-strict", "-summary", "-output", "json"]
        if ignore_missing:
            argv.append("-ignore-missing-schemas")
        if schema_dir is not None:
            argv += ["-schema-location", f"{schema_dir.resolve()}/{_CATALOG_TEMPLATE}"]
        if include_core:
            core = work / "core"
            _write_core_schemas(docs, core_schema_dir(kubernetes_version), core)
            argv += ["-schema-location", f"{core}/{_CORE_TEMPLATE}"]
        argv.append(str(work / "docs"))
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise KubeconformError(f"kubeconform timed out after {timeout:.0f} s") from exc
        except OSError as exc:
            raise KubeconformError(f"cannot run {exe}: {exc}") from exc
        if done.returncode not in (0, 1):
            raise KubeconformError(f"kubeconform exited {done.returncode}", done.stderr)
        return parse_output(done.stdout, docs, stderr=done.stderr)


def parse_output(
    stdout: str, docs: Sequence[Mapping[str, Any]], *, stderr: str = ""
) -> list[list[SchemaViolation]]:
    """Per-document violations from ``-output json`` (documents written as ``NNNNNN.yaml``)."""
    try:
        payload = json.loads(stdout)
        resources = payload["resources"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KubeconformError("kubeconform output is not its JSON report", stderr) from exc
    verdicts: list[list[SchemaViolation]] = [[] for _ in docs]
    for resource in resources or []:
        status = resource.get("status")
        if status not in ("statusInvalid", "statusError"):
            continue
        try:
            index = int(Path(str(resource.get("filename", ""))).stem)
            doc = docs[index]
        except (ValueError, IndexError) as exc:
            raise KubeconformError(f"unexpected file in kubeconform output: {resource}") from exc
        verdicts[index].extend(_violations(doc, resource))
    return verdicts


def _violations(doc: Mapping[str, Any], resource: Mapping[str, Any]) -> list[SchemaViolation]:
    metadata = doc.get("metadata")
    meta = metadata if isinstance(metadata, Mapping) else {}
    head = (
        str(doc.get("apiVersion") or ""),
        str(doc.get("kind") or ""),
        str(meta.get("name") or ""),
        str(meta.get("namespace") or ""),
    )
    message = str(resource.get("msg") or "")
    if resource.get("status") == "statusError" and message.startswith("could not find schema"):
        # The Python engine's wording, so verdicts compare equal.
        return [SchemaViolation(*head, "", f"no schema for {head[0]}/{head[1]}")]
    details = resource.get("validationErrors") or []
    found = [
        SchemaViolation(*head, str(item.get("path") or ""), str(item.get("msg") or message))
        for item in details
        if isinstance(item, Mapping)
    ]
    return found or [SchemaViolation(*head, "", message or str(resource.get("status")))]


def _write_core_schemas(docs: Sequence[Mapping[str, Any]], core_dir: Path, out: Path) -> None:
    out.mkdir()
    definitions: Any = None
    for doc in docs:
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            continue
        name = core_schema_filename(api_version, kind)
        source = core_dir / name
        if (out / name).exists() or not source.is_file():
            continue
        schema = json.loads(source.read_text(encoding="utf-8").replace(_ABSOLUTE_REF, '"#'))
        if not _declares(schema, api_version, kind):
            continue
        if definitions is None:
            definitions = json.loads((core_dir / "_definitions.json").read_text(encoding="utf-8"))
        schema["$defs"] = definitions.get("$defs", {})
        (out / name).write_text(json.dumps(schema), encoding="utf-8")


def _declares(schema: Mapping[str, Any], api_version: str, kind: str) -> bool:
    group, _, version = api_version.rpartition("/")
    return any(
        g.get("group", "") == group
        and g.get("version") == version
        and str(g.get("kind", "")).lower() == kind.lower()
        for g in schema.get("x-kubernetes-group-version-kind") or []
    )
