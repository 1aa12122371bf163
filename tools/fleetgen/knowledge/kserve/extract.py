"""Derive the preset facts fleetgen checks against from KServe's LLMInferenceServiceConfig files.

Run `python -m fleetgen.knowledge.kserve.extract <dir of the preset files> <version>`: it
writes data/presets.json. Nothing is executed; the Go templates are read as text. What a preset
"consumes" is every `.Spec.Parallelism.<Field>` its workload containers' commands reference:
a field no preset references reaches vLLM nowhere (the controller still sizes the pods by it).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

# Go field -> CRD field of spec.parallelism.
FIELDS = {
    "Tensor": "tensor",
    "Pipeline": "pipeline",
    "Data": "data",
    "DataLocal": "dataLocal",
    "DataRPCPort": "dataRPCPort",
    "Expert": "expert",
}
_MAIN_FIELD = re.compile(r"\.Spec\.Parallelism\.(" + "|".join(FIELDS) + r")\b")
_PREFILL_FIELD = re.compile(r"\.Spec\.Prefill\.Parallelism\.(" + "|".join(FIELDS) + r")\b")
_SERVE = re.compile(r"vllm serve(.*?)(?:\$@|\"\s*$)", re.S)
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
_NAME_TEMPLATE = re.compile(r"^\{\{\s*\.ObjectMeta\.Name\s*\}\}$")


def _containers(pod: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    for container in (pod or {}).get("containers", []) or []:
        if isinstance(container, dict):
            yield container


def _text(container: Mapping[str, Any]) -> str:
    return "\n".join(
        str(part) for part in [*(container.get("command") or []), *(container.get("args") or [])]
    )


def _flags(text: str) -> list[str]:
    """Flags the `vllm serve` line passes itself (before the container's own args, `$@`)."""
    found: list[str] = []
    for serve in _SERVE.finditer(text):
        for flag in _FLAG.findall(serve.group(1)):
            if flag not in found:
                found.append(flag)
    return found


def _label(value: object) -> str:
    text = str(value).strip()
    return "<name>" if _NAME_TEMPLATE.match(text) else text


def preset(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    doc = yaml.safe_load(raw)
    spec = doc.get("spec", {})
    workloads = {"template": spec.get("template"), "worker": spec.get("worker")}
    prefill = spec.get("prefill") or {}
    workloads["prefill.template"] = prefill.get("template")
    workloads["prefill.worker"] = prefill.get("worker")
    consumes: set[str] = set()
    prefill_consumes: set[str] = set()
    flags: list[str] = []
    ports: set[int] = set()
    shaped = []
    for where, pod in workloads.items():
        if not pod:
            continue
        shaped.append(where)
        for container in _containers(pod):
            if container.get("name") != "main":
                continue
            text = _text(container)
            consumes.update(FIELDS[m] for m in _MAIN_FIELD.findall(text))
            prefill_consumes.update(FIELDS[m] for m in _PREFILL_FIELD.findall(text))
            flags.extend(f for f in _flags(text) if f not in flags)
            ports.update(int(p["containerPort"]) for p in container.get("ports") or [])
    result: dict[str, Any] = {
        "file": path.name,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "workloads": shaped,
        "consumes": sorted(consumes),
        "prefillConsumes": sorted(prefill_consumes),
        "flags": flags,
        "ports": sorted(ports),
    }
    pool = ((spec.get("router") or {}).get("scheduler") or {}).get("pool") or {}
    selector = ((pool.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if selector:
        result["poolSelector"] = {str(k): _label(v) for k, v in sorted(selector.items())}
        result["poolTargetPorts"] = [int(p["number"]) for p in pool["spec"].get("targetPorts", [])]
    if (spec.get("router") or {}).get("route"):
        result["route"] = True
    if spec.get("tracing"):
        result["tracing"] = True
    return result


def extract(directory: Path, version: str) -> dict[str, Any]:
    presets: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("kind") != "LLMInferenceServiceConfig":
            continue
        presets[str(doc["metadata"]["name"])] = preset(path)
    return {
        "source": {
            "repository": "kserve/kserve",
            "tag": version,
            "path": "config/llmisvcconfig",
            "derivedBy": "python -m fleetgen.knowledge.kserve.extract <dir> <tag>",
        },
        "presets": presets,
    }


def main(argv: list[str]) -> int:
    directory, version = Path(argv[0]), argv[1]
    out = Path(__file__).parent / "data" / "presets.json"
    out.write_text(json.dumps(extract(directory, version), indent=2, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
