"""Plain-text tables for the informational commands (capacity, fit, catalog)."""

from __future__ import annotations

from collections.abc import Sequence

from fleetgen.domain.fitting import PlacementFit
from fleetgen.domain.ledger import Ledger
from fleetgen.domain.sizing import format_bytes as fmt
from fleetgen.knowledge.catalog.gpus import GPUS
from fleetgen.knowledge.catalog.models import MODELS


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in cells
    )


def _status(need: int, have: int) -> str:
    return "ok" if need <= have else f"OVER by {need - have}"


def ledger_text(ledger: Ledger) -> str:
    out = table(
        ("ENVIRONMENT", "CLUSTER", "POOL", "GPU", "CAPACITY", "MIN", "MAX", "AT MIN", "AT MAX"),
        [
            (
                p.environment,
                p.cluster,
                p.pool,
                p.gpu,
                p.capacity,
                p.min_gpus,
                p.max_gpus,
                _status(p.min_gpus, p.capacity),
                _status(p.max_gpus, p.capacity),
            )
            for p in ledger.pools
        ],
    )
    if ledger.teams:
        out += "\n" + table(
            ("ENVIRONMENT", "CLUSTER", "TEAM", "BUDGET", "MAX", "STATUS"),
            [
                (
                    t.environment,
                    t.cluster,
                    t.team,
                    t.budget,
                    t.max_gpus,
                    _status(t.max_gpus, t.budget),
                )
                for t in ledger.teams
            ],
        )
    return out


def fit_text(fits: Sequence[PlacementFit]) -> str:
    blocks = []
    for f in fits:
        p, r, rt = f.placement, f.result, f.placement.descriptor.runtime
        verdict = "fits" if r.starts else "DOES NOT FIT (vLLM would not start)"
        rows = [
            (
                "GPU",
                f"{f.gpu.id} ({fmt(f.gpu.memory_bytes)}), TP={rt.tensor_parallel} "
                f"PP={rt.pipeline_parallel}",
            ),
            (
                "budget per GPU",
                f"{fmt(r.budget_per_gpu)} (utilization {rt.gpu_memory_utilization})",
            ),
            ("weights per GPU", fmt(r.weights_per_gpu)),
            ("runtime overhead", fmt(r.overhead_per_gpu)),
            (
                "KV cache per token",
                f"{fmt(r.kv_bytes_per_token)} ({fmt(r.kv_bytes_per_token_per_gpu)} per GPU)",
            ),
            ("KV pool per GPU", fmt(r.kv_pool_per_gpu)),
            ("KV pool tokens", f"{r.pool_tokens:,}"),
            (
                "full-length sequences",
                f"{r.max_full_length_sequences:.1f} at maxModelLen "
                f"{rt.max_model_len:,} (maxNumSeqs {rt.max_num_seqs})",
            ),
            ("margin per GPU", fmt(r.margin_bytes)),
            ("verdict", verdict),
        ]
        head = f"{p.descriptor.name} in {p.environment.name} on pool {p.pool_name}\n"
        blocks.append(head + "".join(f"  {k:<22} {v}\n" for k, v in rows))
    return "\n".join(blocks)


def catalog_text() -> str:
    models = table(
        ("MODEL", "PARAMS", "LAYERS", "HEADS", "KV HEADS", "HEAD DIM", "CONTEXT", "DTYPE"),
        [
            (
                m.id,
                f"{m.params / 1e9:.1f}B",
                m.layers,
                m.attention_heads,
                m.kv_heads,
                m.head_dim,
                m.max_context,
                m.native_dtype,
            )
            for m in MODELS.values()
        ],
    )
    gpus = table(
        ("GPU", "MEMORY", "VENDOR", "FP8", "NODE LABEL"),
        [
            (g.id, fmt(g.memory_bytes), g.vendor, "yes" if g.fp8 else "no", g.product_label)
            for g in GPUS.values()
        ],
    )
    return models + "\n" + gpus
