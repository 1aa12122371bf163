"""CRD conversion, strict validation (CRDs and core kinds) and strict YAML loading."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube.crd_schema import (
    convert_crd,
    scan_crd_kinds,
    schema_filename,
    write_catalog,
)
from fleetgen.kube.manifests import ManifestError, load_manifests
from fleetgen.kube.schema_store import SchemaStore, SchemaStoreError
from tests.kube_fixtures import crd_text

WIDGET_CRD = crd_text(
    "Widget",
    "widgets",
    textwrap.dedent(
        """\
        spec:
          type: object
          x-kubernetes-validations:
          - {rule: "self.replicas <= 10", message: too many}
          properties:
            replicas: {type: integer}
            port: {type: string, format: int-or-string}
            target:
              anyOf: [{type: integer}, {type: string}]
              x-kubernetes-int-or-string: true
            note: {type: string, nullable: true}
            mode: {type: string, enum: [a, b], nullable: true}
            config:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties:
                known: {type: string}
            nested:
              type: object
              properties:
                inner:
                  type: object
                  properties:
                    value: {type: string}
            address:
              type: object
              properties:
                type: {type: string}
                value: {type: string}
              oneOf:
              - properties: {type: {enum: [IP]}, value: {pattern: "^[0-9.]+$"}}
              - properties: {type: {not: {enum: [IP]}}}
        """
    ),
    more_versions=textwrap.dedent(
        """\
        - name: v1alpha1
          served: false
          storage: false
          schema:
            openAPIV3Schema: {type: object}
        """
    ),
)
WIDGET: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w", "namespace": "ns"},
    "spec": {"replicas": 1, "port": 80, "target": "http", "note": None, "mode": None},
}


def widget(**spec: Any) -> dict[str, Any]:
    doc = copy.deepcopy(WIDGET)
    doc["spec"].update(spec)
    return doc


@pytest.fixture(scope="module")
def widget_crd() -> dict[str, Any]:
    loaded = yaml.safe_load(WIDGET_CRD)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SchemaStore:
    crd_dir = tmp_path_factory.mktemp("crds")
    # Multi-document file: a non-CRD document first, then the CRD.
    (crd_dir / "nested").mkdir()
    (crd_dir / "nested" / "bundle.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n" + WIDGET_CRD
    )
    (crd_dir / "kustomization.yaml").write_text("resources: [nested/bundle.yaml]\n")
    return SchemaStore.load([crd_dir])


def paths(store: SchemaStore, doc: dict[str, Any]) -> list[str]:
    return [v.path for v in store.validate(doc)]


# -- conversion ---------------------------------------------------------------------------


def test_convert_closes_structural_objects_only(widget_crd: dict[str, Any]) -> None:
    original = copy.deepcopy(widget_crd)
    [converted] = convert_crd(widget_crd)
    assert (converted.group, converted.version, converted.kind) == ("example.com", "v1", "Widget")
    root = converted.schema
    assert root["additionalProperties"] is False
    spec = root["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["nested"]["properties"]["inner"]["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]["config"]  # preserve-unknown-fields
    assert "additionalProperties" not in root["properties"]["metadata"]  # no properties
    for branch in spec["properties"]["address"]["oneOf"]:
        assert "additionalProperties" not in branch
    assert spec["x-kubernetes-validations"] == [
        {"rule": "self.replicas <= 10", "message": "too many"}
    ]
    assert spec["properties"]["port"]["type"] == ["integer", "string"]
    assert "format" not in spec["properties"]["port"]
    assert spec["properties"]["note"]["type"] == ["string", "null"]
    assert spec["properties"]["mode"]["enum"] == ["a", "b", None]
    assert widget_crd == original  # input untouched


def test_convert_skips_unserved_versions_and_rejects_non_crds(widget_crd: dict[str, Any]) -> None:
    assert [c.version for c in convert_crd(widget_crd)] == ["v1"]
    with pytest.raises(ValueError, match="not CustomResourceDefinition"):
        convert_crd({"kind": "ConfigMap"})


def test_schema_filename_uses_catalog_layout() -> None:
    assert (
        schema_filename("keda.sh", "ScaledObject", "v1alpha1")
        == "keda.sh/scaledobject_v1alpha1.json"
    )


def test_scan_finds_every_crd_in_a_multi_document_file() -> None:
    other = WIDGET_CRD.replace("Widget", "Gadget").replace("widgets", "gadgets")
    text = "# comment\n---\n" + WIDGET_CRD + "---\nkind: ConfigMap\n---\n" + other
    assert scan_crd_kinds(text) == [("example.com", "Widget"), ("example.com", "Gadget")]


# -- CRD validation ------------------------------------------------------------------------


def test_valid_widget_passes(store: SchemaStore) -> None:
    assert store.validate(WIDGET) == []


def test_root_typo_is_caught(store: SchemaStore) -> None:
    doc = widget()
    doc["sepc"] = doc.pop("spec")
    [violation] = store.validate(doc)
    assert (violation.kind, violation.name, violation.namespace) == ("Widget", "w", "ns")
    assert violation.path == "/sepc"
    assert "unknown field" in violation.message


def test_unknown_nested_field_is_reported_at_its_path(store: SchemaStore) -> None:
    doc = widget(nested={"inner": {"value": "x", "vaule": "y"}})
    assert paths(store, doc) == ["/spec/nested/inner/vaule"]


def test_preserve_unknown_fields_is_honoured(store: SchemaStore) -> None:
    assert store.validate(widget(config={"known": "k", "anything": {"goes": [1, 2]}})) == []
    assert paths(store, widget(config={"known": 1})) == ["/spec/config/known"]


@pytest.mark.parametrize("field", ["port", "target"])
def test_int_or_string_accepts_both(store: SchemaStore, field: str) -> None:
    assert store.validate(widget(**{field: 8080})) == []
    assert store.validate(widget(**{field: "http"})) == []
    assert set(paths(store, widget(**{field: 1.5}))) == {f"/spec/{field}"}


def test_nullable_keeps_null_and_a_non_nullable_null_is_dropped(store: SchemaStore) -> None:
    assert store.validate(widget(note=None, mode=None)) == []
    # The API server drops a non-nullable null without a default while decoding
    # (PruneNonNullableNullsWithoutDefaults): the field is then simply absent.
    assert store.validate(widget(replicas=None)) == []
    assert paths(store, widget(mode="c")) == ["/spec/mode"]


def test_one_of_reports_the_branch_error_not_a_summary(store: SchemaStore) -> None:
    assert store.validate(widget(address={"type": "Hostname", "value": "a.example"})) == []
    [violation] = store.validate(widget(address={"type": "IP", "value": "a.example"}))
    assert violation.path == "/spec/address/value"
    assert "does not match" in violation.message


def test_crd_metadata_is_checked_like_object_meta(store: SchemaStore) -> None:
    doc = widget()
    doc["metadata"]["lables"] = {"a": "b"}
    doc["metadata"]["annotations"] = {"n": 1}
    assert paths(store, doc) == ["/metadata/annotations/n", "/metadata/lables"]


def test_missing_schema_is_an_error_unless_ignored(store: SchemaStore) -> None:
    doc = {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}}
    [violation] = store.validate(doc)
    assert violation.message == "no schema for example.com/v2/Widget"
    assert store.validate(doc, ignore_missing=True) == []
    unserved = {"apiVersion": "example.com/v1alpha1", "kind": "Widget", "metadata": {"name": "w"}}
    assert store.validator_for("example.com/v1alpha1", "Widget") is None
    assert store.validate(unserved)[0].message.startswith("no schema for")


def test_validators_are_built_once(store: SchemaStore) -> None:
    first = store.validator_for("example.com/v1", "Widget")
    assert first is not None
    assert store.validator_for("example.com/v1", "Widget") is first


def test_converted_catalog_directory_is_read(widget_crd: dict[str, Any], tmp_path: Path) -> None:
    written = write_catalog(convert_crd(widget_crd), tmp_path)
    assert written == [tmp_path / "example.com" / "widget_v1.json"]
    assert json.loads(written[0].read_text())["additionalProperties"] is False
    catalog_store = SchemaStore.load([tmp_path])
    assert catalog_store.validate(WIDGET) == []
    assert paths(catalog_store, widget(nested={"x": 1})) == ["/spec/nested/x"]


def test_go_only_regex_does_not_break_validation(tmp_path: Path) -> None:
    crd = WIDGET_CRD.replace('value: {pattern: "^[0-9.]+$"}', 'value: {pattern: "^(?i)(ip|v4)$"}')
    (tmp_path / "crd.yaml").write_text(crd)
    go_store = SchemaStore.load([tmp_path])
    assert go_store.validate(widget(address={"type": "IP", "value": "V4"})) == []
    assert paths(go_store, widget(address={"type": "IP", "value": "v6"})) == ["/spec/address/value"]


def test_bad_inputs_raise_store_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaStoreError, match="no such file"):
        SchemaStore.load([tmp_path / "missing"])
    with pytest.raises(SchemaStoreError, match=r"Kubernetes <= 1\.2\.0"):
        SchemaStore.load([], kubernetes_version="1.2.0")


# -- core kinds ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def core() -> SchemaStore:
    return SchemaStore.load([])


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


def test_valid_deployment_passes(core: SchemaStore) -> None:
    assert core.validate(DEPLOYMENT) == []


def test_deployment_typo_is_caught(core: SchemaStore) -> None:
    doc = copy.deepcopy(DEPLOYMENT)
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    doc["spec"]["replicas"] = "2"
    assert paths(core, doc) == [
        "/spec/replicas",
        "/spec/template/spec/containers/0/imagePullPolcy",
    ]


def test_valid_network_policy_passes(core: SchemaStore) -> None:
    doc: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "np", "namespace": "llm"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"team": "gw"}}}],
                    "ports": [{"port": 8080, "protocol": "TCP"}],
                }
            ],
        },
    }
    assert core.validate(doc) == []
    doc["spec"]["ingress"][0]["ports"][0]["port"] = 8080.5
    assert paths(core, doc) == ["/spec/ingress/0/ports/0/port"]


def test_core_lookup_checks_the_full_group(core: SchemaStore) -> None:
    # networkpolicy-networking-v1.json must not answer for another "networking.*" group.
    assert core.validator_for("networking.example.io/v1", "NetworkPolicy") is None
    assert core.validator_for("v1", "ConfigMap") is not None


# -- strict YAML loading -------------------------------------------------------------------


def test_duplicate_keys_are_rejected_with_position() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '1'\n  a: '2'\n"
    with pytest.raises(ManifestError) as caught:
        load_manifests(text, source="cm.yaml")
    error = caught.value
    assert (error.source, error.line, error.column) == ("cm.yaml", 5, 3)
    assert "duplicate key 'a'" in error.message
    assert str(error).startswith("cm.yaml:5:3:")


def test_duplicate_top_level_key_in_a_later_document() -> None:
    text = "kind: A\n---\nkind: B\nkind: C\n"
    with pytest.raises(ManifestError) as caught:
        load_manifests(text, source="x.yaml")
    assert caught.value.line == 4


def test_merge_keys_may_be_overridden() -> None:
    text = "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n"
    assert load_manifests(text, source="m.yaml") == [
        {"base": {"x": 1, "y": 2}, "item": {"x": 1, "y": 3}}
    ]


def test_empty_documents_are_skipped_and_dates_stay_strings() -> None:
    text = "---\n---\nkind: A\nmetadata: {annotations: {since: 2024-01-01}}\n---\n\n"
    assert load_manifests(text, source="d.yaml") == [
        {"kind": "A", "metadata": {"annotations": {"since": "2024-01-01"}}}
    ]


def test_non_mapping_documents_and_syntax_errors_are_reported() -> None:
    with pytest.raises(ManifestError, match="must be a mapping"):
        load_manifests("kind: A\n---\n- 1\n", source="l.yaml")
    with pytest.raises(ManifestError) as caught:
        load_manifests("kind: A\nspec: [1, 2\n", source="s.yaml")
    assert caught.value.line >= 2
