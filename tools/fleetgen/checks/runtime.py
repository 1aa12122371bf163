"""FG503-FG506: the pinned vLLM version, its flags and its metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.checks.policy import image_location
from fleetgen.codes import diag
from fleetgen.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet
from fleetgen.metrics import PLATFORM_METRICS
from fleetgen.placement import Placement, focused_placements
from fleetgen.runtime_contract import (
    FLAGS_SET_BY_FLEETGEN,
    RuntimeContract,
    canonical_flag,
    contract_for,
    known_versions,
    vllm_version_from_image,
)


def runtime_version(p: Placement) -> str | None:
    """The vLLM version a placement runs: the image tag, else runtime.vllmVersion."""
    return vllm_version_from_image(p.image) or p.descriptor.runtime.vllm_version


def _contract(p: Placement) -> tuple[RuntimeContract | None, Diagnostic | None]:
    declared = p.descriptor.runtime.vllm_version
    tagged = vllm_version_from_image(p.image)
    src = p.descriptor.source
    if tagged is None and declared is None:
        return None, diag(
            "FG504",
            f"cannot tell the vLLM version of {p.image!r}",
            image_location(p),
            hint="tag the image vX.Y.Z or set runtime.vllmVersion",
        )
    if tagged and declared and contract_for(tagged) != contract_for(declared):
        return None, diag(
            "FG504",
            f"runtime.vllmVersion {declared} contradicts the image tag ({tagged})",
            src.at("spec", "runtime", "vllmVersion"),
        )
    version = tagged or declared or ""
    contract = contract_for(version)
    if contract is None:
        known = known_versions()
        return None, diag(
            "FG504",
            f"vLLM {version} is not in the runtime contract table ({known[0]} to {known[-1]})",
            image_location(p),
            hint="pin a covered version, or extend fleetgen's runtime contract",
        )
    return contract, None


def check_runtime(fleet: Fleet) -> Iterator[Diagnostic]:
    for p in focused_placements(fleet):
        contract, problem = _contract(p)
        if problem is not None:
            yield problem
        if contract is None:
            continue
        desc, src = p.descriptor, p.descriptor.source
        version = f"vLLM {contract.version}"
        metric = desc.autoscaling.metric
        if not contract.exports_metric(metric):
            replacement = contract.replacement_for(metric)
            yield diag(
                "FG503",
                f"{version} does not export {metric!r}; the autoscaler would see nothing",
                src.at("spec", "autoscaling", "metric"),
                hint=f"use {replacement!r}" if replacement else None,
            )
        for name in PLATFORM_METRICS:
            if not contract.exports_metric(name):
                yield diag(
                    "FG503",
                    f"{version} does not export {name!r}, which the platform's alerts and "
                    "dashboards query",
                    image_location(p),
                    hint="pin a newer vLLM image",
                )
        for index, arg in enumerate(desc.runtime.extra_args):
            flag = canonical_flag(arg) or arg
            where = src.at("spec", "runtime", "extraArgs", index)
            if flag in FLAGS_SET_BY_FLEETGEN:
                yield diag(
                    "FG506",
                    f"{flag} is set by fleetgen from the descriptor",
                    where,
                    hint="use the matching descriptor field instead of extraArgs",
                )
            elif not contract.accepts_flag(arg):
                yield diag(
                    "FG505",
                    f"{version} does not accept {flag}",
                    where,
                    hint="check `vllm serve --help` of the pinned version",
                )
