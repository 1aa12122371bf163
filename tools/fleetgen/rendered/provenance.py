"""Point a problem in a rendered manifest at the line to fix.

A value the generator wrote comes from a descriptor or an environment file (the patch op
records which line); any other value comes from the hand-maintained base file the object
started from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

from fleetgen.core.diagnostics import Location
from fleetgen.domain import layout
from fleetgen.loading.fleet import Fleet, placements
from fleetgen.loading.yaml_source import ParsedFile, parse
from fleetgen.render.model_app import app_patches
from fleetgen.render.patches import Patch
from fleetgen.render.platform import platform_patches
from fleetgen.rendered import component_origin
from fleetgen.rendered.build import RenderedObject


def _parts(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


def _join(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _length(base: ParsedFile | None, parts: list[str | int]) -> int:
    """Length of the list at `parts` in the base document (0 when absent)."""
    node: object = base.data if base is not None else None
    for part in parts:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return 0
    return len(node) if isinstance(node, list) else 0


@dataclass(slots=True)
class Provenance:
    root: Path
    # (app, kind, rendered name) -> the app's patches of that object, in the order they run
    patches: dict[tuple[str, str, str], list[Patch]] = field(default_factory=dict)
    # app directory -> how to recompute its patches; only apps with a finding ever need it
    pending: dict[str, Callable[[], Iterable[Patch]]] = field(default_factory=dict)
    # Apps located in their committed kustomization (hand-edited): a finding on a field whose
    # own value no operation wrote points at the operation that wrote beneath it.
    committed: frozenset[str] = frozenset()

    def add(self, app: str, patches: Iterable[Patch]) -> None:
        every = list(patches)
        # A component's patch (tracing, kv-cache) addresses the base name; the object's own
        # patch renames it: both describe the one rendered object.
        renamed = {(p.kind, p.name): p.final_name for p in every if p.final_name != p.name}
        for patch in every:
            final = renamed.get((patch.kind, patch.name), patch.final_name)
            self.patches.setdefault((app, patch.kind, final), []).append(patch)

    def locate(self, obj: RenderedObject, pointer: str = "") -> Location:
        """The descriptor/environment line that set `pointer`, else the component patch line
        that appended it, else its base file line."""
        if obj.app in self.pending:
            self.add(obj.app, self.pending.pop(obj.app)())
        own = self.patches.get((obj.app, obj.kind, obj.name), [])
        base = parsed_base(self.root / obj.base_file, obj.base_file) if obj.base_file else None
        parts = _parts(pointer)
        if own and obj.app in self.committed and pointer:
            for patch in own:
                found = _committed_origin(obj, patch, parts, pointer)
                if found is not None:
                    return found
        for patch in reversed(own):
            parts = _before_removals(parts, patch)
        appended = component_origin.appends(self.root, obj.app) if obj.base_file else {}
        base_name = own[0].name if own else obj.name

        def components(depth: int) -> list[component_origin.Append]:
            return appended.get((obj.kind, base_name, _join(parts[:depth])), [])

        for depth in range(len(parts), -1, -1):
            probe = _join(parts[:depth])
            for patch in reversed(own):
                written = {op["path"] for op in patch.ops if op.get("op") != "remove"}
                if probe in patch.origins:
                    return patch.origins[probe]
                if probe in written:
                    return patch.origin or self._app(obj)
                if f"{probe}/-" in written and depth < len(parts):
                    # Items appended after the base's and the components': the generator's.
                    index = parts[depth]
                    first = _length(base, parts[:depth]) + len(components(depth))
                    if not isinstance(index, int) or index >= first:
                        return patch.origin or self._app(obj)
        for depth, index in enumerate(parts):
            if isinstance(index, int):
                length, items = _length(base, parts[:depth]), components(depth)
                if length <= index < length + len(items):
                    return component_origin.locate_in(items[index - length], parts[depth + 1 :])
        if base is not None and obj.base_file is not None:
            line, column = base.positions.key(parts)
            return Location(obj.base_file, line, column)
        origin = next((p.origin for p in own if p.origin), None)
        return origin or self._app(obj)

    @staticmethod
    def _app(obj: RenderedObject) -> Location:
        return Location(f"{obj.app}/kustomization.yaml")


def _committed_origin(
    obj: RenderedObject, patch: Patch, parts: list[str | int], pointer: str
) -> Location | None:
    """In a committed (hand-edited) overlay: the operation that appended the item `pointer`
    is in, matched by its value; else the first operation written beneath `pointer`."""
    node: object = obj.doc
    for depth, part in enumerate(parts):
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            key = f"{_join(parts[:depth])}/-\0{json.dumps(node, sort_keys=True)}"
            if key in patch.origins:
                return patch.origins[key]
        elif isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        else:
            break
    beneath = [o for path, o in patch.origins.items() if path.startswith(f"{pointer}/")]
    return min(beneath) if pointer not in patch.origins and beneath else None


def _before_removals(parts: list[str | int], patch: Patch) -> list[str | int]:
    """A rendered list index as the base numbers it: a patch that removed an earlier item
    (the generator drops an alert the pinned release cannot fire) shifts the rest down."""
    shifted = list(parts)
    for op in reversed(patch.ops):
        if op.get("op") != "remove":
            continue
        removed = _parts(str(op.get("path", "")))
        depth = len(removed) - 1
        index = removed[-1] if removed else None
        if (
            isinstance(index, int)
            and len(shifted) > depth
            and shifted[:depth] == removed[:depth]
            and isinstance(shifted[depth], int)
            and shifted[depth] >= index  # type: ignore[operator]
        ):
            shifted[depth] = int(shifted[depth]) + 1
    return shifted


@cache
def parsed_base(path: Path, rel: str) -> ParsedFile | None:
    try:
        result = parse(path.read_bytes(), rel)
    except OSError:
        return None
    return result if isinstance(result, ParsedFile) else None


def provenance(root: Path, fleet: Fleet) -> Provenance:
    """The patches of every app, indexed by (app directory, kind, rendered name).

    Patches are recomputed per app on first use: a clean fleet never pays for it.
    """
    found = Provenance(root)
    names: dict[tuple[str, str], list[str]] = {}
    for p in placements(fleet):
        app = layout.app_dir(p.environment.name, p.cluster.name, p.descriptor.name)
        found.pending[app] = partial(app_patches, p)
        names.setdefault((p.environment.name, p.cluster.name), []).append(p.descriptor.name)
    for env in fleet.environments.values():
        for cluster in env.clusters:
            models = sorted(names.get((env.name, cluster.name), []))
            app = layout.platform_dir(env.name, cluster.name)
            found.pending[app] = partial(platform_patches, env, models)
    return found
