"""Anchor: ``kubectl kustomize`` per overlay, and extrapolated to every overlay.

A sample of overlays is built (plus kubeconform when it is on PATH and
``--kubeconform-schemas`` names local schemas, so it never downloads); ``kustomize_all`` is
the per-overlay mean times the number of overlays, not a measured run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.measure import CommandFailed, Samples, Stat, run_once
from benchmarks.workspace import Bench

LABELS: dict[str, str] = {
    "kustomize_one": "anchor: `kubectl kustomize` one overlay (median of the sample)",
    "kustomize_all": "anchor: `kubectl kustomize` × all overlays (extrapolated from the mean)",
}


def one_overlay(
    bench: Bench, overlays: Sequence[Path], sample_size: int, kubeconform_schemas: str | None
) -> Stat:
    """``kustomize_one``: kubectl kustomize (then kubeconform, where usable offline) on
    evenly spaced overlays."""
    from fleetgen.kube.kustomize import kustomize_command

    if not overlays:
        return Samples().stat(note="no overlays")
    count = min(sample_size, len(overlays))
    step = len(overlays) / count
    sample = [overlays[int(i * step)] for i in range(count)]
    kustomize = kustomize_command()
    kubeconform = shutil.which("kubeconform") if kubeconform_schemas else None
    samples = Samples()
    # Overlays differ (components, patches), so the sample is wide and each built twice at most.
    for _ in range(min(bench.repeat, 2)):
        for overlay in sample:
            built = run_once([*kustomize, str(overlay)], bench.root, bench.timeout)
            if built.returncode != 0:
                raise CommandFailed(f"kustomize {overlay} failed:\n{built.stderr[-3000:]}")
            if kubeconform:
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as rendered:
                    rendered.write(built.stdout)
                    rendered.flush()
                    argv = [kubeconform, "-strict", "-summary", "-ignore-missing-schemas"]
                    argv += ["-schema-location", str(kubeconform_schemas), rendered.name]
                    checked = run_once(argv, bench.root, bench.timeout)
                built.wall_s += checked.wall_s
                if built.cpu_s is not None and checked.cpu_s is not None:
                    built.cpu_s += checked.cpu_s
            samples.add(built)
    tool = "kustomize + kubeconform" if kubeconform else "kustomize only (no kubeconform)"
    return samples.stat(note=f"{tool}; {count} overlays × {min(bench.repeat, 2)}")


def all_overlays(one: Stat, overlays: int) -> Stat | None:
    """``kustomize_all`` from a ``kustomize_one`` result; None without a per-overlay mean."""
    per_overlay = one.mean_s
    if per_overlay is None:
        return None
    # The mean, not the median, estimates a sum over overlays of mixed cost.
    return Stat(
        per_overlay * overlays,
        one.rss_kb,
        0,
        note=f"extrapolated: mean {per_overlay * 1000:.0f} ms × {overlays} overlays",
        measured_at=one.measured_at,
        loadavg=one.loadavg,
        cpu_median_s=one.cpu_mean_s * overlays if one.cpu_mean_s is not None else None,
    )
