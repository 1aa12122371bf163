"""The API server's runtime CEL cost verdict on one object's evaluations.

``apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go`` gives every object
``RuntimeCELCostBudget`` (10^7) and runs each rule with ``PerCallLimit`` (10^6): a node's rules
run before its children's; an evaluation whose actual cost is above what is left of the
budget ends validation with ``validation failed due to running out of cost budget``, one that
cel-go cancels at the per-call limit with ``call cost exceeds limit``; either rejects the
object. Each rule's static estimate (``cel_cost``) bounds what one evaluation can cost, so the
actual costs (``cel_runtime_cost``) are only computed for an object whose bounds pass a
limit, and evaluations this port cannot cost are left out (no claim is made on them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fleetgen.kube import cel_library
from fleetgen.kube.cel_limits import PER_CALL_LIMIT, RUNTIME_COST_BUDGET
from fleetgen.kube.cel_runtime_cost import actual_cost

__all__ = ["OUT_OF_BUDGET", "Evaluation", "cost_refusals"]

OUT_OF_BUDGET = (
    "validation failed due to running out of cost budget, no further validation rules will be run"
)

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One rule evaluated on one node, kept so its actual cost can be computed."""

    path: Path
    rule: str
    shown: str  # how the API server names the rule: its message, else its text
    value: Any  # ``self`` as CEL saw it
    bound: int | None  # the rule's static per-call estimate (None: not estimated)


def cost_refusals(runs: Sequence[Evaluation]) -> list[tuple[str, str, str]]:
    """(JSON pointer, rule, message) of the evaluation at which the API server stops on
    cost, or [] when it does not."""
    bounds = [run.bound for run in runs]
    if all(b is not None and b <= PER_CALL_LIMIT for b in bounds) and (
        sum(b for b in bounds if b is not None) <= RUNTIME_COST_BUDGET
    ):
        return []  # no evaluation can pass a limit: nothing to compute
    remaining = RUNTIME_COST_BUDGET
    previous: Path | None = None
    for run in sorted(runs, key=lambda r: _preorder(r.path)):
        pointer = cel_library.pointer(run.path)
        if run.path != previous and remaining <= 0:  # checked once per node
            return [(pointer, run.rule, OUT_OF_BUDGET)]
        previous = run.path
        cost = actual_cost(run.rule, run.value, min(PER_CALL_LIMIT, remaining))
        if cost is None:
            continue
        if cost > remaining:
            return [(pointer, run.rule, OUT_OF_BUDGET)]
        remaining -= cost
        if cost > PER_CALL_LIMIT:
            message = (
                "'operation cancelled: actual cost limit exceeded': no further validation "
                f"rules will be run due to call cost exceeds limit for rule: {run.shown}"
            )
            return [(pointer, run.rule, message)]
    return []


def _preorder(path: Path) -> tuple[tuple[int, str | int], ...]:
    """A node before its children, siblings in order (the API server walks properties in
    Go's map order, which has none; this one is at least stable)."""
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in path)
