"""base/llmisvc keeps the placeholder contract base/README.md gives for it: every pointer of its
table exists in the real kustomize build of the base."""

from __future__ import annotations

import re

import yaml

from fleetgen.kube.kustomize import build
from tests.conftest import REPO
from tests.render.test_base_manifests import resolve

ROW = re.compile(r"^\| llmisvc: (\w+) ([\w-]+) \| `(/[^`]*)` \|", re.MULTILINE)


def test_every_llmisvc_contract_pointer_exists_in_the_base() -> None:
    rows = ROW.findall((REPO / "base" / "README.md").read_text())
    objs = {
        (d["kind"], d["metadata"]["name"]): d
        for d in yaml.safe_load_all(build(REPO / "base" / "llmisvc"))
    }
    assert {kind for kind, _, _ in rows} >= {"LLMInferenceService", "ScaledObject"}
    missing = []
    for kind, name, pointer in rows:
        try:
            resolve(objs[kind, name], pointer)
        except (KeyError, IndexError, ValueError):
            missing.append(f"{kind} {name}: {pointer}")
    assert missing == []
