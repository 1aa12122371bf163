"""The API server's runtime CEL cost: each evaluation's actual cost, and the limits on it.

The numbers are the API server's own (``apiextensions-apiserver/pkg/apiserver/schema/cel/
celcoststability_test.go``: an object, a rule, the cost cel-go's tracker charges). The
limits: one evaluation may cost ``PerCallLimit`` (10^6), all evaluations of one object
``RuntimeCELCostBudget`` (10^7); a CRD that registers (its static estimates within
``StaticEstimatedCostLimit`` per rule) can still hold objects that pass them.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from fleetgen.kube.cel import CelEngine
from fleetgen.kube.cel_limits import PER_CALL_LIMIT, crd_cost_findings
from fleetgen.kube.cel_runtime_cost import actual_cost
from fleetgen.kube.crd_schema import convert_openapi_schema
from fleetgen.kube.schema_store import SchemaStore
from tests.kube_fixtures import crd_text

UNICODE = {"val1": "Rook takes 👑", "val2": "Rook takes 👑"}
LIST_MAP = {
    "listMap": [
        {"k": "a1", "v": "b1"},
        {"k": "a2", "v": "b2"},
        {"k": "a3", "v": "b3", "v2": "z"},
    ]
}
ARRAY = {"array": [1, 1, 2, 2, 3, 3, 4, 5]}
MAP = {"val": {"b": 1, "d": 2}}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "foo", "generateName": "pickItForMe", "namespace": "xyz"},
    "spec": {"field1": "a"},
}

# (self, rule, the cost the API server charges), from celcoststability_test.go.
UPSTREAM: list[tuple[dict[str, Any], str, int]] = [
    ({"val1": 2**63 - 1, "val6": 2**63 - 1}, "self.val1 == self.val6", 5),
    ({"val1": 2**63 - 1}, "type(self.val1) == int", 4),
    ({"val3": 2**31 - 1}, "self.val3 + 1 == 2147483647 + 1", 5),
    ({"val1": 5, "val4": 10.0}, "double(self.val1) < self.val4", 6),
    ({}, "double(5) < 10.0", 1),  # a conversion of a constant is folded
    ({}, "5 < int(10.0)", 1),
    ({"val1": 5}, "double(self.val1) < 10.0", 4),
    (UNICODE, "self.val1.startsWith('Rook')", 3),
    (UNICODE, "!self.val1.startsWith('knight')", 4),
    (UNICODE, "self.val1.matches('^[^0-9]*$')", 8),
    (UNICODE, "!self.val1.matches('^[0-9]*$')", 7),
    (UNICODE, "size(self.val1) == 12", 4),
    (UNICODE, "self.val1.charAt(3) == 'k'", 4),
    (UNICODE, "self.val1.indexOf('o') == 1", 4),
    (UNICODE, "self.val1.indexOf('o', 2) == 2", 4),
    (UNICODE, "self.val1.replace(' ', 'x') == 'Rookxtakesx👑'", 7),
    (UNICODE, "self.val1.replace(' ', 'x', 1) == 'Rookxtakes 👑'", 7),
    (UNICODE, "self.val1.split(' ') == ['Rook', 'takes', '👑']", 6),
    (UNICODE, "self.val1.split(' ', 2) == ['Rook', 'takes 👑']", 6),
    (UNICODE, "self.val1.substring(5) == 'takes 👑'", 5),
    (UNICODE, "self.val1.substring(4, 10).trim() == 'takes'", 6),
    (UNICODE, "self.val1.upperAscii() == 'ROOK TAKES 👑'", 6),
    (UNICODE, "self.val1.lowerAscii() == self.val1.lowerAscii()", 10),
    ({"enumStr": "Pending"}, "self.enumStr == 'Pending'", 3),
    ({"enumStr": "Pending"}, "self.enumStr in ['Pending', 'Available']", 2),  # a set lookup
    ({"val1": [1, 2, 3]}, "1 in self.val1", 5),
    ({"val1": [1, 2, 3], "val2": [1, 2, 3]}, "self.val2[0] in self.val1", 8),
    ({"val1": [1, 2, 3], "val2": [1, 2, 3]}, "self.val1 + self.val2 == [1, 2, 3, 1, 2, 3]", 6),
    ({"val1": [1, 2, 3]}, "self.val1 + [4, 5] == [1, 2, 3, 4, 5]", 4),
    ({"val1": [1], "val2": [2]}, "has(self.val1) && has(self.val2)", 2),
    ({"val1": {"k1": "a", "k2": "b"}}, "!('k3' in self.val1)", 4),
    ({"val1": {"k1": "a", "k2": "b"}}, "self.val1 == {'k1': 'a', 'k2': 'b'}", 3),
    ({"a1": {"b1": {"c1": 4}}}, "has(self.a1.b1.c1)", 3),
    ({"a1": {"b1": {"c1": 4}}}, "!(has(self.a1.d2) && has(self.a1.d2.e2))", 3),
    (MAP, "self.val.all(k, self.val[k] > 0)", 17),
    (MAP, "!self.val.exists(k, self.val[k] == 3)", 20),
    (MAP, "self.val.exists_one(k, self.val[k] == 2)", 14),
    (MAP, "size(self.val.filter(k, self.val[k] > 1)) == 1", 26),
    (LIST_MAP, "has(self.listMap[0].v)", 3),
    (LIST_MAP, "self.listMap.all(m, m.k.startsWith('a'))", 21),
    (LIST_MAP, "self.listMap.all(m, !has(m.v2) || m.v2 == 'z')", 21),
    (LIST_MAP, "self.listMap.exists(m, m.k.endsWith('1'))", 13),
    (LIST_MAP, "!self.listMap.exists_one(m, m.k.startsWith('a'))", 20),
    (LIST_MAP, "size(self.listMap.filter(m, m.k == 'a1')) == 1", 27),
    (LIST_MAP, "self.listMap.map(m, m.v).exists(v, v == 'b1')", 55),
    (LIST_MAP, "self.listMap.map(m, has(m.v2) && m.v2 == 'z', m.v2).size() == 1", 25),
    (LIST_MAP, "self.listMap.filter(m, has(m.v2) && m.v2 == 'z').map(m, m.v2).size() == 1", 39),
    (LIST_MAP, "self.listMap.exists(m, m.v2 == 'z')", 24),  # errors absorbed by ||
    (LIST_MAP, "!self.listMap.all(m, m.v2 != 'z')", 22),
    (ARRAY, "2 in self.array", 10),
    (ARRAY, "self.array.all(e, e > 0)", 43),
    (ARRAY, "self.array.exists(e, e > 2)", 36),  # stops at the first match
    (ARRAY, "!self.array.all(e, e < 2)", 21),  # stops at the first miss
    (ARRAY, "!self.array.exists(e, e < 0)", 52),
    (ARRAY, "self.array.exists_one(e, e > 4)", 22),
    (ARRAY, "size(self.array.filter(e, e%2 == 0)) == 3", 68),
    (ARRAY, "self.array.map(e, e * 20).filter(e, e > 50).exists(e, e == 60)", 194),
    (POD, "self.metadata.generateName == 'pickItForMe'", 5),
    ({"embedded": POD}, "self.embedded.metadata.name == 'foo'", 5),
    (
        {"something": "25%"},
        "type(self.something) == int ? self.something == 1 : self.something == '25%'",
        7,
    ),
    ({"something": "25%"}, "self.something == 1 || self.something == '25%'", 6),
    ({"something": "25%"}, "self.something == '25%' || self.something == 1", 3),
]


@pytest.mark.parametrize(("value", "rule", "cost"), UPSTREAM, ids=[r for _, r, _ in UPSTREAM])
def test_actual_cost_matches_the_api_server(value: dict[str, Any], rule: str, cost: int) -> None:
    assert actual_cost(rule, value, PER_CALL_LIMIT) == cost


def test_what_the_port_cannot_evaluate_makes_no_claim() -> None:
    assert actual_cost("quantity(self.q).isGreaterThan(quantity('1'))", {"q": "2"}, 10) is None
    assert actual_cost("self.all(", {}, 10) is None


def test_counting_stops_at_the_limit() -> None:
    started = time.perf_counter()
    cost = actual_cost("self.all(x, self.all(y, x != y || x == y))", list(range(3000)), 1000)
    assert cost is not None and 1000 < cost < 1100  # cancelled, as cel-go cancels
    assert time.perf_counter() - started < 1.0


# -- the limits, through the schema store --------------------------------------------------

# A uniqueness loop over a bounded list: registers (within StaticEstimatedCostLimit), but a
# full list costs more than one evaluation may.
PAIRS = """\
spec:
  type: object
  properties:
    ids:
      type: array
      maxItems: 1000
      items: {type: integer}
      x-kubernetes-validations:
      - rule: self.all(x, self.exists_one(y, x == y))
        message: ids must be unique
"""
# Five rules per item, each within its static limit (16 items x 600,000): together they
# can pass RuntimeCELCostBudget, which one rule alone never can on a CRD that registers.
NOTES = """\
spec:
  type: object
  properties:
    notes:
      type: array
      maxItems: 16
      items:
        type: string
        maxLength: 15000
        x-kubernetes-validations:
""" + "".join(
    f"        - {{rule: \"!self.contains('{letter * 1000}')\", message: no {letter}}}\n"
    for letter in "abcde"
)
NOTE = "y" * 15000  # each rule on it: self (1), contains (1,500 x 100), ! (1)


def _doc(kind: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": kind,
        "metadata": {"name": "a", "namespace": "n"},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SchemaStore:
    directory = tmp_path_factory.mktemp("crds")
    (directory / "pairs.yaml").write_text(crd_text("Pairs", "pairs", PAIRS))
    (directory / "notes.yaml").write_text(crd_text("Notes", "notes", NOTES))
    return SchemaStore.load([directory], fast_check_after=0)


def _openapi(text: str) -> dict[str, Any]:
    schema = yaml.safe_load(text)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def cel_found(store: SchemaStore, doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v.path, v.message) for v in store.validate(doc, cel=True) if v.rule == "cel"]


def test_both_crds_register() -> None:
    for text in (crd_text("Pairs", "pairs", PAIRS), crd_text("Notes", "notes", NOTES)):
        assert crd_cost_findings(_openapi(text)) == []


def test_one_evaluation_past_the_per_call_limit_rejects_the_object(store: SchemaStore) -> None:
    assert cel_found(store, _doc("Pairs", ids=list(range(200)))) == []
    assert cel_found(store, _doc("Pairs", ids=[1, 1])) == [("/spec/ids", "ids must be unique")]
    [(path, message)] = cel_found(store, _doc("Pairs", ids=list(range(1000))))
    assert path == "/spec/ids"
    assert message == (
        "'operation cancelled: actual cost limit exceeded': no further validation rules will "
        "be run due to call cost exceeds limit for rule: ids must be unique"
    )


def test_evaluations_past_the_budget_together_reject_the_object(store: SchemaStore) -> None:
    assert actual_cost(f"!self.contains('{'a' * 1000}')", NOTE, PER_CALL_LIMIT) == 150_002
    assert cel_found(store, _doc("Notes", notes=[NOTE] * 13)) == []  # 9.75 million
    # 10.5 million: the budget runs out at the 14th note's second rule.
    assert cel_found(store, _doc("Notes", notes=[NOTE] * 14)) == [
        (
            "/spec/notes/13",
            "validation failed due to running out of cost budget, no further validation "
            "rules will be run",
        )
    ]
    # A rule that fails is reported as ever, the budget aside.
    assert cel_found(store, _doc("Notes", notes=["b" * 1000])) == [("/spec/notes/0", "no b")]


@pytest.mark.parametrize("size", [0, 1, 7, 40])
def test_the_static_bound_that_skips_the_computation_holds(size: int) -> None:
    """An object is only costed when its rules' static estimates add up past a limit: each
    estimate must bound what the evaluation actually costs."""
    schema = convert_openapi_schema(_openapi(crd_text("Notes", "notes", NOTES)))
    notes = [("ab" * size)[:size] + "a" * 1000 * (size % 2)] * (size % 16)
    report = CelEngine.for_schema(schema).evaluate(_doc("Notes", notes=notes))
    assert len(report.runs) == 5 * len(notes)
    for run in report.runs:
        cost = actual_cost(run.rule, run.value, PER_CALL_LIMIT)
        assert run.bound is not None and cost is not None and cost <= run.bound
