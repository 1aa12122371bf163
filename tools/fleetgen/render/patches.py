"""JSON6902 patch lists for kustomize: one target, a list of operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fleetgen.core.diagnostics import Location


def pointer(*parts: str | int) -> str:
    """A JSON pointer; '/' and '~' in keys are escaped as JSON6902 requires."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(slots=True)
class Patch:
    """Operations on one base object, addressed by group/version/kind and base name."""

    group: str
    version: str
    kind: str
    name: str
    ops: list[dict[str, Any]] = field(default_factory=list)
    # Provenance: where in a descriptor or environment file each written value came from,
    # so diagnostics on rendered manifests can point at the line to fix.
    origins: dict[str, Location] = field(default_factory=dict)
    origin: Location | None = None  # the object as a whole (its descriptor or environment)

    def replace(self, path: str, value: Any, *, origin: Location | None = None) -> Patch:
        self.ops.append({"op": "replace", "path": path, "value": value})
        if origin is not None:
            self.origins[path] = origin
        return self

    def add(self, path: str, value: Any, *, origin: Location | None = None) -> Patch:
        self.ops.append({"op": "add", "path": path, "value": value})
        if origin is not None and not path.endswith("/-"):
            self.origins[path] = origin
        return self

    @property
    def final_name(self) -> str:
        """The object's name after the patch (its rename, if any)."""
        for op in self.ops:
            if op["op"] == "replace" and op["path"] == "/metadata/name":
                return str(op["value"])
        return self.name

    def remove(self, path: str) -> Patch:
        self.ops.append({"op": "remove", "path": path})
        return self

    def entry(self) -> dict[str, Any]:
        """The kustomization `patches:` entry: the operations inline as JSON, which is valid
        YAML and an order of magnitude faster to write and read than YAML."""
        import json

        target = {"group": self.group, "version": self.version, "kind": self.kind}
        target = {k: v for k, v in target.items() if v}
        target["name"] = self.name
        # One operation per line: compact, diff-friendly, and still valid YAML.
        lines = ",\n".join("  " + json.dumps(op, ensure_ascii=False) for op in self.ops)
        text = f"[\n{lines}\n]\n"
        return {"target": target, "patch": text}
