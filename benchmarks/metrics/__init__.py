"""The metrics, one module each, and their labels in the order the report lists them.

fleetgen's own commands: ``precommit`` (the hook's path, warm and cold cache), ``validate``,
``generate`` (cold and unchanged) and ``rendered``. The anchors put those in proportion:
``checkjsonschema`` and ``kustomize`` time other tools doing part of the same work, and
``floor`` the least work any generator of the same files must do.
"""

from __future__ import annotations

from benchmarks.metrics import (
    checkjsonschema,
    floor,
    generate,
    kustomize,
    precommit,
    rendered,
    validate,
)

ANCHOR_LABELS: dict[str, str] = {**checkjsonschema.LABELS, **kustomize.LABELS, **floor.LABELS}

METRICS: dict[str, str] = {
    **precommit.LABELS,
    **validate.LABELS,
    **generate.LABELS,
    **rendered.LABELS,
    **ANCHOR_LABELS,
}
ANCHORS: tuple[str, ...] = tuple(ANCHOR_LABELS)
