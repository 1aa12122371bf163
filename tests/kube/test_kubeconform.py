"""The kubeconform engine: schema preparation, its report parsed into per-document verdicts,
and (where a real kubeconform is on PATH) the same verdicts as the Python engine."""

from __future__ import annotations

import copy
import json
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from fleetgen.kube import kubeconform
from fleetgen.kube.crd_import import import_crds
from fleetgen.kube.kubeconform import (
    KubeconformError,
    core_schema_filename,
    parse_output,
    validate_with_kubeconform,
)
from fleetgen.kube.schema_store import SchemaStore, core_schema_dir
from tests.conftest import crds_dir
from tests.kube_fixtures import SCALED_OBJECT

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "llm"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}
CONFIG_MAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c"},
    "data": {"a": "b"},
}


def with_typo(doc: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    return broken


@pytest.mark.parametrize(
    ("api_version", "kind", "name"),
    [
        ("v1", "ConfigMap", "configmap-v1.json"),
        ("apps/v1", "Deployment", "deployment-apps-v1.json"),
        ("serving.kserve.io/v1beta1", "InferenceService", "inferenceservice-serving-v1beta1.json"),
    ],
)
def test_core_file_names_follow_kind_suffix(api_version: str, kind: str, name: str) -> None:
    assert core_schema_filename(api_version, kind) == name


def test_standalone_core_schemas_validate_like_the_store(tmp_path: Path) -> None:
    docs = [DEPLOYMENT, CONFIG_MAP, {"apiVersion": "networking.example.io/v1", "kind": "Ingress"}]
    out = tmp_path / "core"
    kubeconform._write_core_schemas(docs, core_schema_dir("1.32.0"), out)
    assert sorted(p.name for p in out.iterdir()) == [
        "configmap-v1.json",
        "deployment-apps-v1.json",  # no file for the look-alike networking.example.io group
    ]
    text = (out / "deployment-apps-v1.json").read_text()
    assert "/api/_definitions.json" not in text
    validator = Draft202012Validator(json.loads(text))
    store = SchemaStore.load([])
    for doc in (DEPLOYMENT, with_typo(DEPLOYMENT)):
        expected = [v.path for v in store.validate(doc)]
        found = ["".join(f"/{p}" for p in e.absolute_path) for e in validator.iter_errors(doc)]
        assert found == [p.rsplit("/", 1)[0] for p in expected]  # additionalProperties: parent


def test_report_becomes_per_document_verdicts() -> None:
    docs = [DEPLOYMENT, with_typo(DEPLOYMENT), {"apiVersion": "x.io/v1", "kind": "Thing"}]
    report = {
        "resources": [
            {
                "filename": "/tmp/k/docs/000001.yaml",
                "kind": "Deployment",
                "status": "statusInvalid",
                "msg": "problem",
                "validationErrors": [
                    {"path": "/spec/template/spec/containers/0", "msg": "additional properties"}
                ],
            },
            {
                "filename": "/tmp/k/docs/000002.yaml",
                "status": "statusError",
                "msg": "could not find schema for Thing",
            },
        ],
        "summary": {"valid": 1, "invalid": 1, "errors": 1, "skipped": 0},
    }
    valid, typo, missing = parse_output(json.dumps(report), docs)
    assert valid == []
    assert [(v.kind, v.name, v.path) for v in typo] == [
        ("Deployment", "web", "/spec/template/spec/containers/0")
    ]
    assert [v.message for v in missing] == ["no schema for x.io/v1/Thing"]
    with pytest.raises(KubeconformError, match="not its JSON report"):
        parse_output("oops", docs, stderr="flag provided but not defined")


def test_command_line_and_schema_locations(tmp_path: Path) -> None:
    """A stand-in executable records its arguments and answers with a canned report."""
    record = tmp_path / "argv.json"
    fake = tmp_path / "kubeconform"
    fake.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, pathlib, sys
            pathlib.Path({str(record)!r}).write_text(json.dumps(sys.argv[1:]))
            docs = sorted(pathlib.Path(sys.argv[-1]).iterdir())
            bad = {{"filename": str(docs[1]), "status": "statusInvalid", "msg": "m"}}
            print(json.dumps({{"resources": [bad], "summary": {{}}}}))
            sys.exit(1)
            """
        )
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    verdicts = validate_with_kubeconform(
        [DEPLOYMENT, CONFIG_MAP], schema_dir=tmp_path / "schemas", executable=str(fake)
    )
    assert [len(v) for v in verdicts] == [0, 1]
    argv = json.loads(record.read_text())
    assert argv[:5] == ["-strict", "-summary", "-output", "json", "-schema-location"]
    locations = [argv[i + 1] for i, a in enumerate(argv) if a == "-schema-location"]
    assert locations[0] == f"{tmp_path / 'schemas'}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_" + (
        "{{.ResourceAPIVersion}}.json"
    )
    assert locations[1].endswith("/core/{{.ResourceKind}}{{.KindSuffix}}.json")


# -- a real kubeconform ----------------------------------------------------------------------


def real_kubeconform() -> str:
    exe = kubeconform.kubeconform_path()
    if exe is None:
        pytest.skip(
            "kubeconform is not on PATH (no package registry ships it: not PyPI, Debian or npm); "
            "put a kubeconform binary on PATH to compare the two engines"
        )
    return exe


def test_both_engines_agree(tmp_path: Path) -> None:
    exe = real_kubeconform()
    schemas = tmp_path / "schemas"
    import_crds([crds_dir() / "keda" / "keda.sh_scaledobjects.yaml"], schemas)
    typo_so = copy.deepcopy(SCALED_OBJECT)
    typo_so["spec"]["maxReplicasCount"] = typo_so["spec"].pop("maxReplicaCount")
    wrong_type = copy.deepcopy(CONFIG_MAP)
    wrong_type["data"]["n"] = 1
    corpus = [
        DEPLOYMENT,
        CONFIG_MAP,
        SCALED_OBJECT,
        with_typo(DEPLOYMENT),
        typo_so,
        wrong_type,
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
    ]
    store = SchemaStore.load([schemas])
    python = [store.validate(doc) for doc in corpus]
    go = validate_with_kubeconform(corpus, schema_dir=schemas, executable=exe)
    assert [bool(v) for v in go] == [bool(v) for v in python] == [0, 0, 0, 1, 1, 1, 1]
    assert [v.message for v in go[-1]] == [v.message for v in python[-1]]
