"""Rollout steps: what they become as RollingSync steps, and Argo CD's selection rules."""

from __future__ import annotations

import pytest

from fleetgen.domain.rollout import (
    CLUSTER_LABEL,
    MODEL_LABEL,
    Expression,
    Rollout,
    Step,
    app_labels,
    rollout_from,
    selecting,
    sync_steps,
)


@pytest.mark.parametrize(
    ("operator", "values", "labels", "holds"),
    [
        ("In", ("a", "b"), {"k": "b"}, True),
        ("In", ("a",), {"k": "b"}, False),
        ("In", ("a",), {}, False),  # a missing label never satisfies In
        ("NotIn", ("a",), {"k": "b"}, True),
        ("NotIn", ("a", "b"), {"k": "b"}, False),
        ("NotIn", ("a",), {}, True),  # ... and always satisfies NotIn
        ("Exists", ("a",), {"k": "a"}, False),  # other operators select nothing
        ("in", ("a",), {"k": "a"}, False),  # operators are case-sensitive
    ],
)
def test_expressions_follow_the_controller(
    operator: str, values: tuple[str, ...], labels: dict[str, str], holds: bool
) -> None:
    assert Expression("k", operator, values).holds(labels) is holds


def test_a_canary_becomes_two_steps_on_the_same_clusters() -> None:
    plan = Rollout(
        True,
        (
            Step(("prod-a",), ("small",), 1, 0),
            Step(("prod-b", "prod-c"), (), "25%", 1),
        ),
    )
    steps = sync_steps(plan)
    assert [(s.declared, s.canary, s.max_update) for s in steps] == [
        (0, True, 1),
        (0, False, 1),
        (1, None, "25%"),
    ]
    assert steps[0].expressions == (
        Expression(CLUSTER_LABEL, "In", ("prod-a",)),
        Expression(MODEL_LABEL, "In", ("small",)),
    )
    assert steps[1].expressions[1] == Expression(MODEL_LABEL, "NotIn", ("small",))
    assert selecting(steps, app_labels("prod-a", "small")) == [0]
    assert selecting(steps, app_labels("prod-a", "big")) == [1]
    assert selecting(steps, app_labels("prod-c", "small")) == [2]
    assert selecting(steps, app_labels("prod-d", "small")) == []
    assert [s.describe() for s in steps] == [
        "prod-a, canary small",
        "prod-a, after the canary",
        "prod-b, prod-c",
    ]


def test_overlapping_steps_select_an_app_in_each() -> None:
    steps = sync_steps(Rollout(True, (Step(("a",), (), None, 0), Step(("a", "b"), (), None, 1))))
    assert selecting(steps, app_labels("a", "m")) == [0, 1]


def test_the_environment_section_reads_with_its_defaults() -> None:
    assert rollout_from(None) is None
    plan = rollout_from({"steps": [{"clusters": ["x"], "maxUpdate": 0}]})
    assert plan == Rollout(False, (Step(("x",), (), 0, 0),))
