"""`fleetgen schemas import` and the repository configuration (.fleetgen.yaml)."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen.kube.schema_store import SchemaStore
from fleetgen.loading.config import ConfigError, load_config
from tests.conftest import RunCli, crds_dir
from tests.kube_fixtures import SCALED_OBJECT, crd_text

WIDGET_CRD = crd_text(
    "Widget",
    "widgets",
    textwrap.dedent(
        """\
        spec:
          type: object
          x-kubernetes-validations:
          - {rule: "self.low <= self.high", message: low above high}
          properties:
            low: {type: integer}
            high: {type: integer}
        """
    ),
    more_versions=textwrap.dedent(
        """\
        - name: v1beta1
          served: true
          storage: false
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec: {type: object, properties: {size: {type: string}}}
        """
    ),
)
GADGET_CRD = WIDGET_CRD.replace("Widget", "Gadget").replace("widgets", "gadgets")
WIDGET: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w"},
    "spec": {"low": 1, "high": 2},
}


def import_ok(run_cli: RunCli, *args: str, cwd: Path | None = None) -> list[str]:
    result = run_cli(["schemas", "import", *args], cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "schema(s)" in result.stderr
    return sorted(result.stdout.split())


def refused(run_cli: RunCli, *args: str, cwd: Path | None = None) -> str:
    result = run_cli(["schemas", "import", *args], cwd=cwd)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("fleetgen: error: ")
    return result.stderr


def names(directory: Path) -> list[str]:
    """The converted schemas written (provenance.json beside them is not one)."""
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*.json")
        if p.name != "provenance.json"
    )


# -- inline CRDs ------------------------------------------------------------------------------


def test_multi_document_file_every_served_version(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "crds.yaml").write_text(WIDGET_CRD + "---\n" + GADGET_CRD)
    out = tmp_path / "out"
    printed = import_ok(run_cli, str(tmp_path / "crds.yaml"), "--out", str(out))
    expected = [
        "example.com/gadget_v1.json",
        "example.com/gadget_v1beta1.json",
        "example.com/widget_v1.json",
        "example.com/widget_v1beta1.json",
    ]
    assert names(out) == expected
    assert printed == [str(out / name) for name in expected]
    schema = json.loads((out / "example.com/widget_v1.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["properties"]["spec"]["x-kubernetes-validations"][0]["rule"] == (
        "self.low <= self.high"
    )


def test_kubectl_list_output(run_cli: RunCli, tmp_path: Path) -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [yaml.safe_load(WIDGET_CRD), yaml.safe_load(GADGET_CRD)],
        "metadata": {"resourceVersion": ""},
    }
    (tmp_path / "all.yaml").write_text(yaml.safe_dump(listing))
    import_ok(run_cli, "all.yaml", "--out", "out", cwd=tmp_path)
    assert len(names(tmp_path / "out")) == 4


def test_directory_skips_files_without_crds(run_cli: RunCli, tmp_path: Path) -> None:
    crds = tmp_path / "crds"
    (crds / "sub").mkdir(parents=True)
    (crds / "sub" / "widget.yml").write_text(WIDGET_CRD)
    (crds / "kustomization.yaml").write_text("resources: [sub/widget.yml]\n")
    (crds / "README.md").write_text("not yaml: [\n")
    result = run_cli(["schemas", "import", str(crds), "--out", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr
    assert "1 file(s) without a CRD skipped" in result.stderr
    assert names(tmp_path / "out") == [
        "example.com/widget_v1.json",
        "example.com/widget_v1beta1.json",
    ]


def test_default_output_is_the_configured_schema_dir(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "widget.yaml").write_text(WIDGET_CRD)
    import_ok(run_cli, "widget.yaml", cwd=tmp_path)
    assert names(tmp_path / "schemas") == [
        "example.com/widget_v1.json",
        "example.com/widget_v1beta1.json",
    ]
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".fleetgen.yaml").write_text("schemaDir: k8s/schemas\n")
    import_ok(run_cli, str(tmp_path / "widget.yaml"), "--root", str(repo))
    assert len(names(repo / "k8s" / "schemas")) == 2


def test_imported_schemas_validate_like_the_crd(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "crd").mkdir()
    (tmp_path / "crd" / "widget.yaml").write_text(WIDGET_CRD)
    import_ok(run_cli, str(tmp_path / "crd"), "--out", str(tmp_path / "out"))
    raw = SchemaStore.load([tmp_path / "crd"], include_core=False)
    converted = SchemaStore.load([tmp_path / "out"], include_core=False)
    typo = copy.deepcopy(WIDGET)
    typo["spec"]["hihg"] = 3
    inverted = copy.deepcopy(WIDGET)
    inverted["spec"].update(low=5, high=1)
    for store in (raw, converted):
        assert store.validate(WIDGET, cel=True) == []
        assert [v.path for v in store.validate(typo)] == ["/spec/hihg"]
        assert [v.message for v in store.validate(inverted, cel=True)] == ["low above high"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "kind is 'ConfigMap'"),
        ("kind: CustomResourceDefinition\nspec: [1, 2\n", "not valid YAML"),
        ("kind: CustomResourceDefinition\nspec: {}\n", "spec.group or spec.names.kind is missing"),
        ("", "no CustomResourceDefinition"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    run_cli: RunCli, tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    message = refused(run_cli, "bad.yaml", "--out", "out", cwd=tmp_path)
    assert "bad.yaml" in message and expected in message
    assert not (tmp_path / "out").exists()


def test_missing_input_and_bad_config_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    assert "no such file or directory" in refused(run_cli, "missing.yaml", cwd=tmp_path)
    (tmp_path / "widget.yaml").write_text(WIDGET_CRD)
    (tmp_path / ".fleetgen.yaml").write_text("schemaDri: x\n")
    assert "unknown key(s) 'schemaDri'" in refused(run_cli, "widget.yaml", cwd=tmp_path)


# -- configuration ------------------------------------------------------------------------------


def test_config_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert (config.schema_dir, config.source) == (tmp_path / "schemas", None)


def test_config_reads_schema_dir(tmp_path: Path) -> None:
    (tmp_path / ".fleetgen.yaml").write_text("# comment\nschemaDir: crds/json\n")
    config = load_config(tmp_path)
    assert config.schema_dir == tmp_path / "crds" / "json"
    assert config.source == tmp_path / ".fleetgen.yaml"
    (tmp_path / ".fleetgen.yaml").write_text("")
    assert load_config(tmp_path).schema_dir == tmp_path / "schemas"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("schemaDir: a\nextra: 1\n", "unknown key(s) 'extra'; known keys: schemaDir"),
        ("schemaDir: /abs\n", "must be a path inside the repository"),
        ("schemaDir: ../up\n", "must be a path inside the repository"),
        ("schemaDir: 3\n", "must be a non-empty string"),
        ("schemaDir: a\nschemaDir: b\n", "duplicate key 'schemaDir'"),
        ("- a\n", "must be a mapping"),
        ("a: 1\n---\nb: 2\n", "expected one YAML document"),
    ],
)
def test_config_is_strict(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / ".fleetgen.yaml").write_text(content)
    with pytest.raises(ConfigError, match=r"\.fleetgen\.yaml") as caught:
        load_config(tmp_path)
    assert expected in str(caught.value)


# -- the real CRDs ------------------------------------------------------------------------------

REAL = (
    "keda/keda.sh_scaledobjects.yaml",
    "ai-gateway/aigateway.envoyproxy.io_aiservicebackends.yaml",
    "gateway-api/gateway.networking.k8s.io_gateways.yaml",
)
GATEWAY: dict[str, Any] = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "g", "namespace": "llm"},
    "spec": {
        "gatewayClassName": "envoy",
        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
    },
}


def test_real_crds_round_trip(run_cli: RunCli, tmp_path: Path) -> None:
    source = crds_dir()
    crds = tmp_path / "crds"
    for name in REAL:
        (crds / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, crds / name)
    out = tmp_path / "schemas"
    import_ok(run_cli, str(crds), "--out", str(out))
    assert names(out) == [
        "aigateway.envoyproxy.io/aiservicebackend_v1alpha1.json",
        "aigateway.envoyproxy.io/aiservicebackend_v1beta1.json",
        "gateway.networking.k8s.io/gateway_v1.json",
        "gateway.networking.k8s.io/gateway_v1beta1.json",
        "keda.sh/scaledobject_v1alpha1.json",
    ]
    raw, converted = SchemaStore.load([crds]), SchemaStore.load([out])
    typo = copy.deepcopy(SCALED_OBJECT)
    typo["spec"]["maxReplicasCount"] = typo["spec"].pop("maxReplicaCount")
    inverted = copy.deepcopy(SCALED_OBJECT)
    inverted["spec"].update(minReplicaCount=10, maxReplicaCount=2)
    listener_typo = copy.deepcopy(GATEWAY)
    listener_typo["spec"]["listeners"][0]["prot"] = 1
    for store in (raw, converted):
        for valid in (SCALED_OBJECT, GATEWAY):
            assert store.validate(valid, cel=True) == []
        assert [v.path for v in store.validate(typo)] == ["/spec/maxReplicasCount"]
        assert [v.path for v in store.validate(listener_typo)] == ["/spec/listeners/0/prot"]
        assert [v.path for v in store.validate(inverted, cel=True)] == ["/spec"]


# -- provenance -------------------------------------------------------------------------------


def provenance(directory: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((directory / "provenance.json").read_text())
    return record


def test_import_records_each_source_file(run_cli: RunCli, tmp_path: Path) -> None:
    crds = tmp_path / "crds"
    (crds / "shop").mkdir(parents=True)
    (crds / "shop" / "widget.yaml").write_text(WIDGET_CRD)
    (crds / "gadget.yaml").write_text(GADGET_CRD)
    (crds / "origins.yaml").write_text(
        "shop/widget.yaml: {repository: example/widgets, tag: v1.2.3, path: crds/widget.yaml}\n"
    )
    out = tmp_path / "out"
    import_ok(run_cli, str(crds), "--out", str(out), "--origins", str(crds / "origins.yaml"))
    sources = {s["file"]: s for s in provenance(out)["sources"]}
    assert sorted(sources) == ["gadget.yaml", "shop/widget.yaml"]  # relative, no machine paths
    widget = sources["shop/widget.yaml"]
    data = (crds / "shop" / "widget.yaml").read_bytes()
    assert widget["sha256"] == hashlib.sha256(data).hexdigest()
    blob = subprocess.run(
        ["git", "hash-object", str(crds / "shop" / "widget.yaml")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert widget["gitBlob"] == blob
    assert widget["bytes"] == len(data)
    assert widget["upstream"] == {
        "path": "crds/widget.yaml", "repository": "example/widgets", "tag": "v1.2.3",
    }  # fmt: skip
    assert "upstream" not in sources["gadget.yaml"]
    assert widget["schemas"] == [n for n in names(out) if "/widget_" in n]
    assert widget["crds"] == ["Widget.example.com"]
    # Byte-stable: the same inputs give the same record.
    first = (out / "provenance.json").read_bytes()
    import_ok(run_cli, str(crds), "--out", str(out), "--origins", str(crds / "origins.yaml"))
    assert (out / "provenance.json").read_bytes() == first


def test_reimport_removes_only_the_schemas_it_wrote_before(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "widget.yaml").write_text(WIDGET_CRD)
    (tmp_path / "gadget.yaml").write_text(GADGET_CRD)
    out = tmp_path / "out"
    import_ok(
        run_cli, str(tmp_path / "widget.yaml"), str(tmp_path / "gadget.yaml"), "--out", str(out)
    )
    both = names(out)
    (out / "example.com").mkdir(exist_ok=True)
    (out / "example.com" / "own_v1.json").write_text("{}")  # not written by an import
    import_ok(run_cli, str(tmp_path / "widget.yaml"), "--out", str(out))
    left = names(out)
    assert "example.com/own_v1.json" in left
    gone = set(both) - set(left)
    assert gone and all("gadget" in n for n in gone)
    assert [s["file"] for s in provenance(out)["sources"]] == ["widget.yaml"]


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        ("widget.yaml: {repository: a/b, tag: v1}\n", "missing key(s) path"),
        ("widget.yaml: {repository: a/b, tag: v1, path: p, sha: x}\n", "unknown key(s) sha"),
        ("other.yaml: {repository: a/b, tag: v1, path: p}\n", "not imported: other.yaml"),
        ("widget.yaml: [1]\n", "expected a mapping"),
    ],
)
def test_bad_origins_are_refused(
    run_cli: RunCli, tmp_path: Path, origins: str, expected: str
) -> None:
    (tmp_path / "widget.yaml").write_text(WIDGET_CRD)
    (tmp_path / "origins.yaml").write_text(origins)
    out = tmp_path / "out"
    message = refused(
        run_cli, str(tmp_path / "widget.yaml"), "--out", str(out), "--origins",
        str(tmp_path / "origins.yaml"),
    )  # fmt: skip
    assert expected in message
    assert not out.exists()  # nothing half-written
