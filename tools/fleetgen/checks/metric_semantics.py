"""FG512, FG514, FG516: what the descriptor asks of the pinned vLLM release's metrics and flags.

The scaler's metric must be a gauge (the query sums it over the pods); a flag that switches
the engine's metrics off leaves the scaler and the alerts blind; a deprecated flag is
refused by the release its removal is announced for.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.checks.runtime import runtime_version
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.metrics import PLATFORM_METRICS
from fleetgen.knowledge.runtime_contract import METRICS_OFF_FLAGS, canonical_flag, contract_for
from fleetgen.loading.fleet import Fleet, focused_placements


def check_metric_semantics(fleet: Fleet) -> Iterator[Diagnostic]:
    seen: set[tuple[str, str]] = set()
    for p in focused_placements(fleet):
        version = runtime_version(p)
        contract = contract_for(version) if version else None
        if contract is None:
            continue  # FG504 reports it
        desc, src = p.descriptor, p.descriptor.source
        # One finding per descriptor and release, however many environments place it.
        key = (desc.name, contract.version)
        if key in seen:
            continue
        seen.add(key)
        metric = desc.autoscaling.metric
        kind = contract.metric_type(metric)
        if kind in ("counter", "histogram", "summary"):
            yield diag(
                "FG512",
                f"{metric!r} is a {kind} in vLLM {contract.version}: its sum only grows, so the "
                "autoscaler never scales in",
                src.at("spec", "autoscaling", "metric"),
                hint="scale on a gauge such as 'vllm:num_requests_waiting' or "
                "'vllm:num_requests_running'",
            )
        used = list(dict.fromkeys([metric, *PLATFORM_METRICS]))
        for index, arg in enumerate(desc.runtime.extra_args):
            flag = canonical_flag(arg, contract.aliases)
            where = src.at("spec", "runtime", "extraArgs", index)
            if flag is not None and flag in METRICS_OFF_FLAGS:
                blind = [m for m in used if contract.switched_off_by(arg, m)]
                if blind:
                    yield diag(
                        "FG514",
                        f"{flag} switches off {', '.join(repr(m) for m in blind[:3])}"
                        f"{' and more' if len(blind) > 3 else ''} ({METRICS_OFF_FLAGS[flag]}), "
                        "which the autoscaler and alerts query",
                        where,
                        hint="remove it; the autoscaler and alerts need vLLM's metrics",
                    )
            if flag is not None and flag in contract.deprecated_flags:
                removal = contract.deprecated_flags[flag]
                when = f"for removal in {removal}" if removal else "without a removal release"
                yield diag(
                    "FG516",
                    f"{flag} is deprecated in vLLM {contract.version} ({when})",
                    where,
                    hint="drop it or use its replacement before upgrading "
                    "(`vllm serve --help` of the pinned release)",
                )
