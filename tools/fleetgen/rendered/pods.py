"""The pods a cluster's objects run, with the ports their processes listen on.

Users write InferenceServices and LLMInferenceServices; KServe creates the pods (and, for an
InferenceService, the `<isvc>-predictor` Service) from them and from its runtime or presets.
A rendered Deployment's pods are its template. Every port, probe and argument keeps the JSON
pointer of the object a person edits, so a finding can point at its line; what KServe brings
itself (the runtime's probes, a preset's containerPort) has no pointer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetgen.knowledge import ports as facts
from fleetgen.knowledge.kserve import llmisvc, predictor
from fleetgen.rendered.build import RenderedObject
from fleetgen.rendered.graph import LLMISVC, ClusterGraph, labels
from fleetgen.rendered.llmisvc_facts import known_presets, llmisvc_port, pool_spec
from fleetgen.rendered.llmisvc_facts import pod_labels as llmisvc_pod_labels

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, slots=True)
class Declared:
    name: str | None
    number: int
    pointer: str | None  # None: KServe's runtime or preset declares it


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str  # startupProbe, readinessProbe, livenessProbe
    port: int | str
    path: str | None
    pointer: str | None  # the probe's `port` in the owner; None: the runtime's probe


@dataclass(frozen=True, slots=True)
class Listen:
    """The port a container's process listens on and the argument that set it (None: the
    runtime's, the preset's or the program's default)."""

    number: int
    pointer: str | None
    source: str  # what sets it, for messages


@dataclass(slots=True)
class Pod:
    owner: RenderedObject  # the object a person edits (InferenceService, Deployment, ...)
    container: str  # JSON pointer of the main container in the owner
    labels: dict[str, str]
    declared: list[Declared] = field(default_factory=list)
    listen: Listen | None = None  # None: unknown program, its declared ports are what it serves
    probes: list[Probe] = field(default_factory=list)
    env: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (value, pointer)
    args: list[tuple[str, str | None]] = field(default_factory=list)  # (arg, pointer)
    vllm: bool = False

    @property
    def namespace(self) -> str | None:
        return self.owner.namespace

    def listens_on(self) -> set[int]:
        """Every port a connection to this pod can reach."""
        if self.listen is not None:
            return {self.listen.number}
        return {d.number for d in self.declared}

    def port_named(self, name: str) -> Declared | None:
        return next((d for d in self.declared if d.name == name), None)


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def flag_value(args: Sequence[tuple[str, str | None]], flag: str) -> tuple[str, str | None] | None:
    """The last value of `flag` (`--f=v` or `--f v`; argparse keeps the last) and its pointer."""
    found: tuple[str, str | None] | None = None
    for i, (arg, pointer) in enumerate(args):
        if arg.startswith(flag + "="):
            found = (arg[len(flag) + 1 :], pointer)
        elif arg == flag and i + 1 < len(args):
            found = (args[i + 1][0], args[i + 1][1] or pointer)
    return found


def _declared(container: Mapping[str, Any], at: str) -> list[Declared]:
    found = []
    for i, port in enumerate(container.get("ports") or []):
        number = _int(port.get("containerPort"))
        if number is not None:
            name = port.get("name")
            found.append(Declared(str(name) if name else None, number, f"{at}/ports/{i}"))
    return found


def _probes(container: Mapping[str, Any], at: str) -> list[Probe]:
    found = []
    for kind in PROBES:
        probe = container.get(kind) or {}
        for handler in ("httpGet", "tcpSocket", "grpc"):
            action = probe.get(handler)
            if isinstance(action, dict) and action.get("port") is not None:
                port = action["port"]
                found.append(
                    Probe(
                        kind,
                        _int(port) or str(port),
                        action.get("path"),
                        f"{at}/{kind}/{handler}/port",
                    )
                )
    return found


def _env(container: Mapping[str, Any], at: str) -> dict[str, tuple[str, str]]:
    return {
        str(e.get("name")): (str(e.get("value")), f"{at}/env/{i}/value")
        for i, e in enumerate(container.get("env") or [])
        if isinstance(e, dict) and "value" in e
    }


def _args(container: Mapping[str, Any], at: str) -> list[tuple[str, str | None]]:
    return [(str(a), f"{at}/args/{i}") for i, a in enumerate(container.get("args") or [])]


def _vllm_listen(args: Sequence[tuple[str, str | None]], source: str) -> Listen | None:
    port = flag_value(args, facts.VLLM_PORT_FLAG)
    number = _int(port[0]) if port else None
    if port is None or number is None:
        return None
    return Listen(number, port[1], "--port" if port[1] else source)


def _predictor(isvc: RenderedObject) -> Pod:
    """The predictor pod KServe creates: the runtime's container merged with the model's."""
    at = "/spec/predictor/model"
    model: Mapping[str, Any] = isvc.doc.get("spec", {}).get("predictor", {}).get("model") or {}
    own = _args(model, at)
    args = predictor.merged_args(own)
    runtime = f"the {predictor.runtime_name()} runtime (KServe {predictor.source_tag()})"
    probes = _probes(model, at)
    set_here = {p.kind for p in probes}
    for kind, probe in predictor.runtime_probes().items():
        if kind not in set_here and probe.port is not None:
            probes.append(Probe(kind, _int(probe.port) or str(probe.port), probe.path, None))
    declared = _declared(model, at) or [
        Declared(None, number, None) for number in predictor.runtime_ports()
    ]
    return Pod(
        owner=isvc,
        container=at,
        labels=predictor.pod_labels(isvc.name, labels(isvc)),
        declared=declared,
        listen=_vllm_listen(args, runtime)
        or Listen(facts.VLLM_DEFAULT_PORT, None, "vLLM's default"),
        probes=probes,
        env=_env(model, at),
        args=args,
        vllm=True,
    )


def _llmisvc_workload(service: RenderedObject) -> Pod:
    """The main workload's pod: the preset's `main` container with the service's merged over."""
    containers = (service.doc.get("spec", {}).get("template") or {}).get("containers") or []
    index = next((i for i, c in enumerate(containers) if c.get("name") == "main"), 0)
    main: Mapping[str, Any] = containers[index] if containers else {}
    at = f"/spec/template/containers/{index}"
    presets = [p.name for p in known_presets(service)]
    preset_port = llmisvc_port(service)
    source = f"the preset {presets[0] if presets else 'defaults'} (KServe {llmisvc.source_tag()})"
    # The preset's `vllm serve ... --port <its containerPort>` comes before the container's args.
    args = [(facts.VLLM_PORT_FLAG, None), (str(preset_port), None), *_args(main, at)]
    probes = _probes(main, at)
    set_here = {p.kind for p in probes}
    # Curated: the workload presets probe /health on their own containerPort
    # (config-llm-template.yaml and its siblings); the extracted data keeps the port only.
    probes += [Probe(k, preset_port, "/health", None) for k in PROBES if k not in set_here]
    declared = _declared(main, at) or [Declared(None, preset_port, None)]
    return Pod(
        owner=service,
        container=at,
        labels=llmisvc_pod_labels(service),
        declared=declared,
        listen=_vllm_listen(args, source),
        probes=probes,
        env=_env(main, at),
        args=args,
        vllm=True,
    )


def _redis_listen(container: Mapping[str, Any], at: str) -> Listen | None:
    command = [str(c) for c in container.get("command") or []]
    image = str(container.get("image", ""))
    if facts.REDIS_SERVER not in command and not image.startswith(facts.REDIS_IMAGE):
        return None
    args = _args(container, at)
    port = flag_value(args, facts.REDIS_PORT_FLAG)
    number = _int(port[0]) if port else None
    if port is not None and number is not None:
        return Listen(number, port[1], "redis-server --port")
    return Listen(facts.REDIS_DEFAULT_PORT, None, "Redis's default")


def _workload_pods(obj: RenderedObject) -> Iterator[Pod]:
    template = obj.doc.get("spec", {}).get("template") or {}
    pod_labels = {
        str(k): str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()
    }
    for i, container in enumerate((template.get("spec") or {}).get("containers") or []):
        at = f"/spec/template/spec/containers/{i}"
        yield Pod(
            owner=obj,
            container=at,
            labels=pod_labels,
            declared=_declared(container, at),
            listen=_redis_listen(container, at),
            probes=_probes(container, at),
            env=_env(container, at),
            args=_args(container, at),
        )


@dataclass(slots=True)
class PodIndex:
    """A cluster's pods, by namespace and by (namespace, label, value): a selector looks at
    the pods that carry one of its labels, not at every pod of the cluster, so that linking
    stays linear in the number of models (each model's policies select its own pods)."""

    all: list[Pod]
    by_namespace: dict[str | None, list[Pod]] = field(default_factory=dict)
    by_label: dict[tuple[str | None, str, str], list[Pod]] = field(default_factory=dict)

    @classmethod
    def of(cls, found: list[Pod]) -> PodIndex:
        index = cls(found)
        for pod in found:
            index.by_namespace.setdefault(pod.namespace, []).append(pod)
            for key, value in pod.labels.items():
                index.by_label.setdefault((pod.namespace, key, value), []).append(pod)
        return index

    def __iter__(self) -> Iterator[Pod]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    def candidates(self, namespace: str | None, match_labels: Mapping[str, object]) -> list[Pod]:
        """The pods of `namespace` that may carry every one of `match_labels`, in cluster
        order (a superset of the match: the caller still compares every label)."""
        if not match_labels:
            return self.by_namespace.get(namespace, [])
        keys = [(namespace, str(k), v) for k, v in match_labels.items() if isinstance(v, str)]
        if len(keys) < len(match_labels):
            return []  # pod labels are strings: nothing carries a non-string value
        return min((self.by_label.get(key, []) for key in keys), key=len)


def server_pods(graph: ClusterGraph) -> PodIndex:
    """The vLLM pods KServe creates for the cluster's InferenceServices and LLMInferenceServices
    (built once per cluster graph)."""
    cached = graph.views.get("server-pods")
    if isinstance(cached, PodIndex):
        return cached
    found = [_predictor(i) for i in graph.of_kind("InferenceService")]
    index = PodIndex.of(found + [_llmisvc_workload(s) for s in graph.of_kind(LLMISVC)])
    graph.views["server-pods"] = index
    return index


def pods(graph: ClusterGraph) -> PodIndex:
    """Every pod of the cluster: KServe's from the serving objects, then the Deployments'
    (built once per cluster graph; the serving pods are the same objects as server_pods')."""
    cached = graph.views.get("pods")
    if isinstance(cached, PodIndex):
        return cached
    found = list(server_pods(graph))
    for kind in WORKLOAD_KINDS:
        for obj in graph.of_kind(kind):
            found.extend(_workload_pods(obj))
    index = PodIndex.of(found)
    graph.views["pods"] = index
    return index


def selected(
    all_pods: Sequence[Pod] | PodIndex, namespace: str | None, selector: Mapping[str, Any] | None
) -> list[Pod]:
    """The pods in `namespace` a label selector (matchLabels, matchExpressions In/Exists)
    picks; an empty selector picks every pod of the namespace."""
    selector = selector or {}
    wanted = {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}
    pool = all_pods.candidates(namespace, wanted) if isinstance(all_pods, PodIndex) else all_pods
    found = []
    for pod in pool:
        if pod.namespace != namespace or not wanted.items() <= pod.labels.items():
            continue
        if all(_expression(e, pod.labels) for e in selector.get("matchExpressions") or []):
            found.append(pod)
    return found


def _expression(expression: Mapping[str, Any], pod_labels: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key")), expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    if operator == "In":
        return pod_labels.get(key) in values
    if operator == "NotIn":
        return pod_labels.get(key) not in values
    if operator == "Exists":
        return key in pod_labels
    if operator == "DoesNotExist":
        return key not in pod_labels
    return True


def predictor_service_ports(pod: Pod) -> list[predictor.ServicePort]:
    """The `<isvc>-predictor` Service KServe builds for a predictor pod."""
    return predictor.service_ports([(d.name, d.number) for d in pod.declared])


def pool_target_ports(service: RenderedObject) -> list[tuple[int, str | None]]:
    """(port, pointer) the InferencePool of an LLMInferenceService sends traffic to: the
    service's own pool spec, else the scheduler preset's (no pointer)."""
    own = pool_spec(service).get("targetPorts")
    if own:
        base = "/spec/router/scheduler/pool/spec/targetPorts"
        return [
            (n, f"{base}/{i}/number")
            for i, p in enumerate(own)
            if (n := _int((p or {}).get("number"))) is not None
        ]
    return [(n, None) for p in known_presets(service) for n in p.pool_target_ports]
