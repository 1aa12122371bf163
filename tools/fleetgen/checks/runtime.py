"""FG503-FG506: the pinned vLLM version, its flags and its metrics; FG605 refused flags."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from fleetgen.checks.policy import image_location
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.placement import Placement
from fleetgen.knowledge.metrics import PLATFORM_METRICS
from fleetgen.knowledge.runtime_contract import (
    FLAGS_SET_BY_FLEETGEN,
    RuntimeContract,
    canonical_flag,
    contract_for,
    known_versions,
    resolve,
    vllm_version_from_image,
)
from fleetgen.loading.fleet import Fleet, focused_placements

REFRESH = "`fleetgen runtime import vllm-X.Y.Z.whl` (`fleetgen explain FG511`)"

_NOT_STORAGE = "from somewhere other than spec.model.storageUri"
# Flags no descriptor may pass, whatever the vLLM version: each runs code from outside the
# image, bypasses these checks, or takes model files from (or puts them in) a place that is
# not the reviewed storageUri. There is no per-environment opt-in (yet).
FORBIDDEN_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "--trust-remote-code": "runs Python code shipped with the model repository",
        "--tool-parser-plugin": "imports a Python file from a path in the container",
        "--config": "reads more flags from a file, past every extraArgs check",
        "--download-dir": "puts model files in a directory of its own choosing",
        "--tokenizer": f"loads the tokenizer {_NOT_STORAGE}",
        "--hf-config-path": f"loads the model configuration {_NOT_STORAGE}",
        "--model-loader-extra-config": "reconfigures the weight loader (e.g. to stream "
        f"weights {_NOT_STORAGE})",
        "--allowed-local-media-path": "lets API clients read files from the container",
    }
)
# --load-format: these read the storageUri's safetensors; others load pickles (pt, npcache),
# stream from elsewhere (runai_streamer, tensorizer) or skip the weights (dummy).
SAFE_LOAD_FORMATS = frozenset({"auto", "safetensors"})


def forbidden_flag(arg: str) -> str | None:
    """Why an extraArgs entry is refused (FG605), or None."""
    flag = canonical_flag(arg)
    if flag is None:
        return None
    if flag == "--load-format":
        value = arg.partition("=")[2]
        if value in SAFE_LOAD_FORMATS:
            return None
        allowed = ", ".join(sorted(SAFE_LOAD_FORMATS))
        return f"--load-format={value} does not read the safetensors (allowed: {allowed})"
    reason = FORBIDDEN_FLAGS.get(flag)
    return f"{flag} {reason}" if reason else None


def check_forbidden_flags(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG605, for every descriptor in focus, whatever its vLLM version."""
    for desc in fleet.focused():
        for index, arg in enumerate(desc.runtime.extra_args):
            reason = forbidden_flag(arg)
            if reason is not None:
                yield diag(
                    "FG605",
                    f"{reason}; fleetgen refuses it",
                    desc.source.at("spec", "runtime", "extraArgs", index),
                    hint="remove it from extraArgs; there is no opt-in (`fleetgen explain FG605`)",
                )


def runtime_version(p: Placement) -> str | None:
    """The vLLM version a placement runs: the image tag, else runtime.vllmVersion."""
    return p.vllm_version


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
    found = resolve(version)
    if found is None:
        known = known_versions()
        return None, diag(
            "FG504",
            f"vLLM {version} is not a release fleetgen knows ({known[0]} to {known[-1]})"
            if known
            else f"vLLM {version}: fleetgen has no vLLM contract data",
            image_location(p),
            hint=f"pin a known release, or import this one: {REFRESH}",
        )
    if found.newer_than_known:
        return found.contract, diag(
            "FG511",
            f"vLLM {version} is newer than the newest release fleetgen knows; checked "
            f"against vLLM {found.contract.version}",
            image_location(p),
            hint=f"import its contract: {REFRESH}",
        )
    return found.contract, None


def check_runtime(fleet: Fleet) -> Iterator[Diagnostic]:
    newer_reported: set[tuple[str, str]] = set()
    for p in focused_placements(fleet):
        contract, problem = _contract(p)
        if problem is not None and problem.code == "FG511":
            # One warning per descriptor and release, however many environments place it.
            key = (p.descriptor.name, p.image)
            problem = None if key in newer_reported else problem
            newer_reported.add(key)
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
            # The platform queries each metric under the name the release exports.
            if not contract.exports_metric(name) and not contract.replacement_for(name):
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
            elif forbidden_flag(arg) is None and not contract.accepts_flag(arg):
                yield diag(
                    "FG505",
                    f"{version} does not accept {flag}",
                    where,
                    hint=f"check `vllm serve --help` of vLLM {contract.version}",
                )
