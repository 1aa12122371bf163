"""Parse one YAML file into plain data plus positions, strictly and within resource caps.

PyYAML's C parser composes the node tree (fast, and nodes carry marks); we build the values
ourselves so that duplicate keys, alias bombs, deep nesting and exotic tags become
diagnostics with a line and column instead of being silently accepted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.core.positions import JsonPath, Mark, Positions

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
# Dates stay strings: the schemas never want a datetime object.
_AS_TEXT_TAGS = {"tag:yaml.org,2002:timestamp"}
_MERGE = "tag:yaml.org,2002:merge"
_YAML12_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$")


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A parsed document and where its values sit."""

    path: str
    data: Any
    positions: Positions


class _Reject(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Builder:
    """Turns a composed node tree into Python values and a position index."""

    def __init__(self, path: str, *, positions: bool = True) -> None:
        self.path = path
        self.positions = positions  # without: the same values and checks, no index
        self.marks: dict[JsonPath, Mark] = {}
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.active: set[int] = set()

    def at(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: JsonPath, key: yaml.Node | None, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Reject(
                diag(
                    "FG005",
                    f"document expands to more than {MAX_NODES} values (alias expansion?)",
                    self.at(node),
                    hint="remove anchors/aliases; descriptors are small, explicit files",
                )
            )
        if depth > MAX_DEPTH:
            raise _Reject(
                diag("FG009", f"values nest deeper than {MAX_DEPTH} levels", self.at(node))
            )
        if self.positions:
            key_node = key or node
            self.marks[path] = Mark(
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise _Reject(diag("FG005", "an alias refers to its own ancestor", self.at(node)))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if not self.positions:
                    return [self.build(item, path, None, depth + 1) for item in node.value]
                return [
                    self.build(item, (*path, index), None, depth + 1)
                    for index, item in enumerate(node.value)
                ]
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            if node.style or not _YAML12_FLOAT.match(node.value):
                return node.value  # what SafeConstructor makes of a str node, without its detour
            # YAML 1.2 (and every Kubernetes tool) reads 8.03e9 as a number; PyYAML's
            # YAML 1.1 resolver would keep it a string.
            number = float(node.value)
            if not math.isfinite(number):
                raise _Reject(
                    diag("FG106", f"{node.value!r} is not a finite number", self.at(node))
                )
            return number
        if node.tag in _SCALAR_TAGS:
            try:
                value = self.constructor.construct_object(node)
            except (
                yaml.YAMLError,
                ValueError,
                TypeError,
                OverflowError,
                KeyError,
                IndexError,
            ) as exc:
                raise _Reject(
                    diag(
                        "FG107",
                        f"cannot read {node.value!r} as {node.tag.rsplit(':', 1)[-1]}: {exc}",
                        self.at(node),
                    )
                ) from None
            if isinstance(value, float) and not math.isfinite(value):
                raise _Reject(
                    diag("FG106", f"{node.value!r} is not a finite number", self.at(node))
                )
            return value
        if node.tag in _AS_TEXT_TAGS:
            return node.value
        raise _Reject(
            diag(
                "FG011",
                f"unsupported YAML tag {node.tag!r}",
                self.at(node),
                hint="use plain strings, numbers, booleans, lists and mappings",
            )
        )

    def mapping(self, node: yaml.MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Reject(
                    diag(
                        "FG005",
                        "merge keys ('<<') are not supported",
                        self.at(key_node),
                        hint="write the keys out explicitly",
                    )
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Reject(
                    diag("FG001", "mapping keys must be plain strings", self.at(key_node))
                )
            # The key's source text, not its YAML 1.1 reading (`on:` would become True).
            key = str(key_node.value)
            if key in first_seen:
                raise _Reject(
                    diag(
                        "FG002",
                        f"duplicate key {key!r} (first defined on line {first_seen[key]})",
                        self.at(key_node),
                        hint="YAML keeps only one of them; delete or rename the other",
                    )
                )
            first_seen[key] = key_node.start_mark.line + 1
            inner = (*path, key) if self.positions else path
            out[key] = self.build(value_node, inner, key_node, depth + 1)
        return out


def _decode(content: bytes, path: str) -> str | Diagnostic:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = content[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return diag(
            "FG006",
            f"invalid UTF-8 byte 0x{content[exc.start]:02x}",
            Location(path, line, column),
            hint="save the file as UTF-8",
        )


def parse(content: bytes, path: str, *, positions: bool = True) -> ParsedFile | Diagnostic:
    """Parse one single-document YAML file whose top level must be a mapping. Without
    `positions` the values and every check are the same, but no position index is kept (a
    file whose own diagnostics nobody will read: the pre-commit path's other files)."""
    if len(content) > MAX_FILE_BYTES:
        return diag(
            "FG007",
            f"file is {len(content)} bytes; the cap is {MAX_FILE_BYTES}",
            Location(path),
        )
    text = _decode(content, path)
    if isinstance(text, Diagnostic):
        return text
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        documents = yaml.compose_all(text, Loader=_Loader)
        root = next(documents, None)
        extra = next(documents, None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        return diag("FG001", f"invalid YAML: {problem}", Location(path, line, column))
    except yaml.YAMLError as exc:
        return diag("FG001", f"invalid YAML: {exc}", Location(path))
    if extra is not None:
        return diag(
            "FG004",
            "more than one YAML document; a file holds exactly one",
            Location(path, extra.start_mark.line + 1, extra.start_mark.column + 1),
        )
    if root is None:
        return diag("FG003", "the file is empty", Location(path))
    if not isinstance(root, yaml.MappingNode):
        return diag(
            "FG003",
            "the document must be a mapping of keys to values",
            Location(path, root.start_mark.line + 1, root.start_mark.column + 1),
        )
    builder = _Builder(path, positions=positions)
    try:
        data = builder.build(root, (), None, 0)
    except _Reject as rejected:
        return rejected.diagnostic
    except RecursionError:
        return diag("FG009", "values nest too deeply", Location(path))
    return ParsedFile(path, data, Positions(builder.marks))
