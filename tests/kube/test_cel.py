"""CEL (x-kubernetes-validations): rule collection, Kubernetes semantics, SchemaStore hook."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube import cel as cel_module
from fleetgen.kube.cel import CelEngine, CelReport, CelRule, rule_status
from fleetgen.kube.crd_schema import convert_crd, write_catalog
from fleetgen.kube.manifests import load_manifests
from fleetgen.kube.schema_store import SchemaStore
from tests.conftest import crds_dir
from tests.kube_fixtures import crd_text

GIZMO_CRD = crd_text(
    "Gizmo",
    "gizmos",
    textwrap.dedent(
        """\
        spec:
          type: object
          x-kubernetes-validations:
          - rule: "!has(self.min) || !has(self.max) || self.min <= self.max"
            messageExpression: >-
              'min ' + string(self.min) + ' exceeds max ' + string(self.max)
            reason: FieldValueForbidden
            fieldPath: .min
          properties:
            min: {type: integer}
            max: {type: integer}
            mode:
              type: string
              default: Fast
              x-kubernetes-validations:
              - {rule: "self in ['Fast', 'Safe']", message: bad mode}
            ratio:
              type: number
              x-kubernetes-validations:
              - {rule: "type(self) == double", message: not a double}
            text:
              type: string
              nullable: true
              x-kubernetes-validations:
              - {rule: "size(self) <= 3", message: text too long}
            source:
              type: string
              x-kubernetes-validations:
              - {rule: "self == oldSelf", message: immutable}
            ref:
              type: object
              x-kubernetes-validations:
              - {rule: "!has(self.__namespace__) || self.__namespace__ != 'kube-system'"}
              - {rule: "self.x__dash__y >= 0", message: x-y negative}
              properties:
                namespace: {type: string}
                x-y: {type: integer}
            items:
              type: array
              x-kubernetes-validations:
              - rule: "self.all(a, self.exists_one(b, a.name == b.name))"
                message: item names must be unique
              items:
                type: object
                x-kubernetes-validations:
                - {rule: "self.weight > 0", message: weight must be positive}
                - {rule: "self.name.lowerAscii() == self.name", message: lower-case names}
                properties:
                  name: {type: string}
                  weight: {type: integer}
            labels:
              type: object
              additionalProperties:
                type: string
                x-kubernetes-validations:
                - {rule: "self.split('/').size() <= 2", message: too many slashes}
            links:
              type: object
              x-kubernetes-validations:
              - {rule: "self.home.isURL()", message: not a URL}
              - {rule: "quantity(self.size).isLessThan(quantity('1Gi'))"}
              - {rule: "sets.contains(['a'], [self.home])"}
              - {rule: "self.?home.orValue('') != ''"}
              properties:
                home: {type: string}
                size: {type: string}
            choice:
              type: object
              properties:
                kind: {type: string}
              oneOf:
              - x-kubernetes-validations: [{rule: "self.kind == 'A'"}]
        """
    ),
    validations=textwrap.dedent(
        """\
        - {rule: "self.metadata.name.startsWith('g')", message: name must start with g}
        """
    ),
)
GIZMO: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Gizmo",
    "metadata": {"name": "g1", "namespace": "ns"},
    "spec": {"min": 1, "max": 2, "items": [{"name": "a", "weight": 1}]},
}


def gizmo(**spec: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GIZMO)
    doc["spec"].update(spec)
    return doc


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    loaded = yaml.safe_load(GIZMO_CRD)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def engine(crd: dict[str, Any]) -> CelEngine:
    [converted] = convert_crd(crd)
    return CelEngine.for_schema(converted.schema)


def messages(report: CelReport) -> list[str]:
    return [v.message for v in report.violations]


# -- collection -----------------------------------------------------------------------------


def test_rules_are_collected_with_schema_paths(engine: CelEngine) -> None:
    paths = {rule.path for rule in engine.rules}
    assert {"", "/spec", "/spec/mode", "/spec/items", "/spec/items/*", "/spec/labels/{}"} <= paths
    [spec_rule] = [r for r in engine.rules if r.path == "/spec"]
    assert spec_rule.reason == "FieldValueForbidden"
    assert spec_rule.field_path == ".min"
    assert spec_rule.message is None
    assert spec_rule.message_expression is not None


def test_raw_and_converted_schemas_give_the_same_rules(crd: dict[str, Any]) -> None:
    raw = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    [converted] = convert_crd(crd)
    assert CelEngine.for_schema(raw).rules == CelEngine.for_schema(converted.schema).rules


def test_rule_status_names_what_is_missing() -> None:
    def status(rule: str) -> str:
        return rule_status(CelRule("/", rule))

    assert status("self.a.lowerAscii() == 'x'") == "evaluable"
    assert status("self == oldSelf") == "transition"
    assert status("self.isURL()") == "not available here: isURL()"
    assert status("sets.contains([1], [1])") == "not available here: sets.*"
    assert status("ip(self.a).family() == 4") == "not available here: family(), ip()"
    assert "optional field syntax" in status("self.?a.orValue(1) == 1")
    assert status("self.a ==").startswith("cannot parse")


# -- Kubernetes semantics --------------------------------------------------------------------


def test_valid_gizmo_passes_and_counts(engine: CelEngine) -> None:
    report = engine.evaluate(GIZMO)
    assert report.violations == []
    # root, spec, mode (defaulted), items, items/0 (two rules)
    assert report.evaluated == 6
    assert report.not_evaluated == []
    assert report.skipped_transition == 0


def test_message_expression_reason_and_field_path(engine: CelEngine) -> None:
    [violation] = engine.evaluate(gizmo(min=5, max=2)).violations
    assert violation.path == "/spec/min"
    assert violation.message == "min 5 exceeds max 2"
    assert violation.reason == "FieldValueForbidden"


def test_rule_runs_once_per_list_item_with_self_bound_to_it(engine: CelEngine) -> None:
    items = [{"name": "a", "weight": 1}, {"name": "B", "weight": 0}, {"name": "a", "weight": 2}]
    report = engine.evaluate(gizmo(items=items))
    found = sorted((v.path, v.message) for v in report.violations)
    assert found == [
        ("/spec/items", "item names must be unique"),
        ("/spec/items/1", "lower-case names"),
        ("/spec/items/1", "weight must be positive"),
    ]


def test_absent_and_null_fields_run_no_rule(engine: CelEngine) -> None:
    doc = gizmo()
    del doc["spec"]["items"]
    absent = engine.evaluate(doc)
    assert absent.violations == [] and absent.evaluated == 3  # root, spec, defaulted mode
    assert engine.evaluate(gizmo(text=None)).evaluated == engine.evaluate(gizmo()).evaluated


def test_defaults_are_applied_before_rules(engine: CelEngine) -> None:
    assert engine.evaluate(gizmo()).violations == []  # mode defaults to Fast
    assert messages(engine.evaluate(gizmo(mode="Slow"))) == ["bad mode"]


def test_number_is_a_double_and_size_counts_characters(engine: CelEngine) -> None:
    assert engine.evaluate(gizmo(ratio=1)).violations == []
    assert engine.evaluate(gizmo(text="héé")).violations == []
    assert messages(engine.evaluate(gizmo(text="abcd"))) == ["text too long"]


def test_escaped_property_names(engine: CelEngine) -> None:
    assert engine.evaluate(gizmo(ref={"namespace": "apps", "x-y": 1})).violations == []
    report = engine.evaluate(gizmo(ref={"namespace": "kube-system", "x-y": -1}))
    assert sorted(messages(report)) == [
        "failed rule: !has(self.__namespace__) || self.__namespace__ != 'kube-system'",
        "x-y negative",
    ]


def test_map_values_and_string_extensions(engine: CelEngine) -> None:
    assert engine.evaluate(gizmo(labels={"a": "x/y"})).violations == []
    [violation] = engine.evaluate(gizmo(labels={"a": "ok", "b": "x/y/z"})).violations
    assert (violation.path, violation.message) == ("/spec/labels/b", "too many slashes")


def test_runtime_error_rejects_the_object(engine: CelEngine) -> None:
    [violation] = engine.evaluate(gizmo(ref={"namespace": "apps"})).violations
    assert violation.path == "/spec/ref"
    assert violation.message.startswith("error evaluating rule (no such key: x__dash__y)")


def test_missing_kubernetes_libraries_are_reported_never_passed(engine: CelEngine) -> None:
    report = engine.evaluate(gizmo(links={"home": "https://x", "size": "1Mi"}))
    assert report.violations == []
    assert sorted(item.reason for item in report.not_evaluated) == [
        "not available here: isLessThan(), quantity()",
        "not available here: isURL()",
        "not available here: sets.*",
        "optional field syntax (.? / [?]) is not supported by the CEL library",
    ]
    assert {item.path for item in report.not_evaluated} == {"/spec/links"}


def test_rules_in_branches_are_reported(engine: CelEngine) -> None:
    report = engine.evaluate(gizmo(choice={"kind": "B"}))
    assert report.violations == []
    assert [i.reason for i in report.not_evaluated] == [cel_module._IN_BRANCH]


def test_transition_rules_are_skipped_and_counted(engine: CelEngine) -> None:
    report = engine.evaluate(gizmo(source="s3://a"))
    assert report.skipped_transition == 1
    assert report.violations == []


def test_rules_are_compiled_once(crd: dict[str, Any]) -> None:
    [converted] = convert_crd(crd)
    CelEngine.for_schema(converted.schema)
    before = cel_module._compile.cache_info().misses
    again = CelEngine.for_schema(converted.schema)
    for weight in range(1, 50):
        again.evaluate(gizmo(items=[{"name": "a", "weight": weight}]))
    assert cel_module._compile.cache_info().misses == before


@pytest.mark.parametrize(
    ("rule", "ok"),
    [
        ("self.s.charAt(1) == 'b' && self.s.indexOf('c') == 2 && self.s.lastIndexOf('a') == 0", 1),
        ("self.s.upperAscii() == 'ABC' && ' a '.trim() == 'a' && self.s.substring(1, 2) == 'b'", 1),
        ("self.s.replace('b', 'x') == 'axc' && ['a', 'b'].join('-') == 'a-b'", 1),
        ("'a/b/c'.split('/', 2) == ['a', 'b/c'] && [1, 2, 3].isSorted() && [3, 1].min() == 1", 1),
        ("[1, 2].sum() == 3 && [1, 2, 3].slice(1, 2) == [2] && self.s.find('[bc]+') == 'bc'", 1),
        ("'a1b22'.findAll('[0-9]+') == ['1', '22'] && [1, 2].indexOf(2) == 1", 1),
        ("self.s.charAt(9) == ''", 0),  # index out of range: a runtime error, as in cel-go
    ],
)
def test_extension_functions(rule: str, ok: int) -> None:
    schema = {
        "type": "object",
        "properties": {"s": {"type": "string"}},
        "x-kubernetes-validations": [{"rule": rule}],
    }
    report = CelEngine.for_schema(schema).evaluate({"s": "abc"})
    assert report.not_evaluated == []
    assert len(report.violations) == 1 - ok


def test_runtime_library_gaps_are_not_evaluated() -> None:
    rules = ["matches(self.s, 'a')", "self.n.lowerAscii() == 'a'", "self.s.size() == 3"]
    schema = {
        "type": "object",
        "properties": {"s": {"type": "string"}, "n": {"type": "integer"}},
        "x-kubernetes-validations": [{"rule": rule} for rule in rules],
    }
    report = CelEngine.for_schema(schema).evaluate({"s": "abc", "n": 1})
    assert report.violations == []
    assert report.evaluated == 1
    assert [item.reason for item in report.not_evaluated] == [
        "library: Undefined variable or function: 'matches'",  # only the method form exists
        "library: lowerAscii(): TypeError: expected a string, got int",
    ]


# -- SchemaStore hook ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SchemaStore:
    crd_dir = tmp_path_factory.mktemp("gizmo")
    (crd_dir / "gizmo.yaml").write_text(GIZMO_CRD)
    return SchemaStore.load([crd_dir])


def test_store_reports_cel_only_when_asked(store: SchemaStore) -> None:
    doc = gizmo(min=5, max=2)
    assert store.validate(doc) == []
    [violation] = store.validate(doc, cel=True)
    assert (violation.kind, violation.name, violation.path) == ("Gizmo", "g1", "/spec/min")
    assert violation.message == "min 5 exceeds max 2"


def test_store_skips_cel_after_type_errors_and_counts(store: SchemaStore) -> None:
    before = copy.deepcopy(store.cel_totals)
    [violation] = store.validate(gizmo(min="5", max=2), cel=True)
    assert violation.path == "/spec/min" and "integer" in violation.message
    store.validate(gizmo(source="x", links={"home": "h", "size": "1"}), cel=True)
    totals = store.cel_totals
    assert totals.blocked == before.blocked + 1
    assert totals.documents == before.documents + 1
    assert totals.skipped_transition == before.skipped_transition + 1
    assert sum(totals.not_evaluated.values()) == sum(before.not_evaluated.values()) + 4


def test_catalog_directory_keeps_the_rules(crd: dict[str, Any], tmp_path: Path) -> None:
    write_catalog(convert_crd(crd), tmp_path)
    catalog_store = SchemaStore.load([tmp_path])
    [violation] = catalog_store.validate(gizmo(mode="Slow"), cel=True)
    assert (violation.path, violation.message) == ("/spec/mode", "bad mode")
    assert catalog_store.cel_engine_for("v1", "ConfigMap") is None


# -- the real CRDs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_store() -> SchemaStore:
    return SchemaStore.load([crds_dir()])


# Shapes from the reference example stack (shared/reference/example-stack.yaml).
STACK = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llama-3-8b, namespace: llm}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llama-3-8b-predictor}
  minReplicaCount: 1
  maxReplicaCount: 4
  triggers:
  - type: prometheus
    metadata: {serverAddress: http://prometheus-operated.monitoring:9090, query: up, threshold: "5"}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: llama-3-8b, namespace: llm}
spec:
  endpoints:
  - fqdn: {hostname: llama-3-8b-predictor.llm.svc.cluster.local, port: 80}
---
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata: {name: llama-3-8b, namespace: llm}
spec:
  schema: {name: OpenAI}
  backendRef: {name: llama-3-8b, kind: Backend, group: gateway.envoyproxy.io}
---
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata: {name: llama-3-8b, namespace: llm}
spec:
  parentRefs: [{name: ai-gateway, kind: Gateway, group: gateway.networking.k8s.io}]
  rules:
  - matches:
    - headers: [{type: Exact, name: x-ai-eg-model, value: llama-3-8b}]
    backendRefs: [{name: llama-3-8b}]
  llmRequestCosts:
  - metadataKey: llm_total_token
    type: TotalToken
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: api-keys, namespace: llm}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: ai-gateway}]
  apiKeyAuth:
    credentialRefs: [{group: "", kind: Secret, name: ai-gateway-api-keys}]
    extractFrom: [{headers: [Authorization]}]
    forwardClientIDHeader: x-tenant-id
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: llama-3-8b-tokens, namespace: llm}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: llama-3-8b}]
  rateLimit:
    type: Global
    global:
      rules:
      - clientSelectors:
        - headers:
          - {name: x-tenant-id, type: Distinct}
          - {name: x-ai-eg-model, type: Exact, value: llama-3-8b}
        limit: {requests: 100000, unit: Hour}
        cost:
          request: {from: Number, number: 0}
          response:
            from: Metadata
            metadata: {namespace: io.envoy.ai_gateway, key: llm_total_token}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ai-gateway, namespace: llm}
spec:
  gatewayClassName: envoy
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: llm.example.com
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: llm-tls}]}
---
apiVersion: serving.kserve.io/v1alpha1
kind: LocalModelCache
metadata: {name: llama-3-8b}
spec:
  sourceModelUri: s3://models/llama-3.1-8b/
  modelSize: 20Gi
  nodeGroups: [h100-nvme]
"""


@pytest.fixture(scope="module")
def stack() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in load_manifests(STACK, source="stack.yaml")}


def edited(stack: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(stack[kind])


def cel_messages(store: SchemaStore, doc: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((v.path, v.message) for v in store.validate(doc, cel=True) if v.rule == "cel")


def test_example_stack_passes_with_cel(
    real_store: SchemaStore, stack: dict[str, dict[str, Any]]
) -> None:
    before = copy.deepcopy(real_store.cel_totals)
    for doc in stack.values():
        assert real_store.validate(doc, cel=True) == [], doc["kind"]
    totals = real_store.cel_totals
    assert totals.evaluated > before.evaluated + 20
    # LocalModelCache's sourceModelUri is immutable (self == oldSelf).
    assert totals.skipped_transition > before.skipped_transition


def test_scaled_object_min_above_max(
    real_store: SchemaStore, stack: dict[str, dict[str, Any]]
) -> None:
    doc = edited(stack, "ScaledObject")
    doc["spec"].update(minReplicaCount=10, maxReplicaCount=2)
    assert real_store.validate(doc) == []  # plain JSON Schema (kubeconform) lets it through
    assert cel_messages(real_store, doc) == [
        ("/spec", "minReplicaCount must be less than or equal to maxReplicaCount")
    ]


def test_ai_gateway_route_limits(real_store: SchemaStore, stack: dict[str, dict[str, Any]]) -> None:
    doc = edited(stack, "AIGatewayRoute")
    rule = doc["spec"]["rules"][0]
    doc["spec"]["rules"] = [dict(rule, name=f"r{i}") for i in range(16)]
    # The limit is the schema's maxItems (15), not a CEL rule.
    assert [v.path for v in real_store.validate(doc)] == ["/spec/rules"]
    doc["spec"]["rules"] = [dict(rule, name="same"), dict(rule, name="same")]
    assert real_store.validate(doc) == []
    assert cel_messages(real_store, doc) == [
        ("/spec/rules", "rule name must be unique within the route")
    ]


def test_ai_service_backend_must_reference_a_backend(
    real_store: SchemaStore, stack: dict[str, dict[str, Any]]
) -> None:
    doc = edited(stack, "AIServiceBackend")
    doc["spec"]["backendRef"] = {"name": "svc", "kind": "Service", "group": "", "port": 80}
    [(path, message)] = cel_messages(real_store, doc)
    assert path == "/spec/backendRef"
    assert message.startswith("BackendRef must be a Backend resource of Envoy Gateway")


def test_gateway_listener_rules(real_store: SchemaStore, stack: dict[str, dict[str, Any]]) -> None:
    doc = edited(stack, "Gateway")
    https = doc["spec"]["listeners"][0]
    doc["spec"]["listeners"].append(dict(https, port=8443))
    assert cel_messages(real_store, doc) == [
        ("/spec/listeners", "Listener name must be unique within the Gateway")
    ]
    # listeners is also a list-type map keyed by name: the second "https" is a duplicate.
    duplicates = [v for v in real_store.validate(doc) if v.rule == "list-type"]
    assert [(v.path, v.message) for v in duplicates] == [
        ("/spec/listeners/1", 'Duplicate value: {"name": "https"}')
    ]
    doc = edited(stack, "Gateway")
    doc["spec"]["listeners"].append(
        {
            "name": "http",
            "protocol": "HTTP",
            "port": 80,
            "tls": {"certificateRefs": [{"name": "c"}]},
        }
    )
    assert cel_messages(real_store, doc) == [
        ("/spec/listeners", "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']")
    ]
    # tls.mode defaults to Terminate, which needs certificateRefs or options.
    doc = edited(stack, "Gateway")
    doc["spec"]["listeners"][0]["tls"] = {}
    [(path, message)] = cel_messages(real_store, doc)
    assert path == "/spec/listeners/0/tls" and message.startswith("error evaluating rule")


def test_every_staged_rule_parses_and_transitions_are_known(real_store: SchemaStore) -> None:
    engine = real_store.cel_engine_for("serving.kserve.io/v1alpha1", "LocalModelCache")
    assert engine is not None
    assert [(r.path, rule_status(r)) for r in engine.rules] == [
        ("/spec/sourceModelUri", "transition")
    ]
    statuses: dict[str, int] = {}
    for path in sorted(crds_dir().rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader):
            for converted in convert_crd(doc, source=str(path)):
                for rule in CelEngine.for_schema(converted.schema).rules:
                    status = rule_status(rule)
                    statuses[status] = statuses.get(status, 0) + 1
    assert not [s for s in statuses if s.startswith("cannot parse")], statuses
    assert statuses["evaluable"] > 1000
