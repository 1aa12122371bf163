"""The two glob dialects Argo CD matches with (argo-cd v3.5).

- ``glob_match``: gobwas/glob without separators (util/glob), used for AppProject
  destinations; ``!`` denies (``globMatch`` in app_project_types.go).
- ``path_match``: Go's ``filepath.Match``, used for resource kinds and groups
  (``isResourceInList``) and for manifest-generate-paths entries.
- ``git_pathspec``: ``git ls-files -- <pattern>``, what the git files generator lists by
  default: ``*`` also crosses ``/`` (fnmatch without FNM_PATHNAME).
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["git_pathspec", "glob_match", "has_magic", "path_match"]


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _class(pattern: str, i: int, negations: str) -> tuple[str, int]:
    end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in negations else i + 1)
    if end < 0:
        return re.escape(pattern[i]), i + 1
    body = pattern[i + 1 : end]
    if body[:1] in negations:
        body = "^" + body[1:]
    return "[" + body.replace("\\", "\\\\") + "]", end + 1


@cache
def _compile(pattern: str, dialect: str) -> re.Pattern[str]:
    out, i = "", 0
    star = {"gobwas": ".*", "path": "[^/]*", "git": ".*"}[dialect]
    one = {"gobwas": ".", "path": "[^/]", "git": "."}[dialect]
    negations = "!" if dialect == "gobwas" else "^!" if dialect == "git" else "^"
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out += star
            i += 1
            while i < len(pattern) and pattern[i] == "*":
                i += 1
        elif c == "?":
            out, i = out + one, i + 1
        elif c == "[":
            part, i = _class(pattern, i, negations)
            out += part
        elif c == "\\" and i + 1 < len(pattern):
            out, i = out + re.escape(pattern[i + 1]), i + 2
        elif c == "{" and dialect == "gobwas" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            options = pattern[i + 1 : end].split(",")
            out += "(?:" + "|".join(_compile(o, dialect).pattern[:-2] for o in options) + ")"
            i = end + 1
        else:
            out, i = out + re.escape(c), i + 1
    return re.compile(out + r"\Z", re.DOTALL)


def glob_match(pattern: str, value: str, *, allow_negation: bool = True) -> bool:
    """globMatch of app_project_types.go (``*`` alone matches everything)."""
    if allow_negation and pattern.startswith("!"):
        return not _compile(pattern[1:], "gobwas").match(value)
    return pattern == "*" or bool(_compile(pattern, "gobwas").match(value))


def path_match(pattern: str, value: str) -> bool:
    return bool(_compile(pattern, "path").match(value))


def git_pathspec(pattern: str, path: str) -> bool:
    """Whether ``git ls-files -- pattern`` lists ``path`` (a repository-relative file)."""
    pattern = pattern.lstrip("/") if not pattern.startswith(":") else pattern
    if not has_magic(pattern):
        stripped = pattern.rstrip("/")
        return path == stripped or path.startswith(stripped + "/") or stripped in ("", ".")
    return bool(_compile(pattern, "git").match(path))
