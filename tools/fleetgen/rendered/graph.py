"""The rendered objects of one cluster, indexed for reference lookups."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fleetgen.domain import naming
from fleetgen.rendered.build import RenderedObject

SERVED_FLAG = "--served-model-name="
OTLP_FLAG = "--otlp-traces-endpoint="
LLMISVC = "LLMInferenceService"
# The kinds whose pods run vLLM.
SERVING_KINDS = ("InferenceService", LLMISVC)


@dataclass(slots=True)
class ClusterGraph:
    env: str
    cluster: str
    objects: list[RenderedObject] = field(default_factory=list)
    index: dict[tuple[str, str | None, str], RenderedObject] = field(default_factory=dict)
    kinds: dict[str, list[RenderedObject]] = field(default_factory=dict)
    derived: dict[tuple[str, object], RenderedObject] = field(default_factory=dict)
    # Views of the objects that several checks read (the pods), derived once per cluster.
    views: dict[str, object] = field(default_factory=dict)

    def add(self, obj: RenderedObject) -> None:
        self.objects.append(obj)
        self.index.setdefault((obj.kind, obj.namespace, obj.name), obj)
        self.kinds.setdefault(obj.kind, []).append(obj)

    def get(self, kind: str, namespace: str | None, name: str) -> RenderedObject | None:
        return self.index.get((kind, namespace, name))

    def lookup(self, what: str, key: object) -> RenderedObject | None:
        """InferenceServices by the names KServe derives from them (built on first use)."""
        if not self.derived:
            for isvc in self.of_kind("InferenceService"):
                ns = isvc.namespace or ""
                self.derived[("predictor-host", naming.predictor_host(isvc.name, ns))] = isvc
                self.derived[("predictor", (isvc.namespace, naming.predictor(isvc.name)))] = isvc
        return self.derived.get((what, key))

    def of_kind(self, kind: str) -> Iterator[RenderedObject]:
        return iter(self.kinds.get(kind, ()))

    def servers(self) -> Iterator[RenderedObject]:
        """Every InferenceService and LLMInferenceService: the objects whose pods run vLLM."""
        for kind in SERVING_KINDS:
            yield from self.of_kind(kind)


def graphs(objects: list[RenderedObject]) -> list[ClusterGraph]:
    found: dict[tuple[str, str], ClusterGraph] = {}
    for obj in objects:
        key = (obj.env, obj.cluster)
        graph = found.setdefault(key, ClusterGraph(*key))
        graph.add(obj)
    return [found[k] for k in sorted(found)]


def container(isvc: RenderedObject) -> dict[str, Any]:
    """The vLLM container: the predictor's model, or an LLMInferenceService's `main`."""
    spec = isvc.doc.get("spec", {})
    if isvc.kind == LLMISVC:
        containers = (spec.get("template") or {}).get("containers") or [{}]
        main: dict[str, Any] = next(
            (c for c in containers if c.get("name") == "main"), containers[0]
        )
        return main
    model: dict[str, Any] = spec.get("predictor", {}).get("model", {})
    return model


def served_name(isvc: RenderedObject) -> str | None:
    """What vLLM serves as: the last --served-model-name (argparse keeps the last). An
    LLMInferenceService's preset passes spec.model.name before the container's own args."""
    names = [
        a[len(SERVED_FLAG) :]
        for a in container(isvc).get("args", [])
        if str(a).startswith(SERVED_FLAG)
    ]
    if not names and isvc.kind == LLMISVC:
        model = isvc.doc.get("spec", {}).get("model") or {}
        return str(model.get("name") or isvc.name)
    return names[-1] if names else None


def annotation(obj: RenderedObject, key: str) -> str | None:
    value = (obj.doc.get("metadata", {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None


def labels(obj: RenderedObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.doc.get("metadata", {}).get("labels") or {}).items()}


# PromQL: metric names and the label matchers that follow them.
_METRIC = re.compile(r"(vllm:[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?")
_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")


def vllm_metrics(expr: str) -> Iterator[tuple[str, list[str]]]:
    """(metric, label names it filters on) for every vLLM metric in a PromQL expression."""
    for match in _METRIC.finditer(expr):
        yield match.group(1), [name for name, _ in _LABEL.findall(match.group(2) or "")]


def expressions(obj: RenderedObject) -> Iterator[tuple[str, str]]:
    """(JSON pointer, PromQL) of every query an object holds."""
    spec = obj.doc.get("spec", {})
    if obj.kind == "ScaledObject":
        for i, trigger in enumerate(spec.get("triggers", [])):
            query = (trigger.get("metadata") or {}).get("query")
            if trigger.get("type") == "prometheus" and query:
                yield f"/spec/triggers/{i}/metadata/query", str(query)
    elif obj.kind == "PrometheusRule":
        for g, group in enumerate(spec.get("groups", [])):
            for r, rule in enumerate(group.get("rules", [])):
                yield f"/spec/groups/{g}/rules/{r}/expr", str(rule.get("expr", ""))
    elif obj.kind == "ConfigMap":
        for key, text in (obj.doc.get("data") or {}).items():
            if not str(key).endswith(".json"):
                continue
            try:
                board = json.loads(text)
            except ValueError:
                continue
            panels = board.get("panels", []) if isinstance(board, dict) else []
            for panel in panels:
                for target in panel.get("targets", []) if isinstance(panel, dict) else []:
                    if isinstance(target, dict) and target.get("expr"):
                        yield f"/data/{key}", str(target["expr"])
