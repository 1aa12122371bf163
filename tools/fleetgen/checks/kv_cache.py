"""FG510 and FG506: the shared KV-cache tier needs a vLLM with the LMCache connector and owns
--kv-transfer-config."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.checks.runtime import runtime_version
from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.runtime_contract import LMCACHE_CONNECTOR as CONNECTOR
from fleetgen.knowledge.runtime_contract import canonical_flag, contract_for
from fleetgen.loading.fleet import Fleet, focused_placements

TRANSFER_FLAG = "--kv-transfer-config"


def check_kv_cache(fleet: Fleet) -> Iterator[Diagnostic]:
    for p in focused_placements(fleet):
        desc = p.descriptor
        if not p.shared_kv_cache:
            continue
        src = desc.source
        version = runtime_version(p)
        # An unknown or uncovered version is FG504's finding; nothing to add here.
        contract = contract_for(version) if version else None
        if contract is not None and CONNECTOR not in contract.kv_connectors:
            yield diag(
                "FG510",
                f"vLLM {version} has no {CONNECTOR}; kvCache.shared needs vLLM 0.8.5 or newer",
                p.shared_kv_cache_at(),
                hint="pin a newer vLLM image, or turn kvCache.shared off",
            )
        for index, arg in enumerate(desc.runtime.extra_args):
            if canonical_flag(arg) == TRANSFER_FLAG:
                yield diag(
                    "FG506",
                    f"{TRANSFER_FLAG} is set by fleetgen when kvCache.shared is enabled",
                    src.at("spec", "runtime", "extraArgs", index),
                    hint="drop the extra arg, or turn kvCache.shared off",
                )
