"""Text and Markdown (PR comment) renderings of a plan."""

from __future__ import annotations

import re
from itertools import groupby

from fleetgen.report.reporters import text as diagnostics_text
from fleetgen.review.argo_apps import ArgoAppChange
from fleetgen.review.rollout_order import RolloutOrder, rollout_lines
from fleetgen.review.run import PlanResult

_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _counts(result: PlanResult, env: str) -> str:
    apps = [a for a in result.apps if a.key.env == env]
    parts = [f"{sum(a.status == s for a in apps)} {s}" for s in ("added", "changed", "removed")]
    return ", ".join(parts)


def _applications_heading(changes: tuple[ArgoAppChange, ...]) -> str:
    counts = ", ".join(
        f"{sum(c.status == s for c in changes)} {s}" for s in ("added", "changed", "removed")
    )
    return f"Argo CD Applications, both revisions expanded: {counts}"


def _application_line(change: ArgoAppChange) -> str:
    what = f"{change.name} → {change.destination}" if change.destination else change.name
    if change.status == "changed":
        what += f": {', '.join(change.reasons)}"
    return f"{_SIGN[change.status]} {what}"


def _rollout_heading(order: RolloutOrder) -> str:
    return f"Rollout order in {order.environment} (each step once the one before is healthy)"


def text(result: PlanResult) -> str:
    out = [f"fleetgen plan: {result.base} → {result.head}"]
    if not result.apps and not result.applications:
        out.append("No Argo CD application changes.")
    for env, apps in groupby(result.apps, key=lambda a: a.key.env):
        out.append(f"\nenvironment {env}: {_counts(result, env)}")
        out.extend(f"  {_SIGN[a.status]} {a.key.name}" for a in apps)
    if result.applications:
        out.append("\n" + _applications_heading(result.applications))
        out.extend(f"  {_application_line(c)}" for c in result.applications)
    for order in result.rollout:
        out.append(f"\n{_rollout_heading(order)}:")
        out.extend(f"  {line}" for line in rollout_lines(order))
    if result.notes:
        out.append("\nNotes:")
        out.extend(f"  - {note}" for note in result.notes)
    for app in result.apps:
        out.append(f"\n{app.diff.rstrip()}")
    if result.report.diagnostics:
        out.append("\nProblems:\n" + diagnostics_text(result.report).rstrip())
    return "\n".join(out) + "\n"


# The first line of every Markdown plan: a CI job finds its earlier comment by it and updates
# that one instead of adding another (.github/workflows/fleet.yml).
PLAN_MARKER = "<!-- fleetgen plan -->"
# Curated fact: GitHub refuses an issue or pull-request comment whose body is longer than
# 65,536 characters ("body is too long (maximum is 65536 characters)"). Diffs that would not
# fit are left out, last ones first; the list of apps, the notes and problems always stay.
COMMENT_LIMIT = 65_536


def markdown(result: PlanResult, *, limit: int = COMMENT_LIMIT) -> str:
    """The plan as a PR comment body of at most ``limit`` characters."""
    blocks = [_diff_block(app.diff) for app in result.apps]
    budget = limit - len(_markdown(result, [None] * len(blocks), omitted=len(blocks)))
    shown: list[str | None] = []
    for block in blocks:
        fits = block is not None and len(block) + 1 <= budget
        shown.append(block if fits else None)
        budget -= len(block) + 1 if fits and block is not None else 0
    body = _markdown(result, shown, omitted=shown.count(None))
    if len(body) > limit:  # even the list of apps is too long: cut it, and say so
        tail = "\n\n(plan cut to fit a comment; run `fleetgen plan` for all of it)\n"
        body = body[: limit - len(tail)] + tail
    return body


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text`` (a diff may hold Markdown)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _diff_block(diff: str) -> str:
    fence = _fence(diff)
    return "\n".join([f"{fence}diff", diff.rstrip(), fence])


def _markdown(result: PlanResult, diffs: list[str | None], *, omitted: int) -> str:
    out = [PLAN_MARKER, f"### fleetgen plan: `{result.base}` → `{result.head}`", ""]
    if not result.apps and not result.applications:
        out.append("No Argo CD application changes.")
    index = {id(app): n for n, app in enumerate(result.apps)}
    for env, group in groupby(result.apps, key=lambda a: a.key.env):
        apps = list(group)
        out.append(f"#### `{env}`: {_counts(result, env)}")
        out.append("")
        for app in apps:
            out.append(
                f"<details><summary>{_SIGN[app.status]} <code>{app.key.name}</code> "
                f"({app.status})</summary>"
            )
            out.append("")
            block = diffs[index[id(app)]]
            out.append(block if block is not None else "_Diff left out: the comment size limit._")
            out.append("</details>")
            out.append("")
    if result.applications:
        out.append(f"#### {_applications_heading(result.applications)}")
        out.append("")
        out.extend(f"- `{_application_line(c)}`" for c in result.applications)
        out.append("")
    for order in result.rollout:
        out.append(f"#### {_rollout_heading(order)}")
        out.append("")
        out.extend(f"- {line}" for line in rollout_lines(order))
        out.append("")
    if omitted and result.apps:
        out.append(
            f"_{omitted} diff(s) left out to fit a comment: "
            f"`fleetgen plan --base {result.base}` shows them all._"
        )
        out.append("")
    if result.notes:
        out.append("#### Notes for reviewers")
        out.append("")
        out.extend(f"- {note}" for note in result.notes)
        out.append("")
    if result.report.diagnostics:
        problems = diagnostics_text(result.report).rstrip()
        fence = _fence(problems)
        out.append("#### Problems")
        out.append("")
        out.append(fence)
        out.append(problems)
        out.append(fence)
    return "\n".join(out).rstrip() + "\n"
