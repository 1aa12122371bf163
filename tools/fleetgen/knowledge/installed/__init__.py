"""The platform bill of materials: what each prerequisite Helm chart fleetgen pins installs.

One data file per chart version (`data/<chart>-<version>.json`): the chart and app version,
the CRDs it carries (group, kind, served versions, the upstream release they come from), and
the Services it creates (name as the chart computes it from the release name and
`fullnameOverride`, namespace, ports with name, number and protocol, and the values condition
under which it creates each). Each file is derived from the chart's source directory at the
pinned tag by `python -m fleetgen.knowledge.installed` (see `extract`), which records the
upstream repository, ref, path and the sha256 of every file read; facts the sources cannot
show sit under `curated`, each with its reason.

`installed_services` answers the question the wiring checks ask: given the release name,
namespace and values fleetgen installs a chart with, which Services exist, with which ports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fleetgen.knowledge.installed import gotemplate
from fleetgen.knowledge.installed.gotemplate import FullnameRule, Unsupported

__all__ = [
    "ChartBom",
    "InstalledPort",
    "InstalledService",
    "bill_of_materials",
    "find",
    "installed_services",
    "known_versions",
]


@dataclass(frozen=True, slots=True)
class Crd:
    group: str
    kind: str
    versions: tuple[str, ...]
    bundle: Mapping[str, str]  # upstream release annotations, e.g. operator.prometheus.io/version


@dataclass(frozen=True, slots=True)
class PortFact:
    name: str
    port: int | str
    protocol: str
    app_protocol: str | None
    port_value: str | None  # the values path that sets the port, when one does
    name_value: str | None


@dataclass(frozen=True, slots=True)
class ServiceFact:
    template: str
    name: str  # with <release>, <namespace>, <fullname:DEFINE> placeholders
    namespace: str
    when: str | None  # the template's top-level condition
    ports: tuple[PortFact, ...]


@dataclass(frozen=True, slots=True)
class ChartBom:
    chart: str
    version: str
    app_version: str
    repo: str
    ref: str
    path: str
    crds: tuple[Crd, ...]
    fullnames: Mapping[str, tuple[FullnameRule, str | None]]  # define -> rule, default override
    services: tuple[ServiceFact, ...]
    defaults: Mapping[str, Any]  # values path -> chart default, for what the facts read
    curated: Mapping[str, Any]
    data_file: str

    @property
    def source(self) -> str:
        return f"{self.repo} {self.path} @ {self.ref}"


@dataclass(frozen=True, slots=True)
class InstalledPort:
    name: str
    port: int | str
    protocol: str
    app_protocol: str | None


@dataclass(frozen=True, slots=True)
class InstalledService:
    name: str
    namespace: str
    ports: tuple[InstalledPort, ...]
    certain: bool  # False: its condition could not be evaluated, it may or may not exist
    template: str


def _service(s: Mapping[str, Any], template: str) -> ServiceFact:
    return ServiceFact(
        template,
        s["name"],
        s["namespace"],
        s.get("when"),
        tuple(
            PortFact(
                str(p.get("name", "")),
                p["port"],
                str(p.get("protocol", "TCP")),
                p.get("appProtocol"),
                p.get("portValue"),
                p.get("nameValue"),
            )
            for p in s.get("ports", [])
        ),
    )


def _bom(data: Mapping[str, Any], data_file: str) -> ChartBom:
    source = data["source"]
    curated = dict(data.get("curated", {}))
    return ChartBom(
        chart=str(data["chart"]),
        version=str(data["version"]),
        app_version=str(data.get("appVersion", "")),
        repo=str(source["repo"]),
        ref=str(source["ref"]),
        path=str(source["path"]),
        crds=tuple(
            Crd(c["group"], c["kind"], tuple(c["versions"]), dict(c.get("bundleVersion", {})))
            for c in data.get("crds", [])
        ),
        fullnames={
            define: (
                FullnameRule(
                    rule["override"],
                    rule["nameOverride"],
                    int(rule["truncate"]),
                    rule.get("defaultName"),
                ),
                rule.get("overrideDefault"),
            )
            for define, rule in data.get("fullnames", {}).items()
        },
        # Services a controller creates for what the chart declares: curated, with reasons.
        services=tuple(_service(s, s["template"]) for s in data.get("services", []))
        + tuple(_service(s, "curated") for s in curated.get("services", [])),
        defaults=dict(data.get("values", {})),
        curated=curated,
        data_file=data_file,
    )


@cache
def bill_of_materials() -> dict[tuple[str, str], ChartBom]:
    """Every known (chart, version) -> its bill of materials."""
    found: dict[tuple[str, str], ChartBom] = {}
    for entry in sorted(resources.files(__package__).joinpath("data").iterdir(), key=str):
        if entry.name.endswith(".json"):
            bom = _bom(json.loads(entry.read_text(encoding="utf-8")), f"data/{entry.name}")
            found[(bom.chart, bom.version)] = bom
    return found


def find(chart: str, version: str) -> ChartBom | None:
    return bill_of_materials().get((chart, version))


def known_versions(chart: str) -> list[str]:
    return sorted(v for c, v in bill_of_materials() if c == chart)


def _nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node.setdefault(leaf, value)
    return tree


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _fill(text: str, bom: ChartBom, release: str, namespace: str, values: Mapping[str, Any]) -> str:
    text = text.replace(gotemplate.RELEASE, release).replace(gotemplate.NAMESPACE, namespace)
    for define, (rule, default) in bom.fullnames.items():
        marker = f"<fullname:{define}>"
        if marker in text:
            given = values if gotemplate.lookup(values, rule.override) is not None else None
            effective = given or _merged(values, _nested({rule.override: default}))
            text = text.replace(marker, rule.apply(release, bom.chart, effective))
    return text


def installed_services(
    bom: ChartBom, *, release: str, namespace: str, values: Mapping[str, Any]
) -> list[InstalledService]:
    """The Services the chart creates for this release, namespace and values (over the chart
    defaults the data records), with their ports."""
    effective = _merged(_nested(bom.defaults), values)
    chart = gotemplate.Chart(bom.chart, bom.version, bom.app_version, {})
    found: list[InstalledService] = []
    for service in bom.services:
        certain = True
        if service.when is not None:
            try:
                if not gotemplate.evaluate(chart, service.when, effective):
                    continue
            except (Unsupported, TypeError, ValueError):
                certain = False  # e.g. a condition on a template variable
        ports = []
        for port in service.ports:
            number = port.port
            if port.port_value is not None:
                number = gotemplate.lookup(effective, port.port_value) or number
            name = port.name
            if port.name_value is not None:
                name = str(gotemplate.lookup(effective, port.name_value) or name)
            ports.append(
                InstalledPort(
                    _fill(name, bom, release, namespace, effective),
                    number,
                    port.protocol,
                    port.app_protocol,
                )
            )
        found.append(
            InstalledService(
                _fill(service.name, bom, release, namespace, effective),
                _fill(service.namespace, bom, release, namespace, effective),
                tuple(ports),
                certain,
                service.template,
            )
        )
    return found
