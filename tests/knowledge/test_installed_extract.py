"""The bill-of-materials extractor on small chart directories the tests write themselves."""

from __future__ import annotations

import bz2
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleetgen.knowledge.installed import _bom, installed_services
from fleetgen.knowledge.installed import gotemplate as gt
from fleetgen.knowledge.installed.extract import extract

HELPERS = """\
{{/*
Usage: {{ include "web.fullname" . }} -- braces inside a comment
*/}}
{{- define "web.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "web.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- define "web.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}
{{- define "web.grpcPort" -}}
{{- .Values.server.grpcPort | default 4317 }}
{{- end -}}
"""

SERVICE = """\
{{- $kube := .Capabilities.KubeVersion.GitVersion }}
{{- if and .Values.service.enabled (eq .Values.mode "primary") }}
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-api" (include "web.fullname" .) }}
  namespace: {{ include "web.namespace" . | quote }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  ports:
    - name: {{ .Values.service.portName }}
      port: {{ .Values.service.port }}
      {{- if semverCompare ">=1.20-0" $kube }}
      appProtocol: http
      {{- end }}
    - name: grpc
      port: {{ template "web.grpcPort" . }}
    {{- range .Values.service.extraPorts }}
    - name: {{ .name }}
      port: {{ .port }}
    {{- end }}
{{- end }}
"""

HEADLESS = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "web.fullname" . }}-headless
spec:
  clusterIP: None
  {{- with .Values.headless.ports }}
  ports:
  {{- toYaml . | nindent 4 }}
  {{- end }}
"""

UNREADABLE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Files.Get "name.txt" }}
"""

VALUES = """\
nameOverride: ""
fullnameOverride: ""
mode: primary
server:
  grpcPort: 4317
service:
  enabled: true
  port: 8080
  portName: http
  extraPorts:
    - {name: extra, port: 9000}
headless:
  ports:
    - {name: peer, port: 7000, protocol: UDP}
"""

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.dev
  annotations:
    controller-gen.kubebuilder.io/version: v0.19.0
spec:
  group: example.dev
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - {name: v1beta1, served: true, storage: false}
    - {name: v1, served: true, storage: true}
    - {name: v1alpha1, served: false, storage: false}
"""

TEMPLATED_CRD = """\
{{- if .Values.crds.enabled }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.dev
  labels: {{ include "web.name" . }}
spec:
  group: example.dev
  names: {kind: Gadget, plural: gadgets}
  versions:
    - {name: v1, served: true, storage: true}
{{- end }}
"""


def _chart(root: Path) -> Path:
    (root / "templates" / "sub").mkdir(parents=True)
    (root / "crds").mkdir()
    (root / "files").mkdir()
    (root / "Chart.yaml").write_text(
        "apiVersion: v2\nname: web\nversion: 0.0.0-dev\nappVersion: '2.1.0'\n", encoding="utf-8"
    )
    (root / "values.yaml").write_text(VALUES, encoding="utf-8")
    (root / "templates" / "_helpers.tpl").write_text(HELPERS, encoding="utf-8")
    (root / "templates" / "service.yaml").write_text(SERVICE, encoding="utf-8")
    (root / "templates" / "sub" / "headless.yaml").write_text(HEADLESS, encoding="utf-8")
    (root / "templates" / "odd.yaml").write_text(UNREADABLE, encoding="utf-8")
    (root / "templates" / "crd.yaml").write_text(TEMPLATED_CRD, encoding="utf-8")
    (root / "crds" / "widgets.yaml").write_text(CRD, encoding="utf-8")
    bundle = CRD.replace("widgets", "sprockets").replace("Widget", "Sprocket")
    (root / "files" / "crds.bz2").write_bytes(bz2.compress(bundle.encode()))
    return root


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return _chart(tmp_path / "web")


def _data(chart: Path) -> dict[str, object]:
    curated = {"ports": {"http": {"speaks": ["http"], "tls": False, "reason": "test"}}}
    return extract(
        chart, repo="example/web", ref="v2.1.0", path="charts/web", version="2.1.0",
        curated=curated,
    )  # fmt: skip


def test_provenance_records_every_file_read_with_its_sha256(chart: Path) -> None:
    data = _data(chart)
    assert data["source"] == {"repo": "example/web", "ref": "v2.1.0", "path": "charts/web"}
    assert data["version"] == "2.1.0" and data["chartYamlVersion"] == "0.0.0-dev"
    assert data["appVersion"] == "2.1.0"
    files = {f["path"]: f["sha256"] for f in data["files"]}  # type: ignore[attr-defined]
    for name in ("Chart.yaml", "values.yaml", "templates/_helpers.tpl", "templates/service.yaml",
                 "crds/widgets.yaml", "files/crds.bz2"):  # fmt: skip
        assert files[name] == hashlib.sha256((chart / name).read_bytes()).hexdigest()
    assert data["curated"] == {
        "ports": {"http": {"speaks": ["http"], "tls": False, "reason": "test"}}
    }


def test_crds_from_crds_dir_templates_and_compressed_bundles(chart: Path) -> None:
    crds = {c["kind"]: c for c in _data(chart)["crds"]}  # type: ignore[attr-defined]
    assert set(crds) == {"Widget", "Gadget", "Sprocket"}
    assert crds["Widget"]["versions"] == ["v1beta1", "v1"]  # v1alpha1 is not served
    assert crds["Widget"]["storage"] == "v1"
    assert crds["Widget"]["bundleVersion"] == {"controller-gen.kubebuilder.io/version": "v0.19.0"}


def test_service_names_ports_and_conditions(chart: Path) -> None:
    data = _data(chart)
    services = {s["template"]: s for s in data["services"]}  # type: ignore[attr-defined]
    api = services["templates/service.yaml"]
    assert api["name"] == "<fullname:web.fullname>-api"
    assert api["namespace"] == "<namespace>"
    assert api["when"] == 'and .Values.service.enabled (eq .Values.mode "primary")'
    ports = {p["name"]: p for p in api["ports"]}
    assert ports["http"] == {
        "name": "http",
        "nameValue": "service.portName",
        "port": 8080,
        "portValue": "service.port",
        "appProtocol": "http",
        "protocol": "TCP",
    }
    assert ports["grpc"]["port"] == 4317 and ports["extra"]["port"] == 9000
    headless = services["templates/sub/headless.yaml"]
    assert headless["ports"] == [{"name": "peer", "port": 7000, "protocol": "UDP"}]
    assert data["fullnames"] == {
        "web.fullname": {
            "override": "fullnameOverride",
            "overrideDefault": None,
            "nameOverride": "nameOverride",
            "truncate": 40,
            "defaultName": None,
        }
    }
    assert data["notDerived"] == [
        {
            "template": "templates/odd.yaml",
            "reason": ".Files.Get is only known to a cluster or a packaged chart",
        }
    ]


def test_installed_services_follow_release_values_and_conditions(chart: Path) -> None:
    bom = _bom(_data(chart), "data/web-2.1.0.json")

    def names(release: str, **values: object) -> dict[str, list[int | str]]:
        found = installed_services(bom, release=release, namespace="apps", values=values)
        return {f"{s.namespace}/{s.name}": [p.port for p in s.ports] for s in found}

    assert names("shop") == {
        "apps/shop-web-api": [8080, 4317, 9000],
        "apps/shop-web-headless": [7000],
    }
    assert "apps/web-api" in names("web")  # the release contains the chart name
    assert "apps/front-api" in names("shop", fullnameOverride="front")
    assert "apps/shop-web-api" not in names("shop", mode="replica")
    assert names("shop", service={"port": 80})["apps/shop-web-api"][0] == 80
    long = "x" * 50
    assert f"apps/{'x' * 40}-api" in names(long)  # the helper truncates at 40


def test_the_command_writes_the_same_data(chart: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "fleetgen.knowledge.installed", str(chart), "--repo",
         "example/web", "--ref", "v2.1.0", "--path", "charts/web", "--version", "2.1.0"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(run.stdout)
    assert data["generator"] == "python -m fleetgen.knowledge.installed"
    assert [s["name"] for s in data["services"]] == [
        "<fullname:web.fullname>-api",
        "<fullname:web.fullname>-headless",
    ]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ printf "%s-%d" "a" 3 }}', "a-3"),
        ("{{ .Values.missing | default 7 }}", "7"),
        ("  {{- if .Values.on }}yes{{ else }}no{{ end -}}  ", "yes"),
        ('{{ if eq .Values.mode "x" }}x{{ else if .Values.on }}on{{ end }}', "on"),
        ("{{ with .Values.list }}{{ len . }}{{ end }}", "2"),
        ("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ end }}", "0=a;1=b;"),
        ('{{ contains "}}" "a}}b" }}', "true"),
        ("{{ .Release.Name }}.{{ .Release.Namespace }}", "<release>.<namespace>"),
        ("{{ toYaml .Values.map | nindent 2 }}", "\n  k: v"),
    ],
)
def test_template_subset(template: str, expected: str) -> None:
    chart = gt.Chart("c", "1", "1", {})
    nodes, _ = gt.parse(template)
    values = {"on": True, "mode": "y", "list": ["a", "b"], "map": {"k": "v"}}
    assert gt.render(chart, nodes, values) == expected


def test_outside_the_subset_is_unsupported() -> None:
    chart = gt.Chart("c", "1", "1", {})
    for template in ('{{ sha256sum "x" }}', "{{ if .Values.a }}", '{{ include "nope" . }}'):
        with pytest.raises(gt.Unsupported):
            nodes, _ = gt.parse(template)
            gt.render(chart, nodes, {})
