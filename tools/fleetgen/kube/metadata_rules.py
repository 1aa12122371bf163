"""The API server's ObjectMeta rules: name formats per kind, namespaces, label and
annotation syntax, finalizers, owner references; and embedded resources in CRD schemas.

Read from apimachinery (``pkg/api/validation/objectmeta.go``, ``pkg/util/validation``,
``pkg/api/validate/content``) and apiextensions-apiserver (``customresource/validator.go``:
a custom resource's name is a DNS subdomain; ``schema/objectmeta/validation.go``: an
``x-kubernetes-embedded-resource`` needs ``apiVersion`` and ``kind``, and its metadata
follows the same rules with a name that only has to be a path segment). Go's ``$`` anchors
at the very end, so every pattern is matched with ``fullmatch``.

A namespace is not required here: rendered manifests leave it to the Argo CD destination.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fleetgen.kube.spine import EMBEDDED, spine

__all__ = ["MetadataViolation", "embedded_resource_violations", "metadata_violations"]

Path = tuple[str | int, ...]

_LABEL_KEY_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_TOTAL_ANNOTATIONS = 256 * 1024
_ORPHAN, _FOREGROUND = "orphan", "foregroundDeletion"


@dataclass(frozen=True, slots=True)
class MetadataViolation:
    path: Path
    message: str


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def dns1123_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1123_LABEL.fullmatch(value):
        if _DNS1123_SUBDOMAIN.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character"
            )
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character"
        )
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1035_LABEL.fullmatch(value):
        errs.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            "start with an alphabetic character, and end with an alphanumeric character"
        )
    return errs


def path_segment_prefix(value: str) -> list[str]:
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return path_segment_prefix(value)


def qualified_name(value: str) -> list[str]:
    """``IsQualifiedName`` (label and annotation keys, finalizers)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character with an optional DNS subdomain "
            "prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _LABEL_KEY_NAME.fullmatch(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character"
        )
    return errs


def label_value(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _LABEL_VALUE.fullmatch(value):
        errs.append(
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character"
        )
    return errs


NameRule = Callable[[str], list[str]]


def _as_prefix(rule: NameRule) -> NameRule:
    """A generateName prefix: a trailing dash is allowed (``maskTrailingDash``)."""

    def check(value: str) -> list[str]:
        if len(value) > 1 and value.endswith("-"):
            value = value[:-1] + "a"
        return rule(value)

    return check


_RBAC = "rbac.authorization.k8s.io"
# Curated from kubernetes pkg/apis/*/validation (ValidateServiceName = NameIsDNS1035Label,
# ValidateNamespaceName = NameIsDNSLabel, ValidateRBACName = IsValidPathSegmentName); every
# other kind, custom resources included, names a DNS subdomain.
NAME_RULES: dict[tuple[str, str], NameRule] = {
    ("", "Service"): dns1035_label,
    ("", "Namespace"): dns1123_label,
    (_RBAC, "Role"): path_segment_name,
    (_RBAC, "ClusterRole"): path_segment_name,
    (_RBAC, "RoleBinding"): path_segment_name,
    (_RBAC, "ClusterRoleBinding"): path_segment_name,
}


def name_rule(api_version: str, kind: str) -> NameRule:
    group = api_version.rpartition("/")[0]
    return NAME_RULES.get((group, kind), dns1123_subdomain)


# The CronJob controller names each Job ``<cronjob>-<11 characters>``; a Job name is at most
# 63 (batch validation: ``DNS1035LabelMaxLength-11``).
_CRONJOB_NAME_MAX = 63 - 11


def metadata_violations(doc: Mapping[str, Any]) -> list[MetadataViolation]:
    """The root ``metadata`` of a resource, checked as the API server does on create."""
    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    meta = doc.get("metadata")
    found = _object_meta(meta, name_rule(api_version, kind), ("metadata",), True)
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(name, str) and name:
        found.extend(_kind_name_rules(api_version, kind, name, doc))
    return found


def _kind_name_rules(
    api_version: str, kind: str, name: str, doc: Mapping[str, Any]
) -> list[MetadataViolation]:
    """Name rules that depend on more than the name (apiextensions' and batch's validation)."""
    group = api_version.rpartition("/")[0]
    where = ("metadata", "name")
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        spec = doc.get("spec")
        names = spec.get("names") if isinstance(spec, Mapping) else None
        plural = names.get("plural") if isinstance(names, Mapping) else None
        crd_group = spec.get("group") if isinstance(spec, Mapping) else None
        if name != f"{plural}.{crd_group}":
            message = f'Invalid value: {name!r}: must be spec.names.plural+"."+spec.group'
            return [MetadataViolation(where, message)]
    if (group, kind) == ("batch", "CronJob") and len(name) > _CRONJOB_NAME_MAX:
        message = f"Invalid value: {name!r}: must be no more than {_CRONJOB_NAME_MAX} characters"
        return [MetadataViolation(where, message)]
    return []


def embedded_resource_violations(
    doc: Any, schema: Mapping[str, Any] | None
) -> list[MetadataViolation]:
    """Every ``x-kubernetes-embedded-resource`` object below the root of ``doc``."""
    found: list[MetadataViolation] = []
    if isinstance(schema, Mapping):
        _walk(doc, schema, (), found, root=True)
    return found


def _walk(
    value: Any, schema: Mapping[str, Any], path: Path, found: list[MetadataViolation], root: bool
) -> None:
    embedded = schema.get("x-kubernetes-embedded-resource") is True
    if embedded and not root and isinstance(value, dict):
        found.extend(_embedded(value, path))
    if not spine(schema) & EMBEDDED:
        return  # no embedded resource below this node
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if isinstance(properties, dict) else None
            if sub is None and isinstance(additional, dict):
                sub = additional
            if isinstance(sub, dict):
                _walk(item, sub, (*path, key), found, root=False)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _walk(item, items, (*path, index), found, root=False)


def _embedded(value: dict[str, Any], path: Path) -> list[MetadataViolation]:
    found = [
        MetadataViolation((*path, key), "Required value")
        for key in ("apiVersion", "kind")
        if key not in value
    ]
    api_version, kind = value.get("apiVersion"), value.get("kind")
    if "apiVersion" in value:
        if not isinstance(api_version, str):
            found.append(MetadataViolation((*path, "apiVersion"), "must be a string"))
        elif not api_version:
            found.append(MetadataViolation((*path, "apiVersion"), "must not be empty"))
        elif api_version.count("/") > 1:
            message = f"unexpected GroupVersion string: {api_version}"
            found.append(MetadataViolation((*path, "apiVersion"), message))
    if "kind" in value:
        if not isinstance(kind, str):
            found.append(MetadataViolation((*path, "kind"), "must be a string"))
        elif not kind:
            found.append(MetadataViolation((*path, "kind"), "must not be empty"))
        elif errs := dns1035_label(kind.lower()):
            message = "may have mixed case, but should otherwise match: " + ",".join(errs)
            found.append(MetadataViolation((*path, "kind"), message))
    if "metadata" in value:
        meta = value["metadata"]
        if meta is not None and not isinstance(meta, dict):
            found.append(MetadataViolation((*path, "metadata"), "must be an object"))
        else:
            found.extend(_object_meta(meta, path_segment_name, (*path, "metadata"), False))
    return found


def _object_meta(meta: Any, rule: NameRule, path: Path, root: bool) -> list[MetadataViolation]:
    """``ValidateObjectMetaAccessor``; fields of a wrong type are the schema's to report."""
    meta = meta if isinstance(meta, dict) else {}
    found: list[MetadataViolation] = []

    def add(field: Path, messages: list[str], value: Any) -> None:
        for message in messages:
            found.append(MetadataViolation((*path, *field), f"Invalid value: {value!r}: {message}"))

    name, generate = meta.get("name"), meta.get("generateName")
    if isinstance(generate, str) and generate:
        add(("generateName",), _as_prefix(rule)(generate), generate)
    if isinstance(name, str) and name:
        add(("name",), rule(name), name)
    elif root and not (isinstance(generate, str) and generate):
        found.append(
            MetadataViolation((*path, "name"), "Required value: name or generateName is required")
        )
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        add(("namespace",), dns1123_label(namespace), namespace)
    generation = meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation < 0:
        add(("generation",), ["must be greater than or equal to 0"], generation)
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            add(("labels",), qualified_name(str(key)), key)
            if isinstance(value, str):
                add(("labels",), label_value(value), value)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        size = 0
        for key, value in annotations.items():
            add(("annotations",), qualified_name(str(key).lower()), key)
            size += len(str(key).encode()) + len(str(value).encode() if value is not None else b"")
        if size > _TOTAL_ANNOTATIONS:
            message = f"Too long: may not be more than {_TOTAL_ANNOTATIONS} bytes"
            found.append(MetadataViolation((*path, "annotations"), message))
    found.extend(_finalizers(meta.get("finalizers"), path))
    found.extend(_owner_references(meta.get("ownerReferences"), path))
    return found


def _finalizers(finalizers: Any, path: Path) -> list[MetadataViolation]:
    if not isinstance(finalizers, list):
        return []
    found = [
        MetadataViolation((*path, "finalizers"), f"Invalid value: {f!r}: {message}")
        for f in finalizers
        if isinstance(f, str)
        for message in qualified_name(f)
    ]
    if _ORPHAN in finalizers and _FOREGROUND in finalizers:
        message = f"Invalid value: finalizer {_ORPHAN} and {_FOREGROUND} cannot be both set"
        found.append(MetadataViolation((*path, "finalizers"), message))
    return found


def _owner_references(refs: Any, path: Path) -> list[MetadataViolation]:
    if not isinstance(refs, list):
        return []
    found: list[MetadataViolation] = []
    where = (*path, "ownerReferences")
    controller = ""
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        group, _, version = api_version.rpartition("/")
        if not version:
            found.append(
                MetadataViolation(
                    (*where, "apiVersion"), "Invalid value: version must not be empty"
                )
            )
        for key in ("kind", "name", "uid"):
            if not ref.get(key):
                found.append(MetadataViolation((*where, key), "Invalid value: must not be empty"))
        if (group, version, kind) == ("", "v1", "Event"):
            found.append(
                MetadataViolation(
                    where, "Invalid value: /v1, Kind=Event is disallowed from being an owner"
                )
            )
        if ref.get("controller") is True:
            current = f"{kind}/{ref.get('name', '')}"
            if controller:
                message = (
                    "Invalid value: Only one reference can have Controller set to true. "
                    f'Found "true" in references for {controller} and {current}'
                )
                found.append(MetadataViolation(where, message))
            else:
                controller = current
    return found
