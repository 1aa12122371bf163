"""The in-process renderer gives exactly what kustomize gives, and steps aside otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fleetgen.kube.kustomize import build
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.build import render_fleet
from fleetgen.rendered.fastrender import Unsupported, render
from tests.conftest import REPO, copy_example

APPS = sorted(p.parent for p in (REPO / "applicationsets").glob("*/*/*/kustomization.yaml"))
APPS += sorted(p.parent for p in (REPO / "applicationsets").glob("*/*/models/*/kustomization.yaml"))


def canonical(docs: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps(d, sort_keys=True) for d in docs)


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_same_objects_as_kustomize(app: Path) -> None:
    ours = render(app, REPO)
    theirs = [d for d in yaml.safe_load_all(build(app)) if d]
    assert canonical([d for d, _ in ours]) == canonical(theirs)
    for doc, origin in ours:
        assert origin.startswith("base/"), (doc["kind"], origin)


def test_unsupported_overlay_is_refused(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    app = next((root / "applicationsets").glob("*/*/models/*"))
    kustomization = app / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "namePrefix: x-\n")
    with pytest.raises(Unsupported):
        render(app, root)


def test_unsupported_base_falls_back_to_kustomize(tmp_path: Path) -> None:
    """A hand-edited base using a feature outside the subset is still rendered, by kustomize."""
    root = copy_example(tmp_path / "repo")
    base = root / "base" / "model" / "kustomization.yaml"
    base.write_text(base.read_text() + "commonLabels:\n  owner: platform\n")
    fleet, _ = load_fleet(root)
    files = build_plan(fleet).files
    fast = render_fleet(root, files)
    slow = render_fleet(root, files, engine="kustomize")
    assert fast.failures == slow.failures == []
    assert canonical([o.doc for o in fast.objects]) == canonical([o.doc for o in slow.objects])
    # commonLabels of the base reach the base's own objects (not the components' ones).
    isvcs = [o for o in fast.objects if o.kind == "InferenceService"]
    assert isvcs and all(o.doc["metadata"]["labels"]["owner"] == "platform" for o in isvcs)
