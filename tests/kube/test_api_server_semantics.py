"""Rendered validation agrees with the API server: accepted and refused cases per semantic.

Each case is modelled on the upstream code that decides it (apiextensions-apiserver's
defaulting, listtype and objectmeta packages, apimachinery's name and label rules,
kube-openapi's formats): the structural schema's defaults first, then the schema, the
list types, the metadata and embedded-resource rules, then CEL. The fixture CRD below
holds one field per semantic; the real upstream CRDs provide the issue's own examples.
"""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetgen.kube.crd_schema import convert_openapi_schema
from fleetgen.kube.defaulting import apply_defaults
from fleetgen.kube.schema_store import SchemaStore
from tests.conftest import RunCli, copy_example, crds_dir
from tests.kube_fixtures import crd_text

GADGET_PROPERTIES = """\
spec:
  type: object
  x-kubernetes-validations:
  - {rule: "self.mode != 'slow'", message: slow mode is off}
  properties:
    mode: {type: string, default: fast, enum: [fast, slow]}
    tls:
      type: object
      default: {}
      properties:
        secretName: {type: string, default: tls-cert}
        port: {type: integer, default: 443, maximum: 65535}
    note: {type: string, nullable: true, default: kept}
    plain: {type: string}
    limits:
      type: object
      additionalProperties: {type: integer, default: 7}
    steps:
      type: array
      items:
        type: object
        default: {name: step}
        properties: {name: {type: string}}
    ports:
      type: array
      maxItems: 8
      x-kubernetes-list-type: map
      x-kubernetes-list-map-keys: [port, protocol]
      items:
        type: object
        required: [port]
        properties:
          port: {type: integer}
          protocol: {type: string, default: TCP}
    headers:
      type: array
      x-kubernetes-list-type: map
      x-kubernetes-list-map-keys: [name]
      items:
        type: object
        properties: {name: {type: string}, value: {type: string}}
    names:
      type: array
      x-kubernetes-list-type: set
      items: {type: string}
    numbers:
      type: array
      x-kubernetes-list-type: set
      items: {type: number}
    mixed:
      type: array
      x-kubernetes-list-type: set
      items: {x-kubernetes-int-or-string: true}
    pairs:
      type: array
      x-kubernetes-list-type: set
      items:
        type: array
        x-kubernetes-list-type: atomic
        items: {type: integer}
    anything:
      type: array
      x-kubernetes-list-type: atomic
      items: {type: string}
    selector:
      type: object
      x-kubernetes-map-type: atomic
      additionalProperties: {type: string}
    target:
      x-kubernetes-int-or-string: true
      allOf:
      - anyOf: [{type: integer}, {type: string}]
      - anyOf: [{type: integer, minimum: 1}, {type: string, pattern: "^[a-z]+$"}]
    open:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        known: {type: integer}
    empty: {type: object}
    template:
      type: object
      x-kubernetes-embedded-resource: true
      x-kubernetes-preserve-unknown-fields: true
    templates:
      type: array
      items:
        type: object
        x-kubernetes-embedded-resource: true
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
    when: {type: string, format: date-time}
    day: {type: string, format: date}
    data: {type: string, format: byte}
    url: {type: string, format: uri}
    ip: {type: string, format: ipv4}
    count: {type: integer, format: int32}
"""
# Only a CRD the API server would refuse has a default that fails its own schema; one
# imported from a file can, and the finding must point at what the user wrote.
FAULTY_PROPERTIES = """\
spec:
  type: object
  properties:
    host: {type: string}
    tls:
      type: object
      default: {}
      required: [secretName]
      properties: {secretName: {type: string}}
"""
GADGET_CRD = crd_text("Gadget", "gadgets", GADGET_PROPERTIES)
FAULTY_CRD = crd_text("Faulty", "faulties", FAULTY_PROPERTIES)


def gadget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g", "namespace": "ns"},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SchemaStore:
    directory = tmp_path_factory.mktemp("crds")
    (directory / "gadget.yaml").write_text(GADGET_CRD)
    (directory / "faulty.yaml").write_text(FAULTY_CRD)
    return SchemaStore.load([directory], fast_check_after=0)


@pytest.fixture(scope="module")
def upstream() -> SchemaStore:
    return SchemaStore.load([crds_dir()], fast_check_after=0)


def found(
    store: SchemaStore, doc: dict[str, Any], rule: str | None = None
) -> list[tuple[str, str]]:
    return [
        (v.path, v.message) for v in store.validate(doc, cel=True) if rule is None or v.rule == rule
    ]


def spec_schema(store: SchemaStore) -> dict[str, Any]:
    schema = store._crd_schema(("example.com", "v1", "gadget"))
    assert schema is not None
    return schema


# -- defaults -----------------------------------------------------------------------------


def test_defaults_fill_absent_fields_nested_and_in_items_and_map_values(
    store: SchemaStore,
) -> None:
    doc = gadget(steps=[None, {"name": "x"}], limits={"cpu": None, "gpu": 2})
    result = apply_defaults(doc, spec_schema(store))
    spec = result.value["spec"]
    assert spec["mode"] == "fast"
    assert spec["tls"] == {"secretName": "tls-cert", "port": 443}  # {} then its own defaults
    assert spec["note"] == "kept"
    assert spec["steps"] == [{"name": "step"}, {"name": "x"}]
    assert spec["limits"] == {"cpu": 7, "gpu": 2}
    assert ("spec", "tls") in result.paths and ("spec", "steps", 0) in result.paths
    assert ("spec", "limits", "gpu") not in result.paths
    assert doc["spec"] == {"steps": [None, {"name": "x"}], "limits": {"cpu": None, "gpu": 2}}
    assert found(store, doc) == []


def test_null_is_kept_where_nullable_defaulted_or_dropped_otherwise(store: SchemaStore) -> None:
    schema = spec_schema(store)
    spec = apply_defaults(gadget(note=None, mode=None, plain=None), schema).value["spec"]
    assert spec["note"] is None  # nullable: null stays null, its default does not apply
    assert spec["mode"] == "fast"  # not nullable, with a default: defaulted
    assert "plain" not in spec  # not nullable, no default: dropped while decoding
    assert found(store, gadget(note=None, mode=None, plain=None)) == []
    # A null list item without a default stays, and is then invalid.
    assert found(store, gadget(names=[None])) == [("/spec/names/0", "None is not of type 'string'")]


def test_gateway_address_without_type_takes_the_default_and_is_accepted(
    upstream: SchemaStore,
) -> None:
    doc = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "g", "namespace": "n"},
        "spec": {
            "gatewayClassName": "eg",
            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
        },
    }
    accepted = [
        {"value": "10.0.0.1"},
        {"type": "IPAddress", "value": "fd00::1"},
        {"type": "Hostname", "value": "gw.example.com"},
    ]
    for address in accepted:
        doc["spec"]["addresses"] = [address]
        assert found(upstream, doc) == [], address
    # Defaulted to IPAddress, a host name is no IP address: the first oneOf branch fails.
    doc["spec"]["addresses"] = [{"value": "gw.example.com"}]
    [(path, _)] = found(upstream, doc)
    assert path == "/spec/addresses/0/value"


def test_a_violation_inside_a_default_is_reported_at_the_users_object(
    store: SchemaStore,
) -> None:
    doc = {
        "apiVersion": "example.com/v1",
        "kind": "Faulty",
        "metadata": {"name": "f"},
        "spec": {"host": "a.example.com"},
    }
    [violation] = store.validate(doc)
    assert (violation.path, violation.rule) == ("/spec", "defaulted")
    assert violation.message == (
        "the default of /spec/tls is invalid: 'secretName' is a required property"
    )
    doc["spec"]["tls"] = {"secretName": "s"}
    assert store.validate(doc) == []


def test_cel_sees_defaults_and_is_blocked_by_the_api_servers_blocking_errors(
    store: SchemaStore,
) -> None:
    assert found(store, gadget(), "cel") == []
    assert found(store, gadget(mode="slow"), "cel") == [("/spec", "slow mode is off")]
    before = store.cel_totals.blocked
    # maxItems (TooMany), type (TypeInvalid) and required (Required) errors stop CEL.
    for broken in ({"ports": [{"port": p} for p in range(9)]}, {"count": "x"}, {"ports": [{}]}):
        assert found(store, gadget(mode="slow", **broken), "cel") == [], broken
    assert store.cel_totals.blocked == before + 3
    # A pattern or format error does not.
    assert found(store, gadget(mode="slow", when="yesterday"), "cel") == [
        ("/spec", "slow mode is off")
    ]


# -- list types ---------------------------------------------------------------------------


def test_list_map_refuses_a_repeated_key_after_defaulting(store: SchemaStore) -> None:
    assert found(store, gadget(ports=[{"port": 80}, {"port": 80, "protocol": "UDP"}])) == []
    # The first port's protocol defaults to TCP: the two entries then share (80, TCP).
    assert found(store, gadget(ports=[{"port": 80}, {"port": 80, "protocol": "TCP"}])) == [
        ("/spec/ports/1", 'Duplicate value: {"port": 80, "protocol": "TCP"}')
    ]


def test_list_map_single_key_unspecified_null_and_non_objects(store: SchemaStore) -> None:
    assert found(store, gadget(headers=[{"name": "a"}, {"name": "b"}, {"value": "x"}])) == []
    # A non-nullable null key is dropped while decoding: the key is then unspecified.
    assert found(store, gadget(headers=[{"value": "x"}, {"name": None}])) == [
        ("/spec/headers/1", "Duplicate value: {}")
    ]
    assert found(store, gadget(headers=[{"value": "x"}, {"value": "y"}])) == [
        ("/spec/headers/1", "Duplicate value: {}")
    ]
    # Reported once, at the second occurrence, however often it repeats.
    assert found(store, gadget(headers=[{"name": "a"}] * 3)) == [
        ("/spec/headers/1", 'Duplicate value: {"name": "a"}')
    ]
    duplicates = found(store, gadget(headers=["a", {"name": "b"}]), "list-type")
    assert duplicates == [
        ("/spec/headers/0", "Invalid value: must be an object for an array of list-type map")
    ]


def test_list_set_compares_by_value_and_type(store: SchemaStore) -> None:
    assert found(store, gadget(names=["a", "b", "a", "a"])) == [
        ("/spec/names/2", 'Duplicate value: "a"')
    ]
    assert found(store, gadget(mixed=[1, "1"])) == []  # an integer is no string
    # YAML reaches the API server as JSON, where 1.0 is the number 1.
    assert found(store, gadget(numbers=[1, 1.0])) == [("/spec/numbers/1", "Duplicate value: 1")]
    assert found(store, gadget(numbers=[1.5, 2.5])) == []
    assert found(store, gadget(pairs=[[1, 2], [2, 1]])) == []
    assert found(store, gadget(pairs=[[1, 2], [1, 2]])) == [
        ("/spec/pairs/1", "Duplicate value: [1, 2]")
    ]


def test_atomic_lists_and_map_types_accept_repeats(store: SchemaStore) -> None:
    assert found(store, gadget(anything=["a", "a"], selector={"a": "b", "c": "b"})) == []


def test_httproute_header_match_and_removed_header_repeats_are_refused(
    upstream: SchemaStore,
) -> None:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "n"},
        "spec": {
            "rules": [
                {
                    "matches": [{"headers": [{"name": "x-a", "value": "1"}]}],
                    "filters": [
                        {
                            "type": "RequestHeaderModifier",
                            "requestHeaderModifier": {"remove": ["x-b", "x-c"]},
                        }
                    ],
                }
            ]
        },
    }
    assert found(upstream, route) == []
    rule = route["spec"]["rules"][0]
    rule["matches"][0]["headers"].append({"name": "x-a", "value": "2"})
    rule["filters"][0]["requestHeaderModifier"]["remove"].append("x-b")
    assert found(upstream, route, "list-type") == [
        ("/spec/rules/0/filters/0/requestHeaderModifier/remove/2", 'Duplicate value: "x-b"'),
        ("/spec/rules/0/matches/0/headers/1", 'Duplicate value: {"name": "x-a"}'),
    ]


# -- int-or-string, unknown fields, embedded resources ------------------------------------


def test_int_or_string_under_all_of_is_typed_and_keeps_its_branches(store: SchemaStore) -> None:
    assert found(store, gadget(target=8080)) == []
    assert found(store, gadget(target="http")) == []
    assert found(store, gadget(target=1.5)) != []
    assert found(store, gadget(target=0)) != []  # the second allOf entry still applies
    assert found(store, gadget(target="HTTP")) != []


def test_preserve_unknown_fields_keeps_unknowns_but_checks_known_fields(
    store: SchemaStore,
) -> None:
    assert found(store, gadget(open={"known": 1, "extra": {"deep": True}})) == []
    assert [p for p, _ in found(store, gadget(open={"known": "one"}))] == ["/spec/open/known"]


def test_an_object_without_properties_is_pruned_to_empty(store: SchemaStore) -> None:
    assert found(store, gadget(empty={})) == []
    assert found(store, gadget(empty={"x": 1})) == [("/spec/empty/x", "unknown field 'x'")]


def test_embedded_resources_need_api_version_kind_and_valid_metadata(
    store: SchemaStore,
) -> None:
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"a": "b"}}}
    assert found(store, gadget(template=good, templates=[dict(good, spec={"x": 1})])) == []
    assert found(store, gadget(template={"metadata": {}}), "embedded-resource") == [
        ("/spec/template/apiVersion", "Required value"),
        ("/spec/template/kind", "Required value"),
    ]
    bad = {"apiVersion": "a/b/c", "kind": "Config_Map", "metadata": {"name": ".."}}
    assert [p for p, _ in found(store, gadget(templates=[bad]), "embedded-resource")] == [
        "/spec/templates/0/apiVersion",
        "/spec/templates/0/kind",
        "/spec/templates/0/metadata/name",
    ]
    # An embedded name only has to be a path segment; a root name a DNS subdomain.
    assert found(store, gadget(template=dict(good, metadata={"name": "Upper_Case"}))) == []
    strict = dict(good, unknown=1)
    assert found(store, gadget(templates=[strict])) == [
        ("/spec/templates/0/unknown", "unknown field 'unknown'")
    ]


# -- metadata -----------------------------------------------------------------------------


def test_custom_resource_names_are_dns_subdomains(store: SchemaStore) -> None:
    def named(name: str) -> dict[str, Any]:
        doc = gadget()
        doc["metadata"]["name"] = name
        return doc

    for name in ("g", "a.b-c", "x" * 253, "0abc"):
        assert found(store, named(name), "metadata") == [], name
    for name in ("Gadget", "a_b", "-a", "x" * 254, "a..b", "a\n"):
        assert [p for p, _ in found(store, named(name), "metadata")][:1] == ["/metadata/name"], name


def core(kind: str, name: str, api_version: str = "v1", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **meta}}


@pytest.fixture(scope="module")
def core_store() -> SchemaStore:
    return SchemaStore.load([])


def test_name_rules_differ_per_kind(core_store: SchemaStore) -> None:
    def names(doc: dict[str, Any]) -> list[str]:
        return [v.path for v in core_store.validate(doc) if v.rule == "metadata"]

    assert names(core("ConfigMap", "a.b")) == []
    assert names(core("Service", "a.b")) == ["/metadata/name"]  # DNS-1035 label
    assert names(core("Service", "8b")) == ["/metadata/name"]  # starts with a letter
    assert names(core("Service", "x" * 64)) == ["/metadata/name"]
    assert names(core("Namespace", "8b")) == []  # DNS-1123 label
    assert names(core("Namespace", "a.b")) == ["/metadata/name"]
    rbac = "rbac.authorization.k8s.io/v1"
    assert names(core("ClusterRole", "system:Aggregate_TO", rbac)) == []  # path segment
    assert names(core("ClusterRole", "a/b", rbac)) == ["/metadata/name"]
    assert names(core("ConfigMap", "", generateName="cm-")) == []  # trailing dash: a prefix
    assert names(core("ConfigMap", "")) == ["/metadata/name"]


def test_names_tied_to_the_spec_or_to_what_a_controller_appends(core_store: SchemaStore) -> None:
    def names(doc: dict[str, Any]) -> list[str]:
        return [v.message for v in core_store.validate(doc) if v.rule == "metadata"]

    crd = yaml.safe_load(GADGET_CRD)  # metadata.name: gadgets.example.com
    assert names(crd) == []
    crd["metadata"]["name"] = "gadget.example.com"  # the kind, not the plural
    assert names(crd) == [
        "Invalid value: 'gadget.example.com': must be spec.names.plural+\".\"+spec.group"
    ]
    # A CronJob's Jobs are named <cronjob>-<11 characters>, and a Job name has 63 at most.
    assert names(core("CronJob", "c" * 52, "batch/v1")) == []
    assert names(core("CronJob", "c" * 53, "batch/v1")) == [
        f"Invalid value: '{'c' * 53}': must be no more than 52 characters"
    ]
    assert names(core("Job", "c" * 53, "batch/v1")) == []


def test_labels_annotations_finalizers_and_owner_references(core_store: SchemaStore) -> None:
    def problems(**meta: Any) -> list[str]:
        doc = core("ConfigMap", "cm", **meta)
        return [v.message for v in core_store.validate(doc) if v.rule == "metadata"]

    good_labels = {"app.kubernetes.io/name": "m", "a": "", "x" * 63: "y" * 63}
    assert problems(labels=good_labels, namespace="team-a") == []
    assert len(problems(labels={"a": "has space"})) == 1
    assert len(problems(labels={"a": "y" * 64})) == 1
    assert len(problems(labels={"Example.com/a": "b"})) == 1  # the prefix is lower case
    assert len(problems(labels={"a/b/c": "d"})) == 1
    assert len(problems(labels={"x" * 64: "d"})) == 1
    assert problems(annotations={"Example.com/Note": "any text at all"}) == []  # lowered
    assert len(problems(annotations={"a": "x" * (256 * 1024)})) == 1  # key + value > 256 KiB
    assert len(problems(namespace="Team_A")) == 1
    assert problems(finalizers=["example.com/cleanup"]) == []
    assert len(problems(finalizers=["orphan", "foregroundDeletion"])) == 1
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "1"}
    assert problems(ownerReferences=[owner]) == []
    assert len(problems(ownerReferences=[dict(owner, uid="")])) == 1
    twice = [dict(owner, controller=True), dict(owner, name="e", controller=True)]
    assert len(problems(ownerReferences=twice)) == 1


# -- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        (
            "when",
            ["2026-12-07T12:00:00Z", "2026-12-07t12:00:00.5+01:00"],
            ["2026-12-07", "2026-02-30T00:00:00Z", "2026-12-07T24:00:00Z"],
        ),
        ("day", ["2024-02-29"], ["2023-02-29", "2024-2-1", "20240201"]),
        ("data", ["aGVsbG8=", "YWJj"], ["hello", "aGVsbG8", ""]),
        (
            "url",
            ["https://a.example/x?y=1", "/path", "mailto:a@b"],
            ["relative/path", "http://a b/", "https://a:port/", "%zz"],
        ),
        ("ip", ["10.0.0.1", "010.0.0.1", "::ffff:10.0.0.1"], ["10.0.0", "256.0.0.1", "fd00::1"]),
    ],
)
def test_string_formats_the_api_server_asserts(
    store: SchemaStore, field: str, good: list[str], bad: list[str]
) -> None:
    for value in good:
        assert found(store, gadget(**{field: value})) == [], value
    for value in bad:
        assert [p for p, _ in found(store, gadget(**{field: value}))] == [f"/spec/{field}"], value


def test_integer_formats_are_not_range_checked(store: SchemaStore) -> None:
    assert found(store, gadget(count=2**40)) == []  # int32 is never asserted by the API server


# -- the property: defaulting is idempotent ------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text("ab", max_size=2))


def _values(schema: Any, depth: int = 0, limit: int = 4) -> st.SearchStrategy[Any]:
    """Values shaped by ``schema`` (objects with some of its fields, lists of its items),
    with nulls and stray scalars anywhere, so every defaulting rule is exercised."""
    if not isinstance(schema, dict) or depth > limit:
        return SCALARS
    options: list[st.SearchStrategy[Any]] = [SCALARS]
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        fields = {k: _values(v, depth + 1, limit) for k, v in properties.items()}
        options.append(st.fixed_dictionaries({}, optional=fields))
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        options.append(
            st.dictionaries(
                st.sampled_from(["a", "b"]), _values(additional, depth + 1, limit), max_size=2
            )
        )
    if isinstance(schema.get("items"), dict):
        options.append(st.lists(_values(schema["items"], depth + 1, limit), max_size=3))
    return st.one_of(*options)


GADGET_SCHEMA = convert_openapi_schema(
    yaml.safe_load(GADGET_CRD)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
)


@settings(max_examples=300, deadline=None)
@given(_values(GADGET_SCHEMA))
def test_defaulting_is_idempotent_and_leaves_its_input_alone(doc: Any) -> None:
    before = copy.deepcopy(doc)
    once = apply_defaults(doc, GADGET_SCHEMA)
    twice = apply_defaults(once.value, GADGET_SCHEMA)
    assert doc == before
    assert json.dumps(twice.value, sort_keys=True) == json.dumps(once.value, sort_keys=True)
    assert twice.paths == frozenset()  # nothing is left to default


# Real CRDs whose defaults nest (HTTPRoute: a match's path type and value, a backend's
# weight; Gateway: an address's type, a listener's TLS mode).
DEFAULTED_KINDS = [
    ("gateway.networking.k8s.io", "v1", "httproute"),
    ("gateway.networking.k8s.io", "v1", "gateway"),
]
_STRATEGIES: dict[tuple[str, str, str], st.SearchStrategy[Any]] = {}


@pytest.mark.parametrize("gvk", DEFAULTED_KINDS, ids=[k[2] for k in DEFAULTED_KINDS])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_defaulting_upstream_crds_is_idempotent(
    upstream: SchemaStore, gvk: tuple[str, str, str], data: st.DataObject
) -> None:
    schema = upstream._crd_schema(gvk)
    assert schema is not None
    spec = schema["properties"]["spec"]
    if gvk not in _STRATEGIES:
        _STRATEGIES[gvk] = _values(spec, limit=6)  # deep enough for a match's path
    doc = {"spec": data.draw(_STRATEGIES[gvk])}
    once = apply_defaults(doc, schema)
    twice = apply_defaults(once.value, schema)
    assert json.dumps(twice.value, sort_keys=True) == json.dumps(once.value, sort_keys=True)
    assert twice.paths == frozenset()


# -- through the CLI ----------------------------------------------------------------------

PLATFORM_GADGET = textwrap.dedent(
    """\
    apiVersion: example.com/v1
    kind: Gadget
    metadata:
      name: fleet-gadget
      namespace: llm-gateway
      labels:
        note: not a label value
    spec:
      headers:
      - name: x-tenant
      - name: x-tenant
      templates:
      - metadata: {}
    """
)
PLATFORM_FAULTY = textwrap.dedent(
    """\
    apiVersion: example.com/v1
    kind: Faulty
    metadata:
      name: fleet-faulty
      namespace: llm-gateway
    spec:
      host: a.example.com
    """
)


def test_cli_reports_each_semantic_at_the_base_file_line(tmp_path: Path, run_cli: RunCli) -> None:
    root = copy_example(tmp_path / "repo")
    (root / "base/platform/gadget.yaml").write_text(PLATFORM_GADGET)
    (root / "base/platform/faulty.yaml").write_text(PLATFORM_FAULTY)
    kustomization = root / "base/platform/kustomization.yaml"
    text = kustomization.read_text()
    added = "- gateway.yaml\n- gadget.yaml\n- faulty.yaml\n"
    kustomization.write_text(text.replace("- gateway.yaml\n", added, 1))
    extra = tmp_path / "extra-crds"
    extra.mkdir()
    (extra / "gadget.yaml").write_text(GADGET_CRD)
    (extra / "faulty.yaml").write_text(FAULTY_CRD)
    args = ["validate", "--rendered", "--root", str(root), "--format", "json"]
    result = run_cli([*args, "--schema-dir", str(crds_dir()), "--schema-dir", str(extra)])
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)

    def line_of(text: str, marker: str, start: int = 0) -> int:
        lines = text.splitlines()
        return next(i for i, t in enumerate(lines, 1) if i > start and marker in t)

    first = line_of(PLATFORM_GADGET, "name: x-tenant")
    expected = {
        ("base/platform/gadget.yaml", "FG715", line_of(PLATFORM_GADGET, "name: x-tenant", first)),
        ("base/platform/gadget.yaml", "FG716", line_of(PLATFORM_GADGET, "labels:")),
        ("base/platform/gadget.yaml", "FG718", line_of(PLATFORM_GADGET, "- metadata: {}")),
        ("base/platform/faulty.yaml", "FG717", line_of(PLATFORM_FAULTY, "spec:")),
    }
    got = {(f["file"], f["code"], f["line"]) for f in findings}
    assert expected <= got, findings
    assert {f["code"] for f in findings} == {"FG715", "FG716", "FG717", "FG718"}, findings
