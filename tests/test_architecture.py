"""The package layout keeps its promises: no import circle, arrows between packages point one
way (down the layer order README's architecture section gives), and no module grows past
~400 lines without saying why at its top."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tools" / "fleetgen"

# Lower layers never import higher ones. Packages on one line are peers: they may import each
# other only where the module graph stays acyclic (checked separately below).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("codes", "knowledge", "kube"),
    ("domain",),
    ("loading",),
    ("checks",),
    ("render", "rendered", "argocd", "report", "review", "authoring"),
    ("app",),
    ("commands",),
    ("cli", "__main__"),
)
MAX_LINES = 400
REASON_MARKER = "Long module:"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> Iterator[str]:
    """Every fleetgen module this file imports, at any depth (function bodies and
    TYPE_CHECKING blocks included: a circle through either still tangles the design)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("fleetgen"):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in known else node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("fleetgen."))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {m for m in _imports(path, known) if m in known and m != name}
        for name, path in modules.items()
    }


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "fleetgen"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_planted_circle() -> None:
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(planted) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_between_modules() -> None:
    cycle = _find_cycle(_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_no_import_circle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        for target in targets:
            if _package(module) != _package(target) and _package(target) != "fleetgen":
                packages.setdefault(_package(module), set()).add(_package(target))
    cycle = _find_cycle(packages)
    assert cycle is None, "package circle: " + " -> ".join(cycle or [])


def test_imports_point_down_the_layers() -> None:
    rank = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
    modules = _modules()
    unplaced = sorted({_package(m) for m in modules} - set(rank) - {"fleetgen"})
    assert not unplaced, f"packages without a layer in LAYERS: {unplaced}"
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if _package(target) != "fleetgen" and rank[_package(target)] > rank[_package(module)]
    )
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)


def test_long_modules_say_why() -> None:
    unexplained = []
    for path in _modules().values():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_LINES and REASON_MARKER not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained.append(f"{path.relative_to(PACKAGE.parent)} ({lines} lines)")
    assert not unexplained, (
        f"split these, or give the reason in the module docstring after {REASON_MARKER!r}: "
        + ", ".join(unexplained)
    )
