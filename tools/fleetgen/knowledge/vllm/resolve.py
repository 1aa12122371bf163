"""Static name resolution over a release's sources: constants, classes, enums, dataclass fields.

Deliberately small: it follows ``from x import y`` and module-level assignments, which is how
vLLM defines the lists and enums its CLI and metrics enumerate. Anything it cannot follow
resolves to None, and the extractor then records less (never a guess).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from fleetgen.knowledge.vllm.sources import SourceTree

Scope = dict[str, ast.AST]


@dataclass(frozen=True, slots=True)
class Located:
    """A definition and the file it is in."""

    path: str
    node: ast.AST


def _module_name(path: str) -> str:
    dotted = path[: -len(".py")].replace("/", ".")
    return dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted


class Resolver:
    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self._scopes: dict[str, Scope] = {}
        self._imports: dict[str, dict[str, tuple[str, str]]] = {}

    def _scan(self, path: str) -> None:
        if path in self._scopes:
            return
        scope: Scope = {}
        imports: dict[str, tuple[str, str]] = {}
        module = self.tree.module(path)
        body = list(module.body) if module else []
        package = (
            _module_name(path).rsplit(".", 1)[0]
            if not path.endswith("__init__.py")
            else (_module_name(path))
        )
        while body:
            node = body.pop(0)
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                scope[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        scope[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    scope[node.target.id] = node.value
            elif isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:
                    parts = package.split(".")
                    prefix = ".".join(parts[: len(parts) - node.level + 1])
                    source = f"{prefix}.{source}" if source else prefix
                for alias in node.names:
                    imports[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.If | ast.Try):
                # TYPE_CHECKING blocks and try/except imports still name real definitions.
                body.extend(node.body)
                if isinstance(node, ast.Try):
                    for handler in node.handlers:
                        body.extend(handler.body)
        self._scopes[path] = scope
        self._imports[path] = imports

    def lookup(self, path: str, name: str, depth: int = 0) -> Located | None:
        """The definition ``name`` refers to at the top level of ``path``."""
        if depth > 8:
            return None
        self._scan(path)
        if name in self._scopes[path]:
            return Located(path, self._scopes[path][name])
        imported = self._imports[path].get(name)
        if imported is None:
            return None
        module, original = imported
        target = self.tree.path_of(module)
        if target is not None:
            found = self.lookup(target, original, depth + 1)
            if found is not None:
                return found
        # ``from package import submodule`` names a module, not a definition.
        return None

    def class_def(self, path: str, name: str) -> Located | None:
        found = self.lookup(path, name)
        if found is not None and isinstance(found.node, ast.ClassDef):
            return found
        return None

    def class_attribute(self, cls: Located, name: str) -> ast.AST | None:
        assert isinstance(cls.node, ast.ClassDef)
        for node in cls.node.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                return node.value
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
                and node.value is not None
            ):
                return node.value
        return None

    def bases(self, cls: Located) -> list[Located]:
        """The class's base classes that are defined in the sources, nearest first."""
        assert isinstance(cls.node, ast.ClassDef)
        found: list[Located] = []
        for base in cls.node.bases:
            if isinstance(base, ast.Name):
                located = self.class_def(cls.path, base.id)
                if located is not None:
                    found.append(located)
        return found

    def method(self, cls: Located, name: str, depth: int = 0) -> tuple[Located, Located] | None:
        """(method, defining class) of ``name`` on ``cls`` or its bases."""
        assert isinstance(cls.node, ast.ClassDef)
        for node in cls.node.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                return Located(cls.path, node), cls
        if depth < 8:
            for base in self.bases(cls):
                found = self.method(base, name, depth + 1)
                if found is not None:
                    return found
        return None

    def fields(self, cls: Located, depth: int = 0) -> dict[str, tuple[ast.expr, str]]:
        """Dataclass-style fields: name -> (annotation, attribute docstring), bases first."""
        assert isinstance(cls.node, ast.ClassDef)
        result: dict[str, tuple[ast.expr, str]] = {}
        if depth < 8:
            for base in reversed(self.bases(cls)):
                result.update(self.fields(base, depth + 1))
        body = cls.node.body
        for index, node in enumerate(body):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            annotation = ast.unparse(node.annotation)
            if "ClassVar" in annotation or "InitVar" in annotation:
                continue
            doc = ""
            following = body[index + 1] if index + 1 < len(body) else None
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                doc = str(following.value.value)
            result[node.target.id] = (node.annotation, doc)
        return result

    def enum_strings(self, cls: Located) -> list[str] | None:
        """What ``str(member)`` gives for each member of an Enum class, in order, or None."""
        assert isinstance(cls.node, ast.ClassDef)
        members: list[tuple[str, object]] = []
        for node in cls.node.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if (
                    isinstance(target, ast.Name)
                    and isinstance(node.value, ast.Constant)
                    and not target.id.startswith("_")
                ):
                    members.append((target.id, node.value.value))
        if not members:
            return None
        str_method = next(
            (n for n in cls.node.body if isinstance(n, ast.FunctionDef) and n.name == "__str__"),
            None,
        )
        if str_method is not None:
            returned = next(
                (n.value for n in ast.walk(str_method) if isinstance(n, ast.Return) and n.value),
                None,
            )
            # ``return NAMES[self.value]``: the strings are a module-level tuple.
            if isinstance(returned, ast.Subscript) and isinstance(returned.value, ast.Name):
                table = self.strings(cls.path, returned.value)
                if table is not None and all(isinstance(v, int) for _, v in members):
                    return [table[int(str(v))] for _, v in members if int(str(v)) < len(table)]
            return None
        if all(isinstance(v, str) for _, v in members):
            return [str(v) for _, v in members]
        return None

    def strings(
        self,
        path: str,
        node: ast.AST | None,
        local: Scope | None = None,
        depth: int = 0,
    ) -> list[str] | None:
        """Evaluate ``node`` to a list of strings (a constant, list, tuple, enum...), or None."""
        if node is None or depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            out: list[str] = []
            for element in node.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                values = self.strings(path, inner, local, depth + 1)
                if values is None:
                    return None
                out.extend(values)
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.strings(path, node.left, local, depth + 1)
            right = self.strings(path, node.right, local, depth + 1)
            if left is None or right is None:
                return None
            if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
                return [left[0] + right[0]]
            return left + right
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("list", "tuple", "sorted", "set", "frozenset")
            and node.args
        ):
            return self.strings(path, node.args[0], local, depth + 1)
        if isinstance(node, ast.Name):
            if local is not None and node.id in local:
                return self.strings(path, local[node.id], local, depth + 1)
            found = self.lookup(path, node.id)
            if found is None:
                return None
            if isinstance(found.node, ast.ClassDef):
                return self.enum_strings(found)
            return self.strings(found.path, found.node, None, depth + 1)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            key = f"{node.value.id}.{node.attr}"
            if local is not None and key in local:
                return self.strings(path, local[key], local, depth + 1)
            cls = self.class_def(path, node.value.id)
            if cls is not None:
                return self.strings(cls.path, self.class_attribute(cls, node.attr), None, depth + 1)
        return None
