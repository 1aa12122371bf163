"""Derive what KServe makes of an InferenceService's mode, autoscaler class and names.

Run `python -m fleetgen.knowledge.kserve.extract_isvc <kserve checkout> <tag>`: it writes
data/isvc.json from the Go sources and the shipped config at that tag (each file's sha256
kept). Nothing is executed; the Go code is read as text, so a change in its shape fails the
extraction loudly instead of deriving something else.
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

CONSTANTS = "pkg/constants/constants.go"
CONFIGMAP_GO = "pkg/apis/serving/v1beta1/configmap.go"
FACTORY = "pkg/controller/v1beta1/inferenceservice/reconcilers/factory.go"
AUTOSCALER = (
    "pkg/controller/v1beta1/inferenceservice/reconcilers/autoscaler/autoscaler_reconciler.go"
)
HPA = "pkg/controller/v1beta1/inferenceservice/reconcilers/hpa/hpa_reconciler.go"
SHIPPED_CONFIG = "config/configmap/inferenceservice.yaml"
SOURCES = (CONSTANTS, CONFIGMAP_GO, FACTORY, AUTOSCALER, HPA, SHIPPED_CONFIG)


class ExtractError(Exception):
    """A source no longer has the shape the extractor reads."""


def _one(pattern: str, text: str, what: str, flags: int = 0) -> re.Match[str]:
    found = re.search(pattern, text, flags)
    if found is None:
        raise ExtractError(f"cannot find {what}")
    return found


def _typed_constants(text: str, type_name: str) -> dict[str, str]:
    """Go `Name TypeName = "value"` constants: Go name -> value."""
    found = dict(re.findall(rf'(\w+)\s+{type_name}\s*=\s*"([^"]*)"', text))
    if not found:
        raise ExtractError(f"no {type_name} constants")
    return found


def _function(text: str, name: str) -> str:
    """The body of a top-level Go function (to its closing brace at column 0)."""
    start = _one(rf"^func (?:\([^)]*\) )?{name}\(", text, f"func {name}", re.M).start()
    end = text.find("\n}\n", start)
    if end < 0:
        raise ExtractError(f"func {name} has no end")
    return text[start:end]


def _cases_before(body: str, marker: str, names: Mapping[str, str]) -> list[str]:
    """Values of the constants in the `case` line whose branch calls `marker`."""
    index = body.find(marker)
    if index < 0:
        raise ExtractError(f"no {marker}")
    case = body.rfind("case ", 0, index)
    line = body[case : body.index(":", case)]
    return [names[n] for n in re.findall(r"constants\.(\w+)", line)]


def derive(sources: Mapping[str, bytes], tag: str, repo: str = "kserve/kserve") -> dict[str, Any]:
    text = {path: data.decode("utf-8") for path, data in sources.items()}
    go = text[CONSTANTS]
    modes = _typed_constants(go, "DeploymentModeType")
    parse = _function(go, "ParseDeploymentMode")
    legacy = {
        modes[old]: modes[new] for old, new in re.findall(r"case (\w+):\s*return (\w+)", parse)
    }
    default_mode = modes[
        _one(r"DefaultDeployment\s+DeploymentModeType\s*=\s*(\w+)", go, "").group(1)
    ]
    workload = _cases_before(
        _function(text[FACTORY], "CreateWorkloadReconciler"), "NewDeploymentReconciler", modes
    )
    classes = _typed_constants(go, "AutoscalerClassType")
    allowed_list = _one(
        r"AutoscalerAllowedClassList = \[\]AutoscalerClassType\{(.*?)\}", go, "allowed", re.S
    )
    allowed = [classes[n] for n in re.findall(r"(\w+),", allowed_list.group(1))]
    default_class = classes[
        _one(r"DefaultAutoscalerClass\s*=\s*(\w+)", go, "default class").group(1)
    ]
    creates = _function(text[AUTOSCALER], "createAutoscaler")
    keda = _cases_before(creates, "keda.NewKedaReconciler", classes)
    no_hpa = sorted(
        {
            classes[n]
            for n in re.findall(r"== constants\.(\w+)", _function(text[HPA], "shouldDeleteHPA"))
        }
    )
    components = _typed_constants(go, "InferenceServiceComponent")
    template = _one(r'DefaultDomainTemplate\s*=\s*"([^"]*)"', text[CONFIGMAP_GO], "template")
    shipped = None
    for doc in yaml.safe_load_all(sources[SHIPPED_CONFIG]):
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            deploy = (doc.get("data") or {}).get("deploy")
            if deploy:
                shipped = json.loads(deploy)["defaultDeploymentMode"]
    if shipped is None:
        raise ExtractError("the shipped config sets no defaultDeploymentMode")
    return {
        "format": 1,
        "source": {
            "derivedBy": "python -m fleetgen.knowledge.kserve.extract_isvc <checkout> <tag>",
            "repo": repo,
            "tag": tag,
            "files": {p: hashlib.sha256(sources[p]).hexdigest() for p in SOURCES},
        },
        "deploymentModes": sorted(modes.values()),
        "legacyModes": dict(sorted(legacy.items())),
        "defaultMode": default_mode,
        "shippedDefaultMode": shipped,
        "modesWithDeployment": sorted(workload),
        "autoscalerClasses": sorted(allowed),
        "defaultAutoscalerClass": default_class,
        "classesWithOwnScaledObject": sorted(keda),
        "classesWithoutHPA": no_hpa,
        "predictorComponent": components["Predictor"],
        "domainTemplate": template.group(1),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m fleetgen.knowledge.kserve.extract_isvc <kserve checkout> <tag>")
        return 2
    checkout, tag = Path(argv[0]), argv[1]
    sources = {path: (checkout / path).read_bytes() for path in SOURCES}
    out = Path(__file__).parent / "data" / "isvc.json"
    out.write_text(json.dumps(derive(sources, tag), indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
