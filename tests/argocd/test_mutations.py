"""Argo CD expansion checks (FG720-FG732): the mutation suite. Each case hand-edits a copy of
the example repository (a generated ApplicationSet or AppProject, base/, a generator file);
the real pipeline (expansion, builds, checks) must then report exactly the expected codes,
at the line of the edited file that holds the marker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fleetgen.argocd.run import check_repository, repository_urls
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.load import load_fleet
from tests.conftest import REPO, RunCli, copy_example, crds_dir


@dataclass(frozen=True)
class Mutation:
    """`edits`: (file, old, new) replacements (new files: old ""); `expect`: (code, file,
    marker): the diagnostic sits on the first line of `file` containing `marker`."""

    id: str
    edits: tuple[tuple[str, str, str], ...]
    expect: tuple[tuple[str, str, str], ...]
    also: frozenset[str] = field(default_factory=frozenset)  # other codes allowed


# prod rolls out over both clusters from one set; staging keeps one set per cluster.
PROD = "applicationsets/prod-models.yaml"
STAGING = "applicationsets/staging-staging-a.yaml"
PROJECT = "applicationsets/projects/prod.yaml"
PLATFORM_A = "applicationsets/prod/prod-a/platform-apps.yaml"
REFRESH = "argocd.argoproj.io/manifest-generate-paths"
MUTATIONS = (
    Mutation(
        "FG720-template-names-a-key-app-json-lacks",
        ((PROD, "name: '{{ .app }}'", "name: '{{ .application }}'"),),
        (("FG720", PROD, "{{ .application }}"),),
    ),
    Mutation(
        "FG720-generator-file-lacks-a-key",
        (
            (
                "applicationsets/prod/prod-a/models/llama-3-1-8b-instruct/app.json",
                ',\n  "team": "search"',
                "",
            ),
        ),
        (("FG720", PROD, "{{ .team }}"),),
    ),
    Mutation(
        "FG721-generator-not-expanded",
        ((PROD, "  - git:\n", "  - clusters: {}\n  - git:\n"),),
        (("FG721", PROD, "clusters: {}"),),
    ),
    Mutation(
        "FG722-unknown-project",
        ((PROD, "      project: prod\n", "      project: prod-models\n"),),
        (("FG722", PROD, "project: prod-models"),),
    ),
    Mutation(
        "FG723-project-destination-namespace",
        ((PROJECT, "    namespace: llm\n", "    namespace: llm-models\n"),),
        (("FG723", PROD, "destination:"),),
    ),
    Mutation(
        "FG724-project-drops-the-kv-cache-deployment",
        ((PROJECT, "  - group: apps\n    kind: Deployment\n", ""),),
        (("FG724", PROJECT, "namespaceResourceWhitelist"),),
    ),
    Mutation(
        "FG724-base-adds-a-cluster-scoped-kind",
        (
            (
                "base/model/kustomization.yaml",
                "resources:\n",
                "resources:\n- clusterrole.yaml\n",
            ),
            (
                "base/model/clusterrole.yaml",
                "",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                "metadata:\n  name: model\nrules: []\n",
            ),
        ),
        (("FG724", PROJECT, "clusterResourceWhitelist"),),
        also=frozenset({"FG730"}),  # every model app renders the same ClusterRole
    ),
    Mutation(
        "FG725-refresh-path-typo",
        ((PROD, ".;/base/model;/base/llmisvc;", ".;/base/modle;/base/llmisvc;"),),
        (("FG725", PROD, REFRESH), ("FG726", PROD, REFRESH)),
    ),
    Mutation(
        "FG725-FG726-relative-app-path",
        (
            (
                PROD,
                ": .;/base/model;/base/llmisvc;/base/components",
                ": '{{ .path.path }};/base/model;/base/llmisvc;/base/components'",
            ),
        ),
        (("FG725", PROD, REFRESH), ("FG726", PROD, REFRESH)),
    ),
    Mutation(
        "FG726-components-not-covered",
        ((PROD, ";/base/llmisvc;/base/components", ";/base/llmisvc"),),
        (("FG726", PROD, REFRESH),),
    ),
    Mutation(
        "FG727-gateway-namespace-not-created",
        (("base/platform/kustomization.yaml", "- namespace.yaml\n", ""),),
        (("FG727", PLATFORM_A, "path: applicationsets/prod/prod-a/platform"),),
    ),
    Mutation(
        "FG728-create-namespace-in-the-models-project",
        (
            (
                PROD,
                "        - ServerSideApply=true\n",
                "        - CreateNamespace=true\n        - ServerSideApply=true\n",
            ),
        ),
        (("FG728", PROD, "syncOptions:"),),
    ),
    Mutation(
        "FG729-FG727-models-in-the-crd-wave",
        ((PROD, "argocd.argoproj.io/sync-wave: '0'", "argocd.argoproj.io/sync-wave: '-4'"),),
        (("FG729", PROD, "sync-wave"), ("FG727", PROD, "namespace: llm")),
    ),
    Mutation(
        "FG730-two-generators-deploy-to-one-cluster",
        (
            (
                PROD,
                "        server: https://prod-b.k8s.example.com",
                "        server: https://prod-a.k8s.example.com",
            ),
        ),
        (("FG730", PROD, "path: '{{ .path.path }}'"),),
    ),
    Mutation(
        "FG731-application-names-collide-across-clusters",
        ((PROD, "name: '{{ .app }}'", "name: '{{ .model }}'"),),
        (("FG731", PROD, "name: '{{ .model }}'"),),
    ),
    Mutation(
        "FG722-unknown-project-in-a-per-cluster-set",
        ((STAGING, "      project: staging\n", "      project: staging-models\n"),),
        (("FG722", STAGING, "project: staging-models"),),
    ),
    Mutation(
        "FG732-path-is-the-basename-in-a-per-cluster-set",
        ((STAGING, "path: '{{ .path.path }}'", "path: '{{ .path.basename }}'"),),
        (("FG732", STAGING, "path: '{{ .path.basename }}'"), ("FG725", STAGING, REFRESH)),
    ),
    Mutation(
        "FG732-path-is-the-basename",
        ((PROD, "path: '{{ .path.path }}'", "path: '{{ .path.basename }}'"),),
        (("FG732", PROD, "path: '{{ .path.basename }}'"), ("FG725", PROD, REFRESH)),
    ),
)


def apply(root: Path, mutation: Mutation) -> None:
    for rel, old, new in mutation.edits:
        path = root / rel
        if not old:
            path.write_text(new)
            continue
        content = path.read_text()
        assert old in content, (rel, old)
        path.write_text(content.replace(old, new, 1))


def argocd_diagnostics(root: Path) -> list[Diagnostic]:
    fleet, _ = load_fleet(root)
    return check_repository(root, repository_urls(fleet)).diagnostics


def line_of(root: Path, file: str, marker: str) -> int:
    lines = (root / file).read_text().splitlines()
    return next(i for i, text in enumerate(lines, start=1) if marker in text)


def test_example_repository_passes_the_argocd_checks() -> None:
    assert argocd_diagnostics(REPO) == []


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutation_is_caught(mutation: Mutation, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    apply(root, mutation)
    found = argocd_diagnostics(root)
    listing = [f"{d.location} {d.code} {d.message}" for d in found]
    for code, file, marker in mutation.expect:
        line = line_of(root, file, marker)
        assert any(
            d.code == code and d.location.file == file and d.location.line == line for d in found
        ), (code, file, line, listing)
    allowed = {code for code, _, _ in mutation.expect} | mutation.also
    assert {d.code for d in found} <= allowed, listing


def test_validate_all_reports_argocd_findings_through_the_cli(
    run_cli: RunCli, tmp_path: Path
) -> None:
    root = copy_example(tmp_path / "repo")
    apply(root, MUTATIONS[5])  # the prod project no longer admits the Redis Deployment
    args = ["validate", "--all", "--format", "json", "--schema-dir", str(crds_dir())]
    result = run_cli([*args, "--root", str(root)])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    found = json.loads(result.stdout)
    hits = [d for d in found if d["code"] == "FG724"]
    assert hits and all(d["file"] == PROJECT for d in hits)
    assert {d["line"] for d in hits} == {line_of(root, PROJECT, "namespaceResourceWhitelist")}
    assert "apps:Deployment" in hits[0]["message"]
    # The hand edit is also drift from the generator.
    assert any(d["code"] == "FG714" for d in found)


def test_a_generated_file_that_is_not_yaml_is_a_diagnostic(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    apply(root, Mutation("broken", ((PROD, "  template:\n", "  template: [\n"),), ()))
    found = argocd_diagnostics(root)
    assert [d.code for d in found] == ["FG732"]
    assert found[0].location.file == "applicationsets/bootstrap.yaml"
    assert PROD in found[0].message


def covered_codes() -> set[str]:
    return {code for m in MUTATIONS for code, _, _ in m.expect}
