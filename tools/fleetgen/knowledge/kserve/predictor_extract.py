"""Derive what KServe's controller builds for an InferenceService predictor on the vLLM runtime.

Run `python -m fleetgen.knowledge.kserve.predictor_extract <kserve checkout> <tag>`: it writes
data/predictor.json from the ClusterServingRuntime `kserve-vllmserver` (the args, ports and
probes the runtime container brings) and the Go constants the Service reconciler uses (the
Service port, the default target port, the pod and Service labels). Nothing is executed; the Go
file is read as text. Each file's sha256 is kept; the two Go files whose control flow the rules
in `predictor.py` restate are hashed too, so a changed upstream file shows up in the data.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

RUNTIME = "config/runtimes/kserve-vllmserver.yaml"
CONSTANTS = "pkg/constants/constants.go"
# Read by hand for the rules in predictor.py (hashed only): the Service's ports, the arg merge.
SERVICE_RECONCILER = (
    "pkg/controller/v1beta1/inferenceservice/reconcilers/service/service_reconciler.go"
)
MERGE = "pkg/controller/v1beta1/inferenceservice/utils/utils.go"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
_CONSTANTS = {
    "servicePort": "CommonDefaultHttpPort",
    "defaultTargetPort": "InferenceServiceDefaultHttpPort",
    "agentPort": "InferenceServiceDefaultAgentPort",
    "isvcLabel": "InferenceServiceLabel",
    "componentLabel": "KServiceComponentLabel",
    "appLabel": "RawDeploymentAppLabel",
}
_RAW_SERVICE_LABEL = re.compile(
    r'func GetRawServiceLabel\(service string\) string \{\s*return "([^"]*)" \+ service'
)


def _constant(go: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s*=\s*(\"[^\"]*\"|\d+)", go, re.M)
    if match is None:
        raise ValueError(f"{CONSTANTS}: no constant {name}")
    return match.group(1).strip('"')


def _probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    for handler in ("httpGet", "tcpSocket", "grpc"):
        if handler in probe:
            action = probe[handler]
            found: dict[str, Any] = {"handler": handler, "port": action.get("port")}
            if "path" in action:
                found["path"] = action["path"]
            return found
    return {"handler": "exec"}


def runtime(raw: bytes) -> dict[str, Any]:
    doc = yaml.safe_load(raw)
    spec = doc["spec"]
    container = spec["containers"][0]
    annotations = spec.get("annotations") or {}
    return {
        "name": str(doc["metadata"]["name"]),
        "container": str(container["name"]),
        "args": [str(a) for a in container.get("args") or []],
        "ports": [int(p["containerPort"]) for p in container.get("ports") or []],
        "probes": {k: _probe(container[k]) for k in PROBES if k in container},
        "metrics": {
            "port": int(annotations["prometheus.kserve.io/port"]),
            "path": str(annotations["prometheus.kserve.io/path"]),
        },
    }


def constants(go: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, name in _CONSTANTS.items():
        value = _constant(go, name)
        found[key] = int(value) if value.isdigit() else value
    prefix = _RAW_SERVICE_LABEL.search(go)
    if prefix is None:
        raise ValueError(f"{CONSTANTS}: no GetRawServiceLabel")
    found["appLabelPrefix"] = prefix.group(1)
    return found


def extract(checkout: Path, tag: str) -> dict[str, Any]:
    read = {
        rel: (checkout / rel).read_bytes()
        for rel in (RUNTIME, CONSTANTS, SERVICE_RECONCILER, MERGE)
    }
    return {
        "source": {
            "repository": "kserve/kserve",
            "tag": tag,
            "files": {rel: hashlib.sha256(raw).hexdigest() for rel, raw in sorted(read.items())},
            "derivedBy": "python -m fleetgen.knowledge.kserve.predictor_extract <checkout> <tag>",
        },
        "runtime": runtime(read[RUNTIME]),
        "controller": constants(read[CONSTANTS].decode("utf-8")),
    }


def main(argv: list[str]) -> int:
    checkout, tag = Path(argv[0]), argv[1]
    out = Path(__file__).parent / "data" / "predictor.json"
    out.write_text(json.dumps(extract(checkout, tag), indent=2, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
