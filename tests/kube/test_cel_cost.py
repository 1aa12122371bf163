"""The static CEL cost estimate agrees with the API server's, number for number.

Cases and expected numbers are those of apiextensions-apiserver's own estimator test
(``pkg/apiserver/schema/cel/compilation_test.go``, ``TestCostEstimation``): each schema is
estimated once without bounds (``calc``) and once with ``maxItems``/``maxProperties``/
``maxLength`` set (``set``). Then the CRD-level limits: every upstream CRD version the project
validates against is one real API servers accept, so none may be refused here; and
hand-made schemas whose rule is too expensive are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube.cel_cost import MAX, estimate
from fleetgen.kube.cel_limits import (
    STATIC_EXPRESSION_COST_LIMIT,
    cost_message,
    crd_cost_findings,
    rule_costs,
)
from fleetgen.kube.cel_types import decl_type
from tests.conftest import RunCli, copy_example, crds_dir

Schema = dict[str, Any]
Gen = Callable[[int | None], Schema]
OVER = -1  # the estimate exceeds StaticEstimatedCostLimit (upstream: expectCalcCostExceedsLimit)


def _rule_type(name: str) -> Schema:
    if name in ("duration", "date", "date-time"):
        return {"type": "string", "format": name}
    if name == "int-or-string":
        return {"x-kubernetes-int-or-string": True}
    return {"type": name}


def _bound(schema: Schema, key: str, limit: int | None) -> Schema:
    return {**schema, key: limit} if limit is not None else schema


def array(item: str) -> Gen:
    return lambda n: _bound({"type": "array", "items": _rule_type(item)}, "maxItems", n)


def array_of_arrays(item: str) -> Gen:
    inner = {"type": "array", "items": {"type": item}}
    return lambda n: _bound({"type": "array", "items": inner}, "maxItems", n)


def object_array() -> Gen:
    item = {
        "type": "object",
        "required": ["required"],
        "properties": {"required": {"type": "string"}, "optional": {"type": "string"}},
    }
    return lambda n: _bound({"type": "array", "items": item}, "maxItems", n)


def map_array(value: str) -> Gen:
    item = {"type": "object", "additionalProperties": {"type": value}}
    return lambda n: _bound({"type": "array", "items": item}, "maxItems", n)


def map_of(value: str) -> Gen:
    schema = {"type": "object", "additionalProperties": _rule_type(value)}
    return lambda n: _bound(schema, "maxProperties", n)


def enum(*values: str) -> Gen:
    return lambda n: _bound({"type": "string", "enum": list(values)}, "maxLength", n)


def string(fmt: str | None = None) -> Gen:
    schema = {"type": "string", **({"format": fmt} if fmt else {})}
    return lambda n: _bound(schema, "maxLength", n)


CASES: list[tuple[str, Gen, str, int, int, int]] = [
    ("number array all", array("number"), "self.all(x, true)", 10, 4718591, 32),
    ("string array all", array("string"), "self.all(x, true)", 20, 3145727, 62),
    ("boolean array all", array("boolean"), "self.all(x, true)", 5, 1887437, 17),
    ("array of arrays all", array_of_arrays("number"), "self.all(x, true)", 100, 3145727, 302),
    ("object array all", object_array(), "self.all(x, true)", 50, 555128, 152),
    ("number map all", map_of("number"), "self.all(x, true)", 10, 1348169, 32),
    ("number map has", map_of("number"), "has(self.x)", 100, 0, 0),
    ("string map all", map_of("string"), "self.all(x, true)", 3, 1179647, 11),
    ("boolean map all", map_of("boolean"), "self.all(x, true)", 100, 943718, 302),
    ("string contains", string(), "self.contains('test')", 10, 314574, 5),
    ("string startsWith", string(), "self.startsWith('test')", 15, 2, 2),
    ("string concat", string(), 'size(self + "hello") > size("hello")', 4, 314578, 7),
    ("number index", array("number"), "self[1] == 0.0", 5000, 2, 2),
    ("string index", array("string"), "self[1] == self[1]", 8, 314577, 314577),
    ("O(n^2)", array("number"), "self.all(x, self.all(y, true))", 10, OVER, 352),
    ("O(n^3)", array("number"), "self.all(x, self.all(y, self.all(z, true)))", 10, OVER, 3552),
    ("regex simple", string(), 'self.matches("x")', 50, 314574, 22),
    ("regex literal", string(), '"".matches("(((((((((())))))))))[0-9]")', 10, 7, 7),
    ("regex empty", string(), 'self.matches("")', 100, 1, 1),
    ("bounded index", array("number"), "self[3] == 0.0", 0, 2, 2),
    ("bounded string eq", string(), 'self == "x"', 0, 2, 1),
    ("bytes eq", string("byte"), 'self == b"x"', 0, 2, 1),
    ("int-or-string all", array("int-or-string"), "self.all(x, true)", 10, 4718591, 32),
    ("int-or-string index", array("int-or-string"), "self[0] == 5", 10, 3, 3),
    ("boolean index", array("boolean"), "self[0] == false", 25, 2, 2),
    ("object index null", object_array(), "self[0] == null", 422, 2, 2),
    ("nested index", array_of_arrays("number"), "self[0][0] == -1.0", 51, 3, 3),
    ("map array all", map_array("number"), "self.all(x, x.y == 25.2)", 12, 6291452, 74),
    ("map array index", map_array("number"), "self[0].x > 2.0", 3000, 4, 4),
    ("duration array all", array("duration"), "self.all(x, true)", 5, 2359295, 17),
    ("duration index", array("duration"), "self[0].getHours() == 2", 525, 4, 4),
    ("date array all", array("date"), "self.all(x, true)", 15, 725936, 47),
    ("date index", array("date"), "self[2].getDayOfMonth() == 13", 42, 4, 4),
    ("date-time array all", array("date-time"), "self.all(x, true)", 25, 428963, 77),
    ("int-or-string map all", map_of("int-or-string"), "self.all(x, true)", 15, 1348169, 47),
    ("duration map all", map_of("duration"), "self.all(x, true)", 5, 1048577, 17),
    ("date map all", map_of("date"), "self.all(x, true)", 10, 524288, 32),
    ("date-time map all", map_of("date-time"), "self.all(x, true)", 25, 349526, 77),
    ("find", string(), "self.find('[0-9]+') == ''", 10, 629147, 11),
    ("size call", map_of("integer"), "oldSelf.size() == self.size()", 10, 5, 5),
    ("timestamp eq", map_of("date-time"), 'self["a"] == self["b"]', 7, 8, 8),
    ("duration eq", map_of("duration"), 'self["c"] == self["d"]', 42, 8, 8),
    ("enum contains", enum("A", "B", "C", "LongValue"), "self.contains('A')", 1000, 2, 401),
    ("lowerAscii", string(), "self.lowerAscii() == 'lower!'", 10, 314575, 6),
]


def _max_cost(schema: Schema, rule: str) -> int:
    self_type = decl_type(schema, root=False)
    assert self_type is not None
    found = estimate(rule, self_type)
    assert found is not None
    return found.max


@pytest.mark.parametrize(
    ("gen", "rule", "limit", "calc", "bounded"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_estimate_matches_upstream(
    gen: Gen, rule: str, limit: int, calc: int, bounded: int
) -> None:
    """Like upstream's ``schemaChecker``, an expected 0 is not compared."""
    unbounded = _max_cost(gen(None), rule)
    if calc == OVER:
        assert unbounded > STATIC_EXPRESSION_COST_LIMIT
    elif calc:
        assert unbounded == calc
    if bounded:
        assert _max_cost(gen(limit), rule) == bounded


def test_unparsable_rule_makes_no_claim() -> None:
    self_type = decl_type({"type": "string"}, root=False)
    assert self_type is not None
    assert estimate("self.(", self_type) is None


def _crd_schemas(root: Path) -> list[tuple[str, Schema]]:
    found = []
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            for version in doc["spec"].get("versions") or []:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    found.append((f"{doc['spec']['names']['kind']}/{version['name']}", schema))
    return found


def test_every_upstream_crd_is_within_the_limits() -> None:
    """Real API servers accept these CRDs: the estimate must not refuse any (1,670 rules)."""
    schemas = _crd_schemas(crds_dir())
    assert len(schemas) > 40
    rules = 0
    for name, schema in schemas:
        costs = rule_costs(schema)
        rules += len(costs)
        assert crd_cost_findings(schema) == [], name
        assert all(c.total < MAX for c in costs), name
    assert rules > 1000


def _crd(spec_properties: Schema) -> Schema:
    return {"type": "object", "properties": {"spec": {"type": "object", **spec_properties}}}


def test_unbounded_quadratic_rule_refuses_the_crd() -> None:
    schema = _crd(
        {
            "properties": {
                "names": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-validations": [
                        {"rule": "self.all(x, self.exists_one(y, x == y))"}
                    ],
                }
            }
        }
    )
    findings = crd_cost_findings(schema)
    path = "openAPIV3Schema.properties[spec].properties[names].x-kubernetes-validations[0].rule"
    # too expensive alone, and (by far) the whole schema's total: both refuse the CRD
    assert [f.path for f in findings] == [path, path, "openAPIV3Schema"]
    assert "estimated rule cost exceeds budget by factor of more than 100x" in findings[0].message


def test_bounds_make_the_same_rule_acceptable() -> None:
    names = {
        "type": "array",
        "maxItems": 16,
        "items": {"type": "string", "maxLength": 63},
        "x-kubernetes-validations": [{"rule": "self.all(x, self.exists_one(y, x == y))"}],
    }
    assert crd_cost_findings(_crd({"properties": {"names": names}})) == []


def test_cardinality_multiplies_a_rule_under_a_list() -> None:
    """A rule on list items counts once per item the list can hold (maxItems above it)."""
    item = {
        "type": "string",
        "maxLength": 1000,
        "x-kubernetes-validations": [{"rule": "self.matches('^[a-z]+$')"}],
    }
    bounded = _crd({"properties": {"names": {"type": "array", "maxItems": 10, "items": item}}})
    [cost] = rule_costs(bounded)
    assert cost.cardinality == 10
    assert cost.total == cost.per_call * 10
    unbounded = _crd({"properties": {"names": {"type": "array", "items": item}}})
    [cost] = rule_costs(unbounded)
    assert cost.cardinality == 3 * 1024 * 1024 // 3  # a request of "" items


def test_cost_message_is_the_api_servers() -> None:
    assert cost_message("estimated rule cost", 12_000_000, 10_000_000) == (
        "estimated rule cost exceeds budget by factor of 1.200000x (try simplifying the rule, "
        "or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are "
        "declared)"
    )
    assert "factor of 2.5x" in cost_message("x", 25, 10)


EXPENSIVE_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              names:
                type: array
                items: {type: string}
                x-kubernetes-validations:
                - rule: self.all(x, self.exists_one(y, x == y))
"""


def test_cli_reports_a_rendered_crd_the_api_server_refuses(tmp_path: Path, run_cli: RunCli) -> None:
    """FG790 at the rule's line in the base file (once per cluster rendering it); the same CRD
    with bounds passes."""
    root = copy_example(tmp_path / "repo")
    (root / "base/platform/widgets-crd.yaml").write_text(EXPENSIVE_CRD)
    kustomization = root / "base/platform/kustomization.yaml"
    text = kustomization.read_text()
    kustomization.write_text(
        text.replace("- gateway.yaml\n", "- gateway.yaml\n- widgets-crd.yaml\n", 1)
    )
    args = ["validate", "--rendered", "--root", str(root), "--format", "json"]
    result = run_cli([*args, "--schema-dir", str(crds_dir())])
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)
    rule_line = next(i for i, t in enumerate(EXPENSIVE_CRD.splitlines(), 1) if "- rule:" in t)
    got = {(f["file"], f["code"], f["line"]) for f in findings if f["code"] == "FG790"}
    assert ("base/platform/widgets-crd.yaml", "FG790", rule_line) in got, findings
    # FG712 also fires: platform apps may not render cluster-scoped kinds (fleet policy)
    assert {f["code"] for f in findings} <= {"FG790", "FG712"}, findings
    bounded = EXPENSIVE_CRD.replace(
        "items: {type: string}",
        "maxItems: 16\n                items: {type: string, maxLength: 63}",
    )
    (root / "base/platform/widgets-crd.yaml").write_text(bounded)
    result = run_cli([*args, "--schema-dir", str(crds_dir())])
    assert "FG790" not in {f["code"] for f in json.loads(result.stdout)}, result.stdout
