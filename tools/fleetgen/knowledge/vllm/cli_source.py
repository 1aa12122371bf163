"""The long options ``vllm serve`` accepts, read statically from a release's argparse setup.

Older releases list every option as ``parser.add_argument("--x", ...)``; newer ones derive
most from config dataclasses (``add_argument("--x", **get_kwargs(ModelConfig)["x"])``, or one
option per field in a loop over ``get_kwargs(FrontendArgs).items()``). Both are followed from
the ``serve`` sub-command's parser set-up through the calls that receive the parser. A field
typed ``bool`` becomes a ``--x``/``--no-x`` pair when the release's ``get_kwargs`` maps bools to
``argparse.BooleanOptionalAction``, as argparse itself then accepts both.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from fleetgen.knowledge.vllm.resolve import Located, Resolver
from fleetgen.knowledge.vllm.sources import SourceTree

_ENTRY_MODULES = (
    "vllm/entrypoints/cli/serve.py",
    "vllm/entrypoints/openai/cli_args.py",
    "vllm/entrypoints/common/cli_args.py",
)
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)")
_REMOVAL = re.compile(r"removed in (?:version )?v?(\d+\.\d+(?:\.\d+)?)", re.I)


@dataclass(slots=True)
class FlagDef:
    name: str
    negatable: bool = False
    hidden: bool = False
    deprecated: bool = False
    removal: str | None = None


@dataclass(slots=True)
class CliFacts:
    flags: dict[str, FlagDef] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        name: str,
        *,
        negatable: bool,
        hidden: bool = False,
        deprecated: bool = False,
    ) -> None:
        if name not in self.flags:
            self.flags[name] = FlagDef(name, hidden=hidden)
        known = self.flags[name]
        known.negatable |= negatable
        # Hidden only while every definition hides it.
        known.hidden = known.hidden and hidden
        known.deprecated |= deprecated


@dataclass(frozen=True, slots=True)
class _Frame:
    function: Located
    cls: Located | None  # the class the method runs on (``cls``)
    owner: Located | None  # the class that defines the method (for ``super()``)


class _Walker:
    def __init__(self, tree: SourceTree, resolver: Resolver) -> None:
        self.tree = tree
        self.resolver = resolver
        self.facts = CliFacts()
        self.seen: set[tuple[str, int, str]] = set()
        self.modules: set[str] = set()
        self.bool_negates = self._bool_negates()

    def _bool_negates(self) -> bool:
        """Whether this release's get_kwargs gives bool fields a --no- form."""
        path = "vllm/engine/arg_utils.py"
        for name in ("_compute_kwargs", "get_kwargs"):
            found = self.resolver.lookup(path, name)
            if found is not None and "BooleanOptionalAction" in ast.unparse(found.node):
                return True
        return False

    def _optional_valued(self) -> bool:
        """Newer get_kwargs turns ``bool | str | None`` into a value-taking option."""
        found = self.resolver.lookup("vllm/engine/arg_utils.py", "_compute_kwargs")
        return found is not None and "{bool, str, type(None)}" in ast.unparse(found.node)

    def walk(self, frame: _Frame, depth: int = 0) -> None:
        node = frame.function.node
        key = (
            frame.function.path,
            getattr(node, "lineno", 0),
            frame.cls.path if frame.cls else "",
        )
        if key in self.seen or depth > 12:
            return
        self.seen.add(key)
        self.modules.add(frame.function.path)
        parents = {c: p for p in ast.walk(node) for c in ast.iter_child_nodes(p)}
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument":
                self._add_argument(frame, call, parents)
                continue
            target = self._callee(frame, call)
            if target is not None:
                self.walk(target, depth + 1)

    def _callee(self, frame: _Frame, call: ast.Call) -> _Frame | None:
        func, path = call.func, frame.function.path
        if isinstance(func, ast.Attribute):
            receiver = func.value
            cls: Located | None = None
            if isinstance(receiver, ast.Name) and receiver.id == "cls":
                cls = frame.cls
            elif isinstance(receiver, ast.Call) and getattr(receiver.func, "id", "") == "super":
                bases = self.resolver.bases(frame.owner) if frame.owner else []
                if bases:
                    found = self.resolver.method(bases[0], func.attr)
                    if found is not None:
                        return _Frame(found[0], frame.cls, found[1])
                return None
            elif isinstance(receiver, ast.Name):
                cls = self.resolver.class_def(path, receiver.id)
            if cls is None or not func.attr.startswith(("add_cli_args", "_add", "add_")):
                return None
            found = self.resolver.method(cls, func.attr)
            return _Frame(found[0], cls, found[1]) if found else None
        if isinstance(func, ast.Name) and _passes_parser(call):
            located = self.resolver.lookup(path, func.id)
            if located is not None and isinstance(located.node, ast.FunctionDef):
                return _Frame(located, None, None)
        return None

    def _kwargs_class(self, frame: _Frame, name: str) -> Located | None:
        """The dataclass behind ``name = get_kwargs(SomeConfig)`` in the current function."""
        for node in ast.walk(frame.function.node):
            if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
                continue
            if not any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                continue
            call = node.value
            if getattr(call.func, "id", None) != "get_kwargs" or not call.args:
                continue
            arg = call.args[0]
            if isinstance(arg, ast.Name):
                if arg.id == "cls":
                    return frame.cls
                return self.resolver.class_def(frame.function.path, arg.id)
        return None

    def _field_negatable(self, annotation: ast.expr) -> bool:
        words = {
            n.id if isinstance(n, ast.Name) else str(n.value)
            for n in ast.walk(annotation)
            if isinstance(n, ast.Name) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
        }
        text = ast.unparse(annotation)
        if "bool" not in words and "bool" not in text:
            return False
        if self._optional_valued() and words - {"None", "Optional", "Union"} == {
            "bool",
            "str",
        }:
            return False
        return self.bool_negates

    def _spread_negatable(
        self, frame: _Frame, value: ast.expr, current: bool | None
    ) -> bool | None:
        """``**kwargs["field"]`` or ``**{**kwargs["field"], "action": ...}``."""
        if isinstance(value, ast.Dict):
            for key, inner in zip(value.keys, value.values, strict=True):
                if key is None:
                    current = self._spread_negatable(frame, inner, current)
                elif isinstance(key, ast.Constant) and key.value == "action":
                    current = "BooleanOptionalAction" in ast.unparse(inner)
            return current
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant):
            cls = self._kwargs_class(frame, getattr(value.value, "id", ""))
            if cls is not None:
                fields = self.resolver.fields(cls)
                name = str(value.slice.value)
                if name in fields:
                    return self._field_negatable(fields[name][0])
        return current

    def _add_argument(self, frame: _Frame, call: ast.Call, parents: dict[ast.AST, ast.AST]) -> None:
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        hidden = "SUPPRESS" in ast.unparse(keywords["help"]) if "help" in keywords else False
        deprecated = "deprecated" in keywords and ast.unparse(keywords["deprecated"]) == "True"
        negatable: bool | None = None
        if "action" in keywords:
            negatable = "BooleanOptionalAction" in ast.unparse(keywords["action"])
        else:
            for kw in call.keywords:
                if kw.arg is None:
                    negatable = self._spread_negatable(frame, kw.value, negatable)
        longs = [
            a.value
            for a in call.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("--")
        ]
        shorts = [
            a.value
            for a in call.args
            if isinstance(a, ast.Constant)
            and isinstance(a.value, str)
            and a.value.startswith("-")
            and not a.value.startswith("--")
        ]
        for name in longs:
            self.facts.add(name, negatable=bool(negatable), hidden=hidden, deprecated=deprecated)
        if longs:
            for short in shorts:
                self.facts.aliases[short] = longs[0]
        if any(isinstance(a, ast.JoinedStr) for a in call.args):
            self._field_loop(frame, call, parents, hidden)

    def _field_loop(
        self,
        frame: _Frame,
        call: ast.Call,
        parents: dict[ast.AST, ast.AST],
        hidden: bool,
    ) -> None:
        """``for key, value in kwargs.items(): add_argument(f"--{key...}", **value)``."""
        node: ast.AST = call
        while node in parents and not isinstance(node, ast.For):
            node = parents[node]
        if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Call):
            return
        receiver = getattr(node.iter.func, "value", None)
        if not isinstance(receiver, ast.Name):
            return
        cls = self._kwargs_class(frame, receiver.id)
        if cls is None:
            return
        removed, actions = self._customisations(frame, receiver.id)
        for name, (annotation, _doc) in self.resolver.fields(cls).items():
            if name in removed:
                continue
            negatable = self._field_negatable(annotation)
            if name in actions:
                negatable = "BooleanOptionalAction" in actions[name]
            self.facts.add(f"--{name.replace('_', '-')}", negatable=negatable, hidden=hidden)

    def _customisations(self, frame: _Frame, variable: str) -> tuple[set[str], dict[str, str]]:
        """Fields deleted from, and actions overridden in, the kwargs before the loop."""
        functions = [frame.function.node]
        if frame.cls is not None:
            found = self.resolver.method(frame.cls, "_customize_cli_kwargs")
            if found is not None:
                functions.append(found[0].node)
                for base in self.resolver.bases(found[1]):
                    more = self.resolver.method(base, "_customize_cli_kwargs")
                    if more is not None:
                        functions.append(more[0].node)
        removed: set[str] = set()
        actions: dict[str, str] = {}
        for function in functions:
            for node in ast.walk(function):
                if isinstance(node, ast.Delete):
                    for target in node.targets:
                        if (
                            isinstance(target, ast.Subscript)
                            and isinstance(target.value, ast.Name)
                            and isinstance(target.slice, ast.Constant)
                        ):
                            removed.add(str(target.slice.value))
                elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.slice, ast.Constant)
                        and target.slice.value == "action"
                        and isinstance(target.value, ast.Subscript)
                        and isinstance(target.value.slice, ast.Constant)
                    ):
                        actions[str(target.value.slice.value)] = ast.unparse(node.value)
        return removed, actions


def _passes_parser(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Name) and "parser" in a.id for a in call.args)


def _entry_frames(tree: SourceTree, resolver: Resolver) -> list[_Frame]:
    frames: list[_Frame] = []
    serve = tree.module(_ENTRY_MODULES[0])
    if serve is not None:
        for node in ast.walk(serve):
            if isinstance(node, ast.ClassDef) and "Serve" in node.name:
                owner = Located(_ENTRY_MODULES[0], node)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "subparser_init":
                        frames.append(_Frame(Located(_ENTRY_MODULES[0], item), owner, owner))
    if not frames:
        for path in _ENTRY_MODULES[1:]:
            found = resolver.lookup(path, "make_arg_parser") if path in tree.files else None
            if found is not None:
                frames.append(_Frame(found, None, None))
                break
    return frames


def _deprecations(tree: SourceTree, resolver: Resolver, walker: _Walker) -> None:
    """Mark flags a help text, warning or field docstring calls deprecated, with the removal."""
    texts: list[str] = []
    for path in sorted(walker.modules | {"vllm/engine/arg_utils.py"}):
        module = tree.module(path)
        if module is not None:
            texts += [
                n.value
                for n in ast.walk(module)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
    for text in texts:
        flags = list(_FLAG.finditer(text))
        inside = [(m.start(), m.end()) for m in flags]
        for word in re.finditer(r"deprecat", text, re.I):
            if any(start <= word.start() < end for start, end in inside):
                continue  # part of a flag's own name (--allow-deprecated-...)
            before = [m for m in flags if m.end() <= word.start()]
            if not before:
                continue
            match = before[-1]
            between = text[match.end() : word.start()]
            # The flag must be the subject of the same clause ("--x is deprecated").
            if len(between) > 40 or re.search(r"[.;:]\s", between):
                continue
            flag = walker.facts.flags.get(match.group(1))
            if flag is None:
                continue
            flag.deprecated = True
            removal = _REMOVAL.search(text, word.start())
            if removal and flag.removal is None:
                flag.removal = removal.group(1)


def extract_cli(tree: SourceTree, resolver: Resolver) -> CliFacts:
    walker = _Walker(tree, resolver)
    for frame in _entry_frames(tree, resolver):
        walker.walk(frame)
    _deprecations(tree, resolver, walker)
    return walker.facts
