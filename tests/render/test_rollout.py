"""An environment that rolls out progressively: one ApplicationSet for all its clusters,
RollingSync steps over the labels its template gives the Applications, valid against the
staged ApplicationSet CRD, and expanded by the Argo CD reader into Applications that each
fall in exactly one step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.argocd.run import load_snapshot, repository_urls
from fleetgen.domain.rollout import Expression, SyncStep, selecting
from fleetgen.kube.schema_store import SchemaStore
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.entry_points import check_entry_points
from tests.conftest import REPO, copy_example, crds_dir

PROD = "environments/prod/environment.yaml"
APPSET = "applicationsets/prod-models.yaml"
CANARY = "llama-3-1-8b-instruct"
ROLLOUT = f"""  rollout:
    progressiveSyncs: true
    steps:
      - clusters: [prod-a]
        canary: [{CANARY}]
        maxUpdate: 1
      - clusters: [prod-b]
        maxUpdate: 50%
"""


def set_rollout(root: Path, block: str) -> None:
    """Replace the prod environment's rollout section (or add one) with `block`."""
    path = root / PROD
    text = re.sub(r"(?m)^  rollout:\n(?:    .*\n|\s*#.*\n)*", "", path.read_text())
    anchor = "  failureBudget:\n    clusters: 1\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + block))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "repo")
    set_rollout(root, ROLLOUT)
    result = app.generate(root, write=True)
    assert result.report.ok, result.report.diagnostics
    return root


def _appset(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / APPSET).read_text())
    return data


def test_one_applicationset_spans_the_clusters_and_rolls_out_in_steps(repo: Path) -> None:
    generated = {p.name for p in (repo / "applicationsets").glob("*.yaml")}
    assert "prod-models.yaml" in generated
    assert not {"prod-prod-a.yaml", "prod-prod-b.yaml"} & generated
    # The other environments keep one set per cluster, synced at once.
    assert {"dev-dev-a.yaml", "staging-staging-a.yaml"} <= generated
    kustomization = yaml.safe_load((repo / "applicationsets/kustomization.yaml").read_text())
    assert "prod-models.yaml" in kustomization["resources"]
    spec = _appset(repo)["spec"]
    assert spec["strategy"] == {
        "type": "RollingSync",
        "rollingSync": {
            "steps": [
                {
                    "matchExpressions": [
                        {"key": "fleetgen.dev/cluster", "operator": "In", "values": ["prod-a"]},
                        {"key": "fleetgen.dev/model", "operator": "In", "values": [CANARY]},
                    ],
                    "maxUpdate": 1,
                },
                {
                    "matchExpressions": [
                        {"key": "fleetgen.dev/cluster", "operator": "In", "values": ["prod-a"]},
                        {"key": "fleetgen.dev/model", "operator": "NotIn", "values": [CANARY]},
                    ],
                    "maxUpdate": 1,
                },
                {
                    "matchExpressions": [
                        {"key": "fleetgen.dev/cluster", "operator": "In", "values": ["prod-b"]}
                    ],
                    "maxUpdate": "50%",
                },
            ]
        },
    }
    assert [g["git"]["values"] for g in spec["generators"]] == [
        {"cluster": "prod-a", "server": "https://prod-a.k8s.example.com"},
        {"cluster": "prod-b", "server": "https://prod-b.k8s.example.com"},
    ]
    assert [g["git"]["files"] for g in spec["generators"]] == [
        [{"path": "applicationsets/prod/prod-a/models/*/app.json"}],
        [{"path": "applicationsets/prod/prod-b/models/*/app.json"}],
    ]
    template = spec["template"]
    assert template["metadata"]["labels"]["fleetgen.dev/cluster"] == "{{ .values.cluster }}"
    assert template["spec"]["destination"]["server"] == "{{ .values.server }}"
    # RollingSync forces automated sync off and syncs each step itself.
    assert "automated" not in template["spec"]["syncPolicy"]
    assert template["spec"]["syncPolicy"]["retry"]["limit"] == 5
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}


def test_without_a_rollout_each_cluster_keeps_its_automated_set(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    set_rollout(root, "")
    fleet, _ = load_fleet(root)
    files = build_plan(fleet).files
    assert "applicationsets/prod-models.yaml" not in files
    for cluster in ("prod-a", "prod-b"):
        appset = yaml.safe_load(files[f"applicationsets/prod-{cluster}.yaml"])
        assert "strategy" not in appset["spec"]
        assert appset["spec"]["template"]["spec"]["syncPolicy"]["automated"] == {
            "prune": True,
            "selfHeal": True,
        }


def test_the_rollout_set_validates_strictly_against_the_staged_crd(repo: Path) -> None:
    store = SchemaStore.load([crds_dir() / "argo-cd"])
    doc = _appset(repo)
    assert list(store.validate(doc)) == []
    # The check is strict: a misspelt strategy field is refused.
    doc["spec"]["strategy"]["rollingSync"]["steps"][0]["maxUpdates"] = 1
    assert list(store.validate(doc))
    fleet, _ = load_fleet(repo)
    files = build_plan(fleet).files
    assert check_entry_points(files, SchemaStore.load([crds_dir()])) == []


def test_every_expanded_application_falls_in_exactly_one_step(repo: Path) -> None:
    fleet, _ = load_fleet(repo)
    snap, diagnostics, _ = load_snapshot(repo, repository_urls(fleet))
    assert diagnostics == []
    apps = [a for a in snap.apps if a.generated_by == "prod-models"]
    assert len(apps) == 6  # three models on two clusters
    steps = [
        SyncStep(
            tuple(
                Expression(e["key"], e["operator"], tuple(e["values"]))
                for e in s["matchExpressions"]
            ),
            None,
            i,
            None,
        )
        for i, s in enumerate(_appset(repo)["spec"]["strategy"]["rollingSync"]["steps"])
    ]
    order: dict[int, set[str]] = {}
    for a in apps:
        labels = a.data["metadata"]["labels"]
        assert a.server == f"https://{labels['fleetgen.dev/cluster']}.k8s.example.com"
        (step,) = selecting(steps, labels)
        order.setdefault(step, set()).add(a.name)
    assert order == {
        0: {"prod-prod-a-llama-3-1-8b-instruct"},
        1: {"prod-prod-a-llama-3-1-70b-instruct-fp8", "prod-prod-a-mixtral-8x7b-instruct"},
        2: {
            "prod-prod-b-llama-3-1-8b-instruct",
            "prod-prod-b-llama-3-1-70b-instruct-fp8",
            "prod-prod-b-mixtral-8x7b-instruct",
        },
    }


def test_validate_all_stays_clean_with_the_rollout(repo: Path) -> None:
    report = app.validate(
        app.ValidateOptions(root=repo, rendered=True, in_sync=True, schema_dirs=(REPO / "schemas",))
    )
    assert list(report.diagnostics) == []
