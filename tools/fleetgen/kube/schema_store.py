"""Strict validation of Kubernetes manifests against CRD and core JSON Schemas.

Schemas are found cheaply up front and converted/compiled on first use: one validator per
GVK, reused for every document (``jsonschema.validate()`` re-checks the schema on each call).

Long module: the store, its on-disk cache of converted schemas and the error
describer work on the same validator objects and GVK index; apart they would share private state.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from jsonschema import validators as _validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from fleetgen.core.cache_files import cache_dir, write_cache_file
from fleetgen.kube import crd_schema
from fleetgen.kube.cel_limits import crd_object_cost_findings
from fleetgen.kube.crd_schema import (
    ConvertedSchema,
    CRDFormatError,
    compile_crd_pattern,
    convert_crd,
    parse_schema_filename,
    scan_crd_kinds,
)
from fleetgen.kube.defaulting import Defaulted, apply_defaults, user_path
from fleetgen.kube.fast_check import FastCheck, FastCheckCompiler
from fleetgen.kube.formats import format_check
from fleetgen.kube.list_types import list_type_violations
from fleetgen.kube.metadata_rules import embedded_resource_violations, metadata_violations

if TYPE_CHECKING:
    from fleetgen.kube.cel import CelEngine, CelReport, CelTotals

__all__ = ["SchemaStore", "SchemaStoreError", "SchemaViolation", "Validator", "core_schema_dir"]

_CORE_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META_REF = f"{_CORE_DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_MAX_MESSAGE = 400
_YAML_SUFFIXES = (".yaml", ".yml")

GVK = tuple[str, str, str]  # (group, version, lower-case kind)
# Documents of one kind validated by jsonschema alone before its compiled pre-check is built:
# compiling a large CRD costs seconds (cached on disk after), a small fleet never needs it.
FAST_CHECK_AFTER = 200
# Schema errors after which the API server does not run CEL rules (``hasBlockingErr``:
# NotSupported, Required, TooLong, TooMany, TypeInvalid).
_BLOCKING = frozenset({"type", "enum", "required", "maxLength", "maxItems", "maxProperties"})


class SchemaStoreError(Exception):
    """A schema source cannot be read (bad CRD file, unsupported Kubernetes version, ...)."""


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    api_version: str
    kind: str
    name: str
    namespace: str
    path: str  # JSON pointer into the document, "" for the document itself
    message: str
    # which check found it: "schema", "cel", "list-type", "metadata", "embedded-resource",
    # "defaulted" (a value the schema's default supplied fails; path is the user's object),
    # or "crd-cel-cost" (a CRD whose rules the API server refuses as too expensive)
    rule: str = "schema"
    expression: str = ""  # the CEL rule, for "cel"

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}: {self.path or '/'}: {self.message}"


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    compiled = compile_crd_pattern(pattern)
    # An RE2-only construct Python cannot compile is skipped rather than crashing validation.
    if compiled is not None and not compiled.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _format_keyword(
    validator: Any, name: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    check = format_check(name)
    if check is not None and isinstance(instance, str) and not check(instance):
        yield ValidationError(f"{instance!r} is not a valid {name}")


_StrictValidator: Any = _validators.extend(  # type: ignore[no-untyped-call]
    _validators.Draft202012Validator, validators={"pattern": _pattern_keyword}
)
# CRD schemas: the API server also asserts the string formats it supports.
_CrdValidator: Any = _validators.extend(  # type: ignore[no-untyped-call]
    _StrictValidator, validators={"format": _format_keyword}
)


class SchemaStore:
    """Find, convert and cache schemas by (apiVersion, kind)."""

    def __init__(
        self,
        *,
        crd_files: Mapping[tuple[str, str], Sequence[Path]],
        catalog_files: Mapping[GVK, Path],
        core_dir: Path | None,
        strict_metadata: bool = True,
        fast_check_after: int = FAST_CHECK_AFTER,
    ) -> None:
        self._crd_files = {key: list(paths) for key, paths in crd_files.items()}
        self._catalog_files = dict(catalog_files)
        self._core_dir = core_dir
        self._strict_metadata = strict_metadata and core_dir is not None
        self._metadata_rules = strict_metadata
        self._crd_schemas: dict[GVK, dict[str, Any]] = {}
        self._loaded_crd_files: set[Path] = set()
        self._validators: dict[GVK, Validator | None] = {}
        self._fast_checks: dict[GVK, FastCheck | None] = {}
        self._fast_compiler: FastCheckCompiler | None = None
        self._fast_check_after = fast_check_after
        self._seen: dict[GVK, int] = {}
        self._registry: Registry[Any] | None = None
        self._definitions: dict[str, Any] | None = None
        self._cel_engines: dict[GVK, CelEngine | None] = {}
        self._cel_totals: CelTotals | None = None

    @classmethod
    def load(
        cls,
        crd_paths: Sequence[Path],
        *,
        kubernetes_version: str = "1.32.0",
        include_core: bool = True,
        strict_metadata: bool = True,
        fast_check_after: int = FAST_CHECK_AFTER,
    ) -> SchemaStore:
        """Index CRD YAML and catalog JSON under ``crd_paths`` plus kubernetes-validate's
        ``-local-strict`` core schemas for the newest shipped version <= ``kubernetes_version``.
        """
        crd_files: dict[tuple[str, str], list[Path]] = {}
        catalog: dict[GVK, Path] = {}
        for root in crd_paths:
            root = Path(root)
            if not root.exists():
                raise SchemaStoreError(f"{root}: no such file or directory")
            files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
            for path in files:
                if path.suffix == ".json":
                    key = parse_schema_filename(path)
                    if key is not None:
                        catalog.setdefault(key, path)
                elif path.suffix in _YAML_SUFFIXES:
                    for group, kind in _scan_file(path):
                        crd_files.setdefault((group, kind.lower()), []).append(path)
        core_dir = core_schema_dir(kubernetes_version) if include_core else None
        return cls(
            crd_files=crd_files,
            catalog_files=catalog,
            core_dir=core_dir,
            strict_metadata=strict_metadata,
            fast_check_after=fast_check_after,
        )

    def preload(self) -> None:
        """Read every indexed CRD file now (before forking workers that would each do it)."""
        for paths in self._crd_files.values():
            for path in paths:
                if path not in self._loaded_crd_files:
                    self._load_crd_file(path)

    def warm(self, api_version: str, kind: str) -> None:
        """Build everything a kind's documents need now, pre-check included, whatever the
        count so far: done before forking workers, they all share it instead of each
        building its own."""
        validator = self.validator_for(api_version, kind)
        if validator is not None:
            key = _gvk(api_version, kind)
            self._seen[key] = max(self._seen.get(key, 0), self._fast_check_after)
            self._fast_check(api_version, kind, validator)
        self.cel_engine_for(api_version, kind)

    def validator_for(self, api_version: str, kind: str) -> Validator | None:
        """The cached validator for a GVK, or None when no schema is known."""
        key = _gvk(api_version, kind)
        if key not in self._validators:
            self._validators[key] = self._build_validator(key)
        return self._validators[key]

    def validate(
        self, doc: Mapping[str, Any], *, ignore_missing: bool = False, cel: bool = False
    ) -> list[SchemaViolation]:
        """Every schema violation in ``doc`` (empty when valid); with ``cel``, also the CRD's
        ``x-kubernetes-validations`` (counts accumulate in ``cel_totals``)."""
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        metadata = doc.get("metadata")
        meta = metadata if isinstance(metadata, Mapping) else {}
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")

        def violation(
            path: str, message: str, rule: str = "schema", expression: str = ""
        ) -> SchemaViolation:
            head = (str(api_version or ""), str(kind or ""), name, namespace)
            return SchemaViolation(*head, path, message[:_MAX_MESSAGE], rule, expression)

        if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
            return [violation("", "apiVersion and kind must be non-empty strings")]
        validator = self.validator_for(api_version, kind)
        if validator is None:
            return [] if ignore_missing else [violation("", f"no schema for {api_version}/{kind}")]
        crd = self._crd_schema(_gvk(api_version, kind))
        # As the API server: defaults first, then every check sees the defaulted object.
        defaulted = apply_defaults(doc, crd) if crd is not None else Defaulted(doc)
        target = defaulted.value
        found: list[SchemaViolation] = []

        def add(parts: Sequence[Any], message: str, rule: str, expression: str = "") -> None:
            where, default = user_path(tuple(parts), defaulted.paths)
            if default is not None and rule != "cel":
                field = _pointer(default)
                message, rule = f"the default of {field} is invalid: {message}", "defaulted"
            found.append(violation(_pointer(where), message, rule, expression))

        blocking = False
        fast = self._fast_check(api_version, kind, validator)
        errors = () if fast is not None and fast(target) else validator.iter_errors(target)
        for error in errors:
            blocking = blocking or error.validator in _BLOCKING
            for parts, message in _describe(error):
                add(parts, message, "schema")
        if self._metadata_rules:
            for problem in metadata_violations(target):
                add(problem.path, problem.message, "metadata")
        if kind == "CustomResourceDefinition" and api_version.startswith("apiextensions.k8s.io/"):
            for where, refused in crd_object_cost_findings(target):
                add(where, refused, "crd-cel-cost")
        if crd is not None:
            for embedded in embedded_resource_violations(target, crd):
                add(embedded.path, embedded.message, "embedded-resource")
            for duplicate in list_type_violations(target, crd):
                add(duplicate.path, duplicate.message, "list-type")
        if cel and blocking:
            self.cel_totals.blocked += 1
        elif cel and (report := self._cel_report(api_version, kind, target)) is not None:
            for broken in report.violations:
                add(_parts(broken.path), broken.message, "cel", broken.rule)
        return sorted(found, key=lambda v: (v.path, v.message))

    # -- CEL ------------------------------------------------------------------------------

    @property
    def cel_totals(self) -> CelTotals:
        """CEL counts over every ``validate(..., cel=True)`` and ``cel_report`` call."""
        if self._cel_totals is None:
            from fleetgen.kube.cel import CelTotals

            self._cel_totals = CelTotals()
        return self._cel_totals

    def cel_engine_for(self, api_version: str, kind: str) -> CelEngine | None:
        """The cached CEL engine of a CRD GVK; None for core kinds and unknown GVKs."""
        key = _gvk(api_version, kind)
        if key not in self._cel_engines:
            from fleetgen.kube.cel import CelEngine

            schema = self._crd_schema(key)
            self._cel_engines[key] = None if schema is None else CelEngine.for_schema(schema)
        return self._cel_engines[key]

    def cel_report(self, doc: Mapping[str, Any]) -> CelReport | None:
        """The CEL rules of ``doc``'s CRD evaluated on it (no schema check), or None."""
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return None
        crd = self._crd_schema(_gvk(api_version, kind))
        return self._cel_report(api_version, kind, apply_defaults(doc, crd).value)

    def _cel_report(self, api_version: str, kind: str, doc: Mapping[str, Any]) -> CelReport | None:
        engine = self.cel_engine_for(api_version, kind)
        if engine is None:
            return None
        report = engine.evaluate(doc)
        self.cel_totals.add(report)
        return report

    # -- building -------------------------------------------------------------------------

    def _fast_check(self, api_version: str, kind: str, validator: Validator) -> FastCheck | None:
        """The compiled pre-check for the schema ``validator`` holds; None while the kind has
        been seen too few times to repay compiling it, or when it cannot be compiled."""
        key = _gvk(api_version, kind)
        if key not in self._fast_checks:
            seen = self._seen[key] = self._seen.get(key, 0) + 1
            if seen <= self._fast_check_after:
                return None
            schema = validator.schema
            if not isinstance(schema, Mapping):
                self._fast_checks[key] = None
                return None
            if self._fast_compiler is None:
                documents = {}
                if self._core_dir is not None:
                    documents[_CORE_DEFINITIONS_URI] = self._core_definitions()
                self._fast_compiler = FastCheckCompiler(documents)
            crd = self._crd_schema(key) is not None
            self._fast_checks[key] = self._fast_compiler.compile(schema, formats=crd)
        return self._fast_checks[key]

    def _build_validator(self, key: GVK) -> Validator | None:
        validator: Validator
        schema = self._crd_schema(key)
        if schema is not None and self._strict_metadata:
            # CRD schemas leave metadata a bare object; check it as the API server does.
            meta = {"properties": {"metadata": {"$ref": _OBJECT_META_REF}}}
            validator = _CrdValidator({"allOf": [schema, meta]}, registry=self._core_registry())
        elif schema is not None:
            validator = _CrdValidator(schema)
        else:
            core = self._core_schema(key)
            if core is None:
                return None
            validator = _StrictValidator(core, registry=self._core_registry())
        return validator

    def _crd_schema(self, key: GVK) -> dict[str, Any] | None:
        if key in self._crd_schemas:
            return self._crd_schemas[key]
        for path in self._crd_files.get((key[0], key[2]), []):
            if path not in self._loaded_crd_files:
                self._load_crd_file(path)
            if key in self._crd_schemas:
                return self._crd_schemas[key]
        catalog_path = self._catalog_files.get(key)
        if catalog_path is not None:
            self._crd_schemas[key] = _read_json(catalog_path)
            return self._crd_schemas[key]
        return None

    def _load_crd_file(self, path: Path) -> None:
        self._loaded_crd_files.add(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise SchemaStoreError(f"{path}: {exc}") from exc
        converted = _converted_cache.get(content)
        if converted is None:
            converted = _convert_file(content, path)
            _converted_cache.put(content, converted)
        for item in converted:
            self._crd_schemas.setdefault((item.group, item.version, item.kind.lower()), item.schema)

    def _core_schema(self, key: GVK) -> dict[str, Any] | None:
        if self._core_dir is None:
            return None
        group, version, kind = key
        prefix = group.split(".", 1)[0]
        filename = f"{kind}-{prefix}-{version}.json" if group else f"{kind}-{version}.json"
        path = self._core_dir / filename
        if not path.is_file():
            return None
        schema = _read_json(path)
        # File names keep only the first label of the group: confirm the exact GVK.
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if not any(
            g.get("group", "") == group
            and g.get("version") == version
            and str(g.get("kind", "")).lower() == kind
            for g in gvks
        ):
            return None
        return schema

    def _core_registry(self) -> Registry[Any]:
        if self._registry is None:
            if self._core_dir is None:
                raise SchemaStoreError("core schemas are disabled (include_core=False)")
            self._registry = Registry().with_resource(
                _CORE_DEFINITIONS_URI, Resource.from_contents(self._core_definitions())
            )
        return self._registry

    def _core_definitions(self) -> dict[str, Any]:
        if self._definitions is None:
            if self._core_dir is None:
                raise SchemaStoreError("core schemas are disabled (include_core=False)")
            self._definitions = _read_json(self._core_dir / "_definitions.json")
        return self._definitions


def _convert_file(content: bytes, path: Path) -> list[ConvertedSchema]:
    try:
        docs = list(yaml.load_all(content.decode("utf-8"), Loader=yaml.CSafeLoader))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaStoreError(f"{path}: {exc}") from exc
    converted: list[ConvertedSchema] = []
    for doc in docs:
        if not isinstance(doc, Mapping) or doc.get("kind") != "CustomResourceDefinition":
            continue
        try:
            converted.extend(convert_crd(doc, source=str(path)))
        except CRDFormatError as exc:
            raise SchemaStoreError(str(exc)) from exc
    return converted


class _ConvertedCache:
    """Converted CRD schemas on disk, keyed by the CRD file's bytes and the converter.

    Parsing multi-megabyte CRD YAML costs seconds per run; its JSON conversion loads in a
    fraction of that.
    """

    def __init__(self) -> None:
        self._salt: str | None = None

    def _path(self, content: bytes) -> Path | None:
        directory = cache_dir()
        if directory is None:
            return None
        if self._salt is None:
            converter = Path(crd_schema.__file__).read_bytes()
            self._salt = hashlib.sha256(converter).hexdigest()
        key = hashlib.sha256(self._salt.encode() + b"\0" + content).hexdigest()
        return directory / "crd-schemas" / f"{key}.json"

    def get(self, content: bytes) -> list[ConvertedSchema] | None:
        path = self._path(content)
        if path is None:
            return None
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
            return [ConvertedSchema(*item) for item in items]
        except (OSError, ValueError, TypeError):
            return None

    def put(self, content: bytes, converted: list[ConvertedSchema]) -> None:
        path = self._path(content)
        if path is None:
            return
        items = [[c.group, c.version, c.kind, c.schema] for c in converted]
        write_cache_file(path, json.dumps(items, separators=(",", ":")).encode("utf-8"))


_converted_cache = _ConvertedCache()


def core_schema_dir(kubernetes_version: str) -> Path:
    """kubernetes-validate's ``v<x.y.z>-local-strict`` directory for the newest shipped
    version not newer than ``kubernetes_version``."""
    wanted = _major_minor(kubernetes_version)
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    if not isinstance(root, Path) or not root.is_dir():
        raise SchemaStoreError("kubernetes_validate's schema directory is not on the filesystem")
    shipped = {
        _major_minor(p.name[1:].removesuffix("-local-strict")): p
        for p in root.iterdir()
        if p.name.startswith("v") and p.name.endswith("-local-strict")
    }
    usable = [v for v in shipped if v <= wanted]
    if not usable:
        raise SchemaStoreError(
            f"no kubernetes-validate schemas for Kubernetes <= {kubernetes_version}"
        )
    return shipped[max(usable)]


def _major_minor(version: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    if match is None:
        raise SchemaStoreError(f"bad Kubernetes version {version!r} (expected x.y or x.y.z)")
    return int(match.group(1)), int(match.group(2))


def _scan_file(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaStoreError(f"{path}: {exc}") from exc
    if "CustomResourceDefinition" not in text:
        return []  # kustomization.yaml and other non-CRD YAML
    try:
        return scan_crd_kinds(text)
    except yaml.YAMLError as exc:
        raise SchemaStoreError(f"{path}: {exc}") from exc


def _gvk(api_version: str, kind: str) -> GVK:
    group, _, version = api_version.rpartition("/")  # "v1" -> core group ""
    return group, version, kind.lower()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaStoreError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaStoreError(f"{path}: a schema must be a JSON object")
    return data


def _pointer(parts: Sequence[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(pointer: str) -> list[str | int]:
    """A JSON pointer's parts (digits as indices: user_path compares them as text)."""
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


def _describe(error: ValidationError) -> list[tuple[list[Any], str]]:
    """(path, message) pairs for one top-level error."""
    if error.context:
        # anyOf/oneOf: report the branch error that got furthest, not "not valid under any".
        error = best_match(error.context) or error
    path = list(error.absolute_path)
    schema, instance = error.schema, error.instance
    if (
        error.validator == "additionalProperties"
        and error.validator_value is False
        and isinstance(schema, Mapping)
        and isinstance(instance, Mapping)
    ):
        known = schema.get("properties", {})
        extra = [k for k in instance if k not in known]
        if extra:
            return [([*path, k], f"unknown field {k!r}") for k in extra]
    return [(path, str(error.message))]
