"""Text and Markdown (PR comment) renderings of a plan."""

from __future__ import annotations

from itertools import groupby

from fleetgen.report.reporters import text as diagnostics_text
from fleetgen.review.run import PlanResult

_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _counts(result: PlanResult, env: str) -> str:
    apps = [a for a in result.apps if a.key.env == env]
    parts = [f"{sum(a.status == s for a in apps)} {s}" for s in ("added", "changed", "removed")]
    return ", ".join(parts)


def text(result: PlanResult) -> str:
    out = [f"fleetgen plan: {result.base} → {result.head}"]
    if not result.apps:
        out.append("No Argo CD application changes.")
    for env, apps in groupby(result.apps, key=lambda a: a.key.env):
        out.append(f"\nenvironment {env}: {_counts(result, env)}")
        out.extend(f"  {_SIGN[a.status]} {a.key.name}" for a in apps)
    if result.notes:
        out.append("\nNotes:")
        out.extend(f"  - {note}" for note in result.notes)
    for app in result.apps:
        out.append(f"\n{app.diff.rstrip()}")
    if result.report.diagnostics:
        out.append("\nProblems:\n" + diagnostics_text(result.report).rstrip())
    return "\n".join(out) + "\n"


def markdown(result: PlanResult) -> str:
    out = [f"### fleetgen plan: `{result.base}` → `{result.head}`", ""]
    if not result.apps:
        out.append("No Argo CD application changes.")
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
            out.append("```diff")
            out.append(app.diff.rstrip())
            out.append("```")
            out.append("</details>")
            out.append("")
    if result.notes:
        out.append("#### Notes for reviewers")
        out.append("")
        out.extend(f"- {note}" for note in result.notes)
        out.append("")
    if result.report.diagnostics:
        out.append("#### Problems")
        out.append("")
        out.append("```")
        out.append(diagnostics_text(result.report).rstrip())
        out.append("```")
    return "\n".join(out).rstrip() + "\n"
