"""FG901-FG909: the URLs and namespaces an environment declares must reach what its pinned
prerequisite charts install.

The Services, ports and namespaces come from the platform bill of materials
(`knowledge.installed`), evaluated for the release name, namespace and values fleetgen
installs each chart with (`render.prerequisites.releases`): the same function that writes
the prerequisite Applications, so both sides agree. Only in-cluster hosts
(`<service>.<namespace>.svc[...]`) of a chart the environment pins are compared; an external
endpoint, or a chart the bill of materials does not know (FG901, a warning at `--rendered`),
is left alone. Each finding sits on the environment line that holds the URL. Run once per
fleet by `validate --rendered` (the checks read environments, not one cluster's objects).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.domain.environment import Environment
from fleetgen.knowledge import installed
from fleetgen.knowledge.installed import ChartBom, InstalledPort, InstalledService
from fleetgen.loading.fleet import Fleet
from fleetgen.render import prerequisites
from fleetgen.render.prerequisites import Release

# The default port of a URL scheme.
DEFAULT_PORTS = {"http": 80, "https": 443, "redis": 6379, "rediss": 6379}
TLS_SCHEMES = frozenset({"https", "rediss"})
# What the client on each endpoint speaks (the OTLP one: the environment's phoenix.protocol).
PROMETHEUS_API = "prometheus-api"
REDIS = "redis"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A URL the environment declares and the prerequisite it must reach."""

    what: str  # for messages: "the Prometheus URL"
    component: str  # prerequisites key
    text: str  # as the environment writes it
    url: str  # with a scheme
    speaks: str  # the protocol the client uses on it
    at: Location
    namespace_field: str  # where to move it, for hints


def _releases(env: Environment) -> dict[str, Release]:
    if not env.clusters:
        return {}
    found = prerequisites.releases(env, env.clusters[0], uses_cache=True)
    return {r.component.key: r for r in found}


def _endpoints(env: Environment) -> Iterator[Endpoint]:
    src = env.source
    yield Endpoint(
        "the Prometheus URL",
        "kubePrometheusStack",
        env.prometheus.url,
        env.prometheus.url,
        PROMETHEUS_API,
        src.at("spec", "prometheus", "url"),
        "platform.prerequisites.kubePrometheusStack.namespace",
    )
    if env.phoenix is not None:
        yield Endpoint(
            "the Phoenix endpoint",
            "phoenix",
            env.phoenix.endpoint,
            env.phoenix.endpoint,
            env.phoenix.protocol,
            src.at("spec", "phoenix", "endpoint"),
            "phoenix.namespace",
        )
    redis = env.platform.redis_url
    yield Endpoint(
        "the platform Redis URL",
        "redis",
        redis,
        redis if "://" in redis else f"redis://{redis}",
        REDIS,
        src.at("spec", "platform", "redisURL"),
        "platform.prerequisites.redis.namespace",
    )


@dataclass(frozen=True, slots=True)
class _Host:
    service: str
    namespace: str


def _in_cluster(url: SplitResult, services: frozenset[str] = frozenset()) -> _Host | None:
    """`<service>.<namespace>.svc[.<cluster domain>]`, or `<service>.<namespace>` (the
    resolver's search path completes it) when `<service>` is one the chart creates; None for
    any other host, which may be outside the cluster."""
    labels = (url.hostname or "").split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return _Host(labels[0], labels[1])
    if len(labels) == 2 and labels[0] in services:
        return _Host(labels[0], labels[1])
    return None


def _port_facts(bom: ChartBom, service: InstalledService, port: InstalledPort) -> Mapping[str, Any]:
    """Curated facts about a chart port (what it speaks, TLS), matched by its name, or by
    `<service>/<port>` patterns."""
    for pattern, facts in (bom.curated.get("ports") or {}).items():
        name = f"{service.name}/{port.name}" if "/" in pattern else port.name
        if fnmatch.fnmatchcase(name, pattern):
            return dict(facts)
    if port.app_protocol:
        return {"speaks": [port.app_protocol], "tls": port.app_protocol == "https"}
    return {}


def _describe(service: InstalledService) -> str:
    ports = ", ".join(f"{p.port} ({p.name})" if p.name else str(p.port) for p in service.ports)
    return f"{service.name}.{service.namespace} serves {ports}"


def _where(release: Release) -> str:
    return f"{release.chart.chart} {release.chart.version} (release {release.name!r})"


def _check(env: Environment, endpoint: Endpoint, release: Release) -> Iterator[Diagnostic]:
    bom = installed.find(release.chart.chart, release.chart.version)
    if bom is None:
        return  # FG901 (validate --rendered) says so
    url = urlsplit(endpoint.url)
    services = installed.installed_services(
        bom, release=release.name, namespace=release.namespace, values=release.values
    )
    host = _in_cluster(url, frozenset(s.name for s in services))
    if host is None:
        if url.hostname and "." not in url.hostname:
            yield diag(
                "FG908",
                f"{endpoint.what} {endpoint.text!r} names the bare Service {url.hostname!r}: it "
                f"resolves only inside its own namespace, {release.namespace!r}, while the "
                f"models and the platform call it from {env.namespace!r} and others",
                endpoint.at,
                hint=f"write the full host {url.hostname}.{release.namespace}.svc.cluster.local",
            )
        return
    offered = [s for s in services if s.namespace == release.namespace]
    if host.namespace != release.namespace:
        yield diag(
            "FG903",
            f"{endpoint.what} {endpoint.text!r} points into namespace {host.namespace!r}, but "
            f"the environment installs {_where(release)} into {release.namespace!r}",
            endpoint.at,
            hint=f"move the URL to {release.namespace!r} too, or set {endpoint.namespace_field}"
            f" to {host.namespace!r}",
        )
        return
    service = next((s for s in offered if s.name == host.service), None)
    if service is None:
        if any(not s.certain for s in offered):
            return  # a Service whose condition the data cannot evaluate may be the one
        yield diag(
            "FG902",
            f"{endpoint.what} {endpoint.text!r} names Service {host.service!r}, which "
            f"{_where(release)} does not create in {release.namespace!r}",
            endpoint.at,
            hint=_closest(offered, endpoint, bom),
        )
        return
    number = url.port or DEFAULT_PORTS.get(url.scheme)
    port = next((p for p in service.ports if p.port == number), None)
    if port is None:
        yield diag(
            "FG904",
            f"{endpoint.what} {endpoint.text!r} dials port {number}, which Service "
            f"{service.name} of {_where(release)} does not serve",
            endpoint.at,
            hint=_ports_hint(service, endpoint, bom),
        )
        return
    yield from _protocol(endpoint, url, service, port, bom, release)


def _speaking(service: InstalledService, speaks: str, bom: ChartBom) -> list[InstalledPort]:
    return [
        p for p in service.ports if speaks in (_port_facts(bom, service, p).get("speaks") or [])
    ]


def _ports_hint(service: InstalledService, endpoint: Endpoint, bom: ChartBom) -> str:
    right = _speaking(service, endpoint.speaks, bom)
    if right:
        return f"{endpoint.speaks} is served on port {right[0].port} ({_describe(service)})"
    return _describe(service)


def _closest(offered: list[InstalledService], endpoint: Endpoint, bom: ChartBom) -> str:
    speaking = [s for s in offered if _speaking(s, endpoint.speaks, bom)]
    names = speaking or offered
    if not names:
        return "the chart creates no Service there with these values"
    return "the chart creates: " + "; ".join(_describe(s) for s in names[:4])


def _protocol(
    endpoint: Endpoint,
    url: SplitResult,
    service: InstalledService,
    port: InstalledPort,
    bom: ChartBom,
    release: Release,
) -> Iterator[Diagnostic]:
    facts = _port_facts(bom, service, port)
    speaks = list(facts.get("speaks") or [])
    if url.scheme in TLS_SCHEMES and facts.get("tls") is False:
        yield diag(
            "FG905",
            f"{endpoint.what} {endpoint.text!r} uses {url.scheme}://, but port {port.port} "
            f"({port.name}) of {service.name} serves no TLS with the values fleetgen sets",
            endpoint.at,
            hint=f"use {url.scheme.removesuffix('s')}:// (the traffic stays in the cluster)",
        )
        return
    if speaks and endpoint.speaks not in speaks:
        right = _speaking(service, endpoint.speaks, bom)
        code = "FG906" if endpoint.component == "phoenix" else "FG904"
        yield diag(
            code,
            f"{endpoint.what} {endpoint.text!r} sends {endpoint.speaks} to port {port.port} "
            f"({port.name}) of {service.name}, which speaks {' / '.join(speaks)}",
            endpoint.at,
            hint=(
                f"{endpoint.speaks} goes to port {right[0].port} ({right[0].name})"
                if right
                else _describe(service)
            ),
        )
        return
    path = bom.curated.get("otlpHttpPath")
    if endpoint.component == "phoenix" and endpoint.speaks.startswith("http") and path:
        wanted = str(path["value"])
        if url.path.rstrip("/") != wanted:
            yield diag(
                "FG907",
                f"{endpoint.what} {endpoint.text!r} sends OTLP/HTTP to path "
                f"{url.path or '/'!r}; Phoenix receives traces at {wanted}, and the exporter "
                "posts to the URL as given",
                endpoint.at,
                hint=f"end the endpoint with {wanted}",
            )


def _generated(env: Environment, releases: Mapping[str, Release]) -> Iterator[Diagnostic]:
    """FG909: endpoints fleetgen derives itself must still exist in the pinned chart."""
    derived = []
    if "envoyGateway" in releases and "aiGateway" in releases:
        extension = prerequisites.ai_gateway_extension(env)
        derived.append(
            (
                "Envoy Gateway's extension server (the AI gateway controller)",
                "aiGateway",
                f"grpc://{extension}:{prerequisites.AI_GATEWAY_EXTENSION_PORT}",
            )
        )
    if "loki" in releases:
        derived.append(("the log agent's Loki push URL", "loki", prerequisites.loki_push_url(env)))
    for what, key, address in derived:
        release = releases[key]
        bom = installed.find(release.chart.chart, release.chart.version)
        url = urlsplit(address)
        host = _in_cluster(url)
        if bom is None or host is None:
            continue
        services = installed.installed_services(
            bom, release=release.name, namespace=release.namespace, values=release.values
        )
        match = next(
            (s for s in services if (s.name, s.namespace) == (host.service, host.namespace)),
            None,
        )
        if match is not None and any(p.port == url.port for p in match.ports):
            continue
        if match is None and any(not s.certain for s in services if s.name == host.service):
            continue
        yield diag(
            "FG909",
            f"{what} is {host.service}.{host.namespace}:{url.port}, which {_where(release)} "
            f"does not serve" + (f" ({_describe(match)})" if match else " (no such Service)"),
            env.source.at("spec", "platform", "prerequisites", key, "version"),
            hint="pin a chart version whose Service fleetgen knows, or report the change",
        )


def check_endpoints(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG902-FG909 for every environment."""
    for env in fleet.environments.values():
        releases = _releases(env)
        for endpoint in _endpoints(env):
            release = releases.get(endpoint.component)
            if release is not None:
                yield from _check(env, endpoint, release)
        prometheus = releases.get("kubePrometheusStack")
        if prometheus is not None and env.prometheus.namespace != prometheus.namespace:
            yield diag(
                "FG903",
                f"prometheus.namespace is {env.prometheus.namespace!r}, but the environment "
                f"installs {_where(prometheus)} into {prometheus.namespace!r}: the models' "
                "NetworkPolicies admit scrapes from, and the rules and dashboards go to, the "
                "wrong namespace",
                env.source.at("spec", "prometheus", "namespace"),
                hint=f"set prometheus.namespace to {prometheus.namespace!r}",
            )
        yield from _generated(env, releases)


def check_chart_pins(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG901: every prerequisite chart version an environment pins is in the bill of
    materials (otherwise its Services, ports and CRDs go unchecked)."""
    for env in fleet.environments.values():
        for key, chart in sorted(env.platform.prerequisites.items()):
            if installed.find(chart.chart, chart.version) is not None:
                continue
            known = installed.known_versions(chart.chart)
            yield diag(
                "FG901",
                f"prerequisite {key}: the bill of materials does not know {chart.chart} "
                f"{chart.version}; its Services, ports and CRDs are not checked",
                env.source.at("spec", "platform", "prerequisites", key, "version"),
                hint=(
                    f"known versions: {', '.join(known)}; "
                    if known
                    else "the bill of materials has no version of this chart; "
                )
                + "add it with `python -m fleetgen.knowledge.installed` (README: platform "
                "bill of materials)",
            )
