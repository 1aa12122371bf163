"""The committed bill of materials: provenance on every file, every chart the example pins
known, and the curated CRD groups Argo CD's checks use agree with what the charts carry."""

from __future__ import annotations

import json
import re
from importlib import resources

import yaml

from fleetgen.knowledge.cluster_api import chart_crds
from fleetgen.knowledge.installed import bill_of_materials, find, installed_services
from tests.conftest import REPO

DATA = resources.files("fleetgen.knowledge.installed").joinpath("data")


def _files() -> list[dict[str, object]]:
    return [
        json.loads(f.read_text(encoding="utf-8"))
        for f in sorted(DATA.iterdir(), key=str)
        if f.name.endswith(".json")
    ]


def test_every_data_file_records_where_it_came_from() -> None:
    files = _files()
    assert len(files) == len(bill_of_materials()) >= 12
    for data in files:
        assert data["generator"] == "python -m fleetgen.knowledge.installed"
        source = data["source"]
        assert isinstance(source, dict) and {"repo", "ref", "path"} <= set(source)
        read = data["files"]
        assert isinstance(read, list) and read
        paths = {f["path"] for f in read}
        assert "Chart.yaml" in paths
        for entry in read:
            assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]), entry
        for section in ("ports",):
            for facts in (data["curated"].get(section) or {}).values():  # type: ignore[union-attr]
                assert facts["reason"], facts
        for service in data["curated"].get("services", []):  # type: ignore[union-attr]
            assert service["reason"], service


def _pins() -> set[tuple[str, str]]:
    pins = set()
    for env in sorted((REPO / "environments").glob("*/environment.yaml")):
        spec = yaml.safe_load(env.read_text(encoding="utf-8"))["spec"]
        for chart in spec["platform"]["prerequisites"].values():
            pins.add((chart["chart"], chart["version"]))
    return pins


def test_every_chart_the_example_pins_is_known() -> None:
    assert {pin for pin in _pins() if find(*pin) is None} == set()


def test_the_curated_crd_groups_are_what_the_pinned_charts_carry() -> None:
    for chart, version in sorted(_pins()):
        curated = chart_crds().get(chart)
        bom = find(chart, version)
        if curated is None or bom is None:
            continue
        assert curated.groups <= {c.group for c in bom.crds}, (chart, version)


def test_the_example_prometheus_service_is_where_the_environments_point() -> None:
    bom = find("kube-prometheus-stack", "79.0.0")
    assert bom is not None and bom.app_version == "v0.86.1"
    assert {c.bundle.get("operator.prometheus.io/version") for c in bom.crds} == {"0.86.1"}
    found = installed_services(
        bom, release="kube-prometheus-stack", namespace="monitoring", values={}
    )
    web = {(s.name, p.port) for s in found for p in s.ports if p.name in ("http-web", "web")}
    assert ("kube-prometheus-stack-prometheus", 9090) in web
    assert ("prometheus-operated", 9090) in web  # curated: the operator's governing Service
