"""`fleetgen fmt`: normalize descriptors and environment files, keeping every comment.

A ruamel.yaml round trip (quotes, flow style and number spellings survive) in the example
files' layout: 2-space mappings, sequences indented under their key (``key:`` / ``  - item``),
apiVersion/kind/metadata/spec first and spec's sections in the schema's order.

ruamel files a comment under the value *before* it, so moving a key would strand it. Comments
are therefore lifted out by line first and owned by the entry they precede, end, or (when
indented deeper than what follows) close; the bare tree is reordered and dumped and the
comments are put back beside their owners. A result whose data or comments differ is refused.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from fleetgen.core.diagnostics import Diagnostic, Location
from fleetgen.core.errors import UsageError
from fleetgen.loading.discover import discover
from fleetgen.loading.schema import schema
from fleetgen.loading.yaml_source import parse

Key = tuple[str | int, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KINDS = {"ModelDeployment": "descriptor", "Environment": "environment"}


@dataclass(frozen=True, slots=True)
class Problem:
    """A file fmt cannot (safely) format; it is left untouched."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: error {self.message}"


@dataclass(frozen=True, slots=True)
class FmtResult:
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A mapping key or list item: where it starts and the last line of its value."""

    path: Key
    line: int
    column: int  # of the key, or of a block item's dash
    end: int


@dataclass(slots=True)
class _Comments:
    header: list[str] = field(default_factory=list)
    leading: dict[Key, list[str]] = field(default_factory=dict)
    trailing: dict[Key, list[str]] = field(default_factory=dict)
    eol: dict[Key, tuple[int, str]] = field(default_factory=dict)
    trailer: list[str] = field(default_factory=list)

    def texts(self) -> Counter[str]:
        groups = [self.header, self.trailer, *self.leading.values(), *self.trailing.values()]
        found = [s for group in groups for s in group] + [c for _, c in self.eol.values()]
        return Counter(s for s in found if s)


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap long values such as digests
    return rt


def _end_line(start: yaml.Mark, end: yaml.Mark) -> int:
    return end.line if end.column > 0 or end.line == start.line else end.line - 1


def _last_line(node: yaml.Node) -> int:
    # A block collection's end mark sits on the next key: use its last child instead.
    if isinstance(node, yaml.CollectionNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_line(last[1] if isinstance(node, yaml.MappingNode) else last)
    return _end_line(node.start_mark, node.end_mark)


def _entries(text: str) -> list[_Entry]:
    """Every mapping key and list item, in document order."""
    lines = text.splitlines()

    def walk(node: yaml.Node, path: Key) -> Iterator[_Entry]:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                mark = key.start_mark
                yield _Entry((*path, key.value), mark.line, mark.column, _last_line(value))
                yield from walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                line, column = item.start_mark.line, item.start_mark.column
                dash = lines[line].rfind("-", 0, column) if not node.flow_style else -1
                column = dash if dash >= 0 else column
                yield _Entry((*path, index), line, column, _last_line(item))
                yield from walk(item, (*path, index))

    root = yaml.compose(text, Loader=_Loader)
    return list(walk(root, ())) if root is not None else []


def _content_ends(text: str) -> dict[int, int]:
    """Line -> column where its YAML content ends; lines without content are absent."""
    ends: dict[int, int] = {}
    for token in yaml.scan(text, Loader=_Loader):
        start, end = token.start_mark, token.end_mark
        if (start.line, start.column) == (end.line, end.column):
            continue  # zero-width bookkeeping tokens
        last = _end_line(start, end)
        ends.update({line: ends.get(line, 0) for line in range(start.line, last + 1)})
        ends[last] = max(ends[last], end.column)
    return ends


def _collapse(lines: list[str]) -> list[str]:
    """Runs of blank lines become one."""
    return [s for i, s in enumerate(lines) if s or i == 0 or lines[i - 1]]


def _settle(
    found: _Comments, at: int, rest: list[tuple[int, str]], last: _Entry | None, col: dict[Key, int]
) -> list[str]:
    """Comments before an entry at column `at`: those indented deeper close the block above
    (and stay with it); the rest lead the entry."""
    blanks: list[str] = []
    for index, (column, text) in enumerate(rest):
        if last is None or (text and column <= at):
            return _collapse([*blanks, *(t for _, t in rest[index:])])
        if text:
            path = last.path
            while len(path) > 1 and col[path] > column:
                path = path[:-1]
            found.trailing.setdefault(path, []).extend([*blanks, text])
            blanks = []
        else:
            blanks.append(text)
    return _collapse(blanks)


def _extract(text: str) -> _Comments:
    entries = _entries(text)
    owner: dict[int, _Entry] = {}
    for entry in entries:
        owner.setdefault(entry.line, entry)  # the outermost entry starting on a line owns it
    column = {e.path: e.column for e in entries}
    ends, found = _content_ends(text), _Comments()
    pending: list[tuple[int, str]] = []
    last: _Entry | None = None
    for number, line in enumerate(text.splitlines()):
        if number not in ends:
            pending.append((len(line) - len(line.lstrip()), line.strip()))
            continue
        if number in owner:
            entry = owner[number]
            if last is None:  # what precedes the first key is the file's header
                found.header.extend(_collapse([t for _, t in pending]))
            else:
                lead = _settle(found, entry.column, pending, last, column)
                found.leading.setdefault(entry.path, []).extend(lead)
            last, pending = entry, []
        rest = line[ends[number] :]
        if rest.strip().startswith("#"):
            gap = len(rest) - len(rest.lstrip())
            if last is None:
                found.header.append(rest.strip())
            else:
                found.eol[last.path] = (gap, rest.strip())
    found.trailer = _settle(found, 0, pending, last, column)
    return found


def _strip_comments(node: Any) -> None:
    if isinstance(node, CommentedBase):
        node.ca.comment, node.ca.end = None, []
        node.ca.items.clear()
    for value in (
        node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    ):
        _strip_comments(value)


def _order(mapping: CommentedMap, first: Sequence[str]) -> None:
    """Keys in `first` in that order, then the rest as they were."""
    rest = [k for k in mapping if k not in first]
    for key in [k for k in first if k in mapping] + rest:
        mapping.move_to_end(key)


def _reorder(doc: CommentedMap) -> None:
    _order(doc, ("apiVersion", "kind", "metadata", "spec"))
    kind = _KINDS.get(str(doc.get("kind")))
    if kind is not None and isinstance(doc.get("spec"), CommentedMap):
        _order(doc["spec"], list(schema(kind)["properties"]["spec"]["properties"]))


def _restore(dumped: str, comments: _Comments) -> str:
    before: dict[int, list[str]] = {}
    after: dict[int, list[tuple[int, list[str]]]] = {}
    eol: dict[int, list[str]] = {}
    for entry in _entries(dumped):
        before.setdefault(entry.line, []).extend(comments.leading.get(entry.path, ()))
        if entry.path in comments.eol:
            gap, text = comments.eol[entry.path]
            eol.setdefault(entry.line, []).append(" " * max(gap, 1) + text)
        if entry.path in comments.trailing:
            lines = [" " * entry.column + s if s else "" for s in comments.trailing[entry.path]]
            after.setdefault(entry.end, []).append((len(entry.path), lines))
    out = list(comments.header)
    for number, line in enumerate(dumped.splitlines()):
        indent = " " * (len(line) - len(line.lstrip()))
        lead = _collapse(before.get(number, []))
        if out and len(out[-1]) - len(out[-1].lstrip()) < len(indent):
            lead = lead[1:] if lead[:1] == [""] else lead  # no blank under a parent key
        out.extend(indent + s if s else "" for s in lead)
        out.append(line + "".join(eol.get(number, ())))
        for _, lines in sorted(after.get(number, ()), key=lambda group: -group[0]):
            out.extend(lines)  # inner blocks close before outer ones
    out.extend(comments.trailer)
    return "\n".join(s.rstrip() for s in _collapse(out)).strip("\n") + "\n"


def format_text(content: bytes, path: str) -> str | Problem:
    """The normalized text of one file, or why it cannot be formatted."""
    parsed = parse(content, path)
    if isinstance(parsed, Diagnostic):
        return Problem(parsed.location, f"{parsed.code} {parsed.message}")
    text = content.decode("utf-8").removeprefix("\ufeff")
    try:
        rt = _yaml()
        doc = rt.load(text)
        comments = _extract(text)
    except (MarkedYAMLError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        return Problem(where, f"cannot read for formatting: {exc}")
    _strip_comments(doc)
    if isinstance(doc, CommentedMap):
        _reorder(doc)
    buffer = io.StringIO()
    rt.dump(doc, buffer)
    result = _restore(buffer.getvalue(), comments)
    again = parse(result.encode("utf-8"), path)
    if isinstance(again, Diagnostic) or again.data != parsed.data:
        return Problem(Location(path), "formatting would change the data; left as it is")
    if _extract(result).texts() != comments.texts():
        return Problem(Location(path), "formatting would move comments apart; left as it is")
    return result


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` in one step: a temp file in the same directory, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            Path(tmp).chmod(path.stat().st_mode & 0o7777)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _targets(root: Path, paths: Sequence[Path]) -> list[Path]:
    if not paths:
        inputs, _ = discover(root)
        return [root / rel for rel in (*inputs.descriptors, *inputs.environments)]
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{path}: no such file")
    return out


def fmt(root: Path, paths: Sequence[Path], *, write: bool) -> FmtResult:
    """Format the repository's inputs (or `paths`); with `write`, rewrite those that change."""
    root = root.resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    changed: list[str] = []
    unchanged: list[str] = []
    problems: list[Problem] = []
    for path in _targets(root, paths):
        full = path.resolve()
        shown = full.relative_to(root).as_posix() if full.is_relative_to(root) else str(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(Location(shown), f"cannot read the file: {exc.strerror}"))
            continue
        result = format_text(content, shown)
        if isinstance(result, Problem):
            problems.append(result)
        elif result.encode("utf-8") == content:
            unchanged.append(shown)
        else:
            changed.append(shown)
            if write:
                write_atomic(path, result)
    return FmtResult(tuple(changed), tuple(unchanged), tuple(problems))
