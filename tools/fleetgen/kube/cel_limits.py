"""The API server's CEL cost limits, on a CRD (when it is created) and on an object.

From ``apiextensions-apiserver/pkg/apis/apiextensions/validation`` and
``apiserver/pkg/apis/cel/config.go``:

* **creating the CRD**: each rule's (and messageExpression's) estimated cost, times the
  number of times its schema node can occur in one object, must stay within
  ``StaticEstimatedCostLimit`` (10^7), and the sum over the whole schema within
  ``StaticEstimatedCRDCostLimit`` (10^8); otherwise the CRD itself is refused
  (``Forbidden: estimated rule cost exceeds budget by factor of ...``) and no object of it
  can exist. The occurrences: the product of ``maxItems``/``maxProperties`` of every list and
  map above the node, or, when one is unbounded, how many of the node's smallest JSON fit in a
  3 MiB request;
* **validating an object**: every evaluation is charged its actual cost; one that passes
  ``PerCallLimit`` (10^6) is cancelled, and once the evaluations of one object have spent
  ``RuntimeCELCostBudget`` (10^7) no further rule runs; either rejects the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgen.kube.cel_cost import MAX, estimate
from fleetgen.kube.cel_types import MAX_REQUEST_SIZE_BYTES, decl_type

__all__ = [
    "PER_CALL_LIMIT",
    "RUNTIME_COST_BUDGET",
    "STATIC_CRD_COST_LIMIT",
    "STATIC_EXPRESSION_COST_LIMIT",
    "CostFinding",
    "RuleCost",
    "cost_message",
    "crd_cost_findings",
    "crd_object_cost_findings",
    "field_path",
    "rule_costs",
]

STATIC_EXPRESSION_COST_LIMIT = 10_000_000  # StaticEstimatedCostLimit
STATIC_CRD_COST_LIMIT = 100_000_000  # StaticEstimatedCRDCostLimit
PER_CALL_LIMIT = 1_000_000  # celconfig.PerCallLimit
RUNTIME_COST_BUDGET = 10_000_000  # celconfig.RuntimeCELCostBudget


Parts = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class RuleCost:
    """One expression's estimate; ``parts`` locate it in the ``openAPIV3Schema`` mapping."""

    parts: Parts
    expression: str
    per_call: int  # cel-go's estimated maximum for one evaluation
    cardinality: int  # how often the node can occur in one object
    total: int  # per_call x cardinality, what the limits compare

    @property
    def path(self) -> str:
        return field_path(self.parts)


@dataclass(frozen=True, slots=True)
class CostFinding:
    parts: Parts  # within openAPIV3Schema
    message: str

    @property
    def path(self) -> str:
        return field_path(self.parts)


def field_path(parts: Parts) -> str:
    """As the API server names a schema field: ``openAPIV3Schema.properties[spec].items``."""
    out = "openAPIV3Schema"
    keyed = False
    for part in parts:
        if isinstance(part, int) or keyed:
            out += f"[{part}]"
            keyed = False
        else:
            out += f".{part}"
            keyed = part == "properties"
    return out


def cost_message(name: str, cost: int, limit: int) -> str:
    """``getCostErrorMessage``, word for word."""
    factor = cost / limit
    if factor > 100.0:
        shown = "more than 100x"
    elif factor < 1.5:
        shown = f"{factor:f}x"
    else:
        shown = f"{factor:.1f}x"
    return (
        f"{name} exceeds budget by factor of {shown} (try simplifying the rule, or adding "
        "maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )


def _max_elements(schema: Mapping[str, Any]) -> int | None:
    """``extractMaxElements``: how much a node multiplies its children's occurrences."""
    types = schema.get("type")
    names = types if isinstance(types, list) else [types]
    if "object" in names:
        if isinstance(schema.get("additionalProperties"), Mapping):
            limit = schema.get("maxProperties")
            return max(0, limit) if isinstance(limit, int) else None
        return 1
    if "array" in names:
        limit = schema.get("maxItems")
        return max(0, limit) if isinstance(limit, int) else None
    return 1


def rule_costs(schema: Mapping[str, Any]) -> list[RuleCost]:
    """Every rule and messageExpression of a CRD version's ``openAPIV3Schema``, estimated."""
    out: list[RuleCost] = []
    _walk(schema, (), 1, out, root=True)
    return out


def _walk(
    schema: Any, path: Parts, cardinality: int | None, out: list[RuleCost], *, root: bool
) -> None:
    if not isinstance(schema, Mapping):
        return
    rules = schema.get("x-kubernetes-validations")
    if isinstance(rules, list) and rules:
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        self_type = decl_type(schema, root=root or embedded)
        if self_type is not None:
            times = cardinality
            if times is None:
                times = MAX_REQUEST_SIZE_BYTES // (self_type.min_size + 1)
            for index, rule in enumerate(rules):
                if not isinstance(rule, Mapping):
                    continue
                where = (*path, "x-kubernetes-validations", index)
                for key in ("rule", "messageExpression"):
                    text = rule.get(key)
                    if not isinstance(text, str) or not text.strip():
                        continue
                    found = estimate(text, self_type)
                    if found is not None:
                        total = min(found.max * times, MAX)
                        out.append(RuleCost((*where, key), text, found.max, times, total))
    factor = _max_elements(schema)
    child = None if cardinality is None or factor is None else min(cardinality * factor, MAX)
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            _walk(sub, (*path, "properties", name), child, out, root=False)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            _walk(schema[key], (*path, key), child, out, root=False)


def crd_cost_findings(schema: Mapping[str, Any]) -> list[CostFinding]:
    """Why the API server would refuse a CRD version with this schema on cost, or []."""
    costs = rule_costs(schema)
    found: list[CostFinding] = []
    for cost in costs:
        if cost.total > STATIC_EXPRESSION_COST_LIMIT:
            name = "estimated rule cost"
            if cost.parts[-1] == "messageExpression":
                name = "estimated messageExpression cost"
            found.append(
                CostFinding(
                    cost.parts, cost_message(name, cost.total, STATIC_EXPRESSION_COST_LIMIT)
                )
            )
    total = min(sum(c.total for c in costs), MAX)
    if total > STATIC_CRD_COST_LIMIT:
        expensive = sorted(
            (c for c in costs if c.total >= STATIC_CRD_COST_LIMIT // 100),
            key=lambda c: -c.total,
        )[:4]
        found.extend(
            CostFinding(
                c.parts,
                "contributed to estimated rule cost total exceeding cost limit for entire "
                "OpenAPIv3 schema",
            )
            for c in expensive
        )
        name = "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema"
        found.append(CostFinding((), cost_message(name, total, STATIC_CRD_COST_LIMIT)))
    return found


def crd_object_cost_findings(doc: Mapping[str, Any]) -> list[tuple[Parts, str]]:
    """For a CustomResourceDefinition object: (path in the document, message) of every cost
    limit its versions break, the message naming the field as the API server does."""
    spec = doc.get("spec")
    versions = spec.get("versions") if isinstance(spec, Mapping) else None
    out: list[tuple[Parts, str]] = []
    for index, version in enumerate(versions if isinstance(versions, list) else []):
        holder = version.get("schema") if isinstance(version, Mapping) else None
        schema = holder.get("openAPIV3Schema") if isinstance(holder, Mapping) else None
        if not isinstance(schema, Mapping):
            continue
        base: Parts = ("spec", "versions", index, "schema", "openAPIV3Schema")
        for finding in crd_cost_findings(schema):
            where = f"spec.versions[{index}].schema.{finding.path}"
            out.append(((*base, *finding.parts), f"Forbidden: {where}: {finding.message}"))
    return out
