"""The Argo CD bootstrap: the root Application and its AppProject (applicationsets/bootstrap.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube.kustomize import build
from fleetgen.kube.manifests import load_manifests
from fleetgen.kube.schema_store import SchemaStore
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.entry_points import check_entry_points, entry_point_files
from tests.conftest import REPO, RunCli, copy_example, crds_dir

BOOTSTRAP = "applicationsets/bootstrap.yaml"
Doc = dict[str, Any]


def bootstrap_docs(root: Path) -> tuple[Doc, Doc]:
    project, app = yaml.safe_load_all((root / BOOTSTRAP).read_text())
    return project, app


@pytest.fixture(scope="module")
def argo_crds() -> SchemaStore:
    return SchemaStore.load([crds_dir() / "argo-cd"])


def test_root_application_syncs_applicationsets_from_the_configured_repository() -> None:
    config = yaml.safe_load((REPO / ".fleetgen.yaml").read_text())["bootstrap"]
    project, app = bootstrap_docs(REPO)
    assert app["kind"] == "Application" and project["kind"] == "AppProject"
    assert app["spec"]["source"] == {
        "repoURL": config["repoURL"],
        "targetRevision": config["targetRevision"],
        "path": "applicationsets",
    }
    assert app["metadata"]["namespace"] == project["metadata"]["namespace"] == config["namespace"]
    assert app["spec"]["project"] == project["metadata"]["name"]
    assert "finalizers" not in app["metadata"]  # deleting the root never cascades
    assert project["spec"]["sourceRepos"] == [config["repoURL"]]
    # The root never syncs (or prunes) itself: the bootstrap is not among its resources.
    kustomization = yaml.safe_load((REPO / "applicationsets" / "kustomization.yaml").read_text())
    assert "bootstrap.yaml" not in kustomization["resources"]


def test_bootstrap_validates_strictly_against_the_argo_cd_crds(argo_crds: SchemaStore) -> None:
    for doc in bootstrap_docs(REPO):
        assert argo_crds.validate(doc, cel=True) == [], doc["kind"]
    project, app = bootstrap_docs(REPO)
    typo = {**app, "spec": {**app["spec"], "syncPolicy": {"automatic": {"prune": True}}}}
    assert [v.path for v in argo_crds.validate(typo)] == ["/spec/syncPolicy/automatic"]
    wrong = {**project, "spec": {**project["spec"], "destinations": [{"server": 1}]}}
    assert [v.path for v in argo_crds.validate(wrong)] == ["/spec/destinations/0/server"]


def test_the_roots_project_admits_everything_the_root_syncs() -> None:
    """kustomize builds applicationsets/ as Argo CD will for the root: every object must be
    an allowed kind in an allowed namespace of the root's project, or the sync fails."""
    project, app = bootstrap_docs(REPO)
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    destinations = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    assert project["spec"]["clusterResourceWhitelist"] == []
    docs = load_manifests(build(REPO / "applicationsets"), source="applicationsets")
    kinds = set()
    for doc in docs:
        group = doc["apiVersion"].rpartition("/")[0]
        kinds.add(doc["kind"])
        assert (group, doc["kind"]) in allowed, doc["metadata"]["name"]
        namespace = doc["metadata"]["namespace"]
        assert (app["spec"]["destination"]["server"], namespace) in destinations
    assert kinds == {"AppProject", "ApplicationSet", "Application"}
    # Every project exists before the first Application that names it is synced.
    waves: dict[str, list[int]] = {}
    for doc in docs:
        wave = int(doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0))
        waves.setdefault(doc["kind"], []).append(wave)
    assert max(waves["AppProject"]) < min(waves["Application"] + waves["ApplicationSet"])


def test_validate_rendered_checks_every_argo_cd_object_strictly() -> None:
    fleet, problems = load_fleet(REPO)
    assert problems == []
    files = dict(build_plan(fleet).files)
    listed = entry_point_files(files)
    assert listed[-1] == BOOTSTRAP and "applicationsets/projects/prod.yaml" in listed
    assert sum(p.endswith("platform-apps.yaml") for p in listed) == 4
    store = SchemaStore.load([crds_dir()])
    assert check_entry_points(files, store) == []
    text = files[BOOTSTRAP].decode().replace("    targetRevision: main", "    targetRevison: main")
    files[BOOTSTRAP] = text.encode()
    (found,) = check_entry_points(files, store)
    line = text.splitlines().index("    targetRevison: main") + 1
    assert (found.code, found.location.file, found.location.line) == ("FG701", BOOTSTRAP, line)
    assert "targetRevison" in found.message


def write_config(root: Path, text: str) -> None:
    (root / ".fleetgen.yaml").write_text(text)


def test_bootstrap_follows_the_configuration(
    tmp_path: Path, run_cli: RunCli, argo_crds: SchemaStore
) -> None:
    root = copy_example(tmp_path / "repo")
    write_config(
        root,
        "bootstrap:\n  repoURL: ssh://git@git.example.com/llm/fleet.git\n"
        "  targetRevision: release-7\n  namespace: gitops\n  name: llm\n",
    )
    assert run_cli(["generate"], cwd=root).returncode == 0
    project, app = bootstrap_docs(root)
    assert app["metadata"] == {
        "name": "llm-root", "namespace": "gitops", "labels": {"fleetgen.dev/layer": "bootstrap"},
    }  # fmt: skip
    assert app["spec"]["source"]["targetRevision"] == "release-7"
    # The environments' Argo CD objects stay in their own namespace: the project admits it.
    namespaces = [d["namespace"] for d in project["spec"]["destinations"]]
    assert namespaces == ["argocd", "gitops"]
    for doc in (project, app):
        assert argo_crds.validate(doc, cel=True) == []
    # Without the setting, no root is generated, and the old one is removed.
    write_config(root, "schemaDir: schemas\n")
    done = run_cli(["generate"], cwd=root)
    assert done.returncode == 0 and f"deleted {BOOTSTRAP}" in done.stdout
    assert not (root / BOOTSTRAP).exists()
    again = run_cli(["generate", "--check"], cwd=root)
    assert again.returncode == 0, again.stdout


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("bootstrap:\n  targetRevision: main\n", "bootstrap: repoURL is required"),
        ("bootstrap: [a]\n", "bootstrap must be a mapping"),
        (
            "bootstrap: {repoURL: r, targetRevision: main, branch: x}\n",
            "bootstrap: unknown key(s) 'branch'",
        ),
        (
            "bootstrap: {repoURL: r, targetRevision: main, namespace: Argo_CD}\n",
            "namespace must be a DNS label",
        ),
        ("bootstrap: {repoURL: 'a b', targetRevision: main}\n", "must not contain whitespace"),
        ("bootstrap: {repoURL: r, targetRevision: 3}\n", "targetRevision must be a non-empty"),
    ],
)
def test_a_bad_bootstrap_setting_is_refused_and_nothing_is_written(
    tmp_path: Path, run_cli: RunCli, config: str, expected: str
) -> None:
    root = copy_example(tmp_path / "repo")
    before = (root / BOOTSTRAP).read_bytes()
    write_config(root, config)
    for command in (["generate"], ["validate"]):
        done = run_cli(command, cwd=root)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith("fleetgen: error: ") and "Traceback" not in done.stderr
        assert ".fleetgen.yaml" in done.stderr and expected in done.stderr
    assert (root / BOOTSTRAP).read_bytes() == before
