"""Plain-text tables for the informational commands (capacity, fit, catalog)."""

from __future__ import annotations

from collections.abc import Sequence

from fleetgen.domain.cost import ALL_TEAMS, TeamCost, money
from fleetgen.domain.fitting import PlacementFit
from fleetgen.domain.ledger import Ledger
from fleetgen.domain.resilience import Loss, Shortage
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
    if ledger.costs:
        out += "\n" + _costs_text(ledger.costs)
    if ledger.losses:
        out += "\n" + _losses_text(ledger.losses)
    return out


def _costs_text(costs: Sequence[TeamCost]) -> str:
    def dollars(amount: float, c: TeamCost) -> str:
        if c.unpriced and not amount:
            return "n/a"
        return money(amount) + ("+" if c.unpriced else "")

    rows = [
        (
            c.environment,
            "(all)" if c.team == ALL_TEAMS else c.team,
            c.min_gpus,
            c.max_gpus,
            dollars(c.min_cost, c),
            dollars(c.max_cost, c),
            "" if c.budget is None else money(c.budget),
            "" if c.budget is None else ("OVER" if c.over_budget else "ok"),
        )
        for c in costs
    ]
    text = table(
        ("ENVIRONMENT", "TEAM", "MIN GPUS", "MAX GPUS", "$/MONTH MIN", "$/MONTH MAX", "BUDGET", ""),
        rows,
    )
    unpriced = sorted({f"{c.environment}/{p}" for c in costs for p in c.unpriced})
    if unpriced:
        text += f"(n/a, +: pools without pricePerGpuHour: {', '.join(unpriced)})\n"
    return text


def _short(items: Sequence[Shortage]) -> str:
    return "; ".join(f"{s.pool_names()} {s.missing} short" for s in items) or "ok"


def _losses_text(items: Sequence[Loss]) -> str:
    rows = []
    for loss in items:
        problems = [f"{m} stranded" for m in loss.stranded]
        problems += [f"{c.model} capped ({c.moved} > {c.headroom} GPUs)" for c in loss.capped]
        if loss.short_min:
            problems.append(_short(loss.short_min))
        rows.append(
            (
                loss.environment,
                ", ".join(loss.lost),
                "; ".join(problems) or "ok",
                _short(loss.short_max),
            )
        )
    return table(("ENVIRONMENT", "LOST", "AT MIN", "AT MAX"), rows)


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
