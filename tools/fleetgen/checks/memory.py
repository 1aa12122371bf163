"""FG207-FG210 model and GPU facts, FG401-FG405 parallelism and memory fit, FG409 context."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.fitting import fit_placement, resolve_arch
from fleetgen.domain.sizing import format_bytes as fmt
from fleetgen.knowledge.catalog.gpus import GPUS, get_gpu
from fleetgen.knowledge.catalog.models import MODELS
from fleetgen.loading.fleet import Fleet, focused_placements
from fleetgen.loading.schema import did_you_mean


def check_model_facts(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG207/FG208 the architecture source; FG401/FG403/FG409 what it implies."""
    for desc in fleet.focused():
        src, rt, model = desc.source, desc.runtime, desc.model
        if (model.catalog is None) == (model.architecture is None):
            yield diag(
                "FG208",
                "give exactly one of model.catalog and model.architecture",
                src.at("spec", "model"),
                hint="`fleetgen catalog` lists the built-in models",
            )
        elif model.catalog is not None and model.catalog not in MODELS:
            yield diag(
                "FG207",
                f"the catalog has no model {model.catalog!r}",
                src.at("spec", "model", "catalog"),
                hint=did_you_mean(model.catalog, list(MODELS))
                or "give model.architecture instead, or see `fleetgen catalog`",
            )
        gpus = rt.tensor_parallel * rt.pipeline_parallel
        # With data-local ranks (LLMInferenceService) a pod holds more: FG411 checks that.
        if desc.resources.gpus_per_replica != gpus and desc.serving.data_local is None:
            yield diag(
                "FG401",
                f"gpusPerReplica is {desc.resources.gpus_per_replica}, but tensor x pipeline "
                f"parallel = {rt.tensor_parallel} x {rt.pipeline_parallel} = {gpus}",
                src.at("spec", "resources", "gpusPerReplica"),
                hint=f"set gpusPerReplica: {gpus}",
            )
        arch = resolve_arch(desc)
        if arch is None:
            continue
        tp = rt.tensor_parallel
        if arch.attention_heads % tp:
            yield diag(
                "FG403",
                f"{arch.attention_heads} attention heads do not divide by tensor parallel {tp}",
                src.at("spec", "runtime", "tensorParallel"),
            )
        elif arch.kv_heads % tp and tp % arch.kv_heads:
            yield diag(
                "FG403",
                f"{arch.kv_heads} KV heads neither divide by nor divide tensor parallel {tp}",
                src.at("spec", "runtime", "tensorParallel"),
            )
        if arch.max_context and rt.max_model_len > arch.max_context:
            yield diag(
                "FG409",
                f"maxModelLen {rt.max_model_len} exceeds the model's context window "
                f"{arch.max_context}",
                src.at("spec", "runtime", "maxModelLen"),
            )


def check_gpu_types(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG209: every pool's GPU type is in the catalog."""
    for env in fleet.environments.values():
        for cluster in env.clusters:
            for pool in cluster.pools:
                if get_gpu(pool.gpu) is None:
                    yield diag(
                        "FG209",
                        f"GPU type {pool.gpu!r} is not in the GPU catalog",
                        env.source.at(
                            "spec", "clusters", cluster.index, "pools", pool.index, "gpu"
                        ),
                        hint=did_you_mean(pool.gpu, list(GPUS)) or f"known: {', '.join(GPUS)}",
                    )


def check_fit(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG210 GPU type, FG402 node size, FG404 memory fit, FG405 KV capacity per placement."""
    for p in focused_placements(fleet):
        desc, pool, src = p.descriptor, p.pool, p.descriptor.source
        if pool is None:
            continue
        where = f"{p.environment.name}/{pool.name}"
        if desc.resources.gpu_type is not None and desc.resources.gpu_type != pool.gpu:
            yield diag(
                "FG210",
                f"gpuType is {desc.resources.gpu_type!r}, but pool {where} has {pool.gpu!r}",
                src.at("spec", "resources", "gpuType"),
            )
        rt = desc.runtime
        per_node = (
            rt.tensor_parallel
            if desc.resources.multi_node
            else rt.tensor_parallel * rt.pipeline_parallel
        )
        if per_node > pool.gpus_per_node and desc.serving.data_local is None:
            yield diag(
                "FG402",
                f"a replica needs {per_node} GPUs on one node; pool {where} has "
                f"{pool.gpus_per_node} per node",
                src.at("spec", "runtime", "tensorParallel"),
                hint="lower tensorParallel, pick a larger pool, or set resources.multiNode",
            )
        fitted = fit_placement(p)
        if fitted is None:
            continue
        r, gpu = fitted.result, fitted.gpu.id
        breakdown = (
            f"per GPU: budget {fmt(r.budget_per_gpu)}, weights {fmt(r.weights_per_gpu)}, "
            f"overhead {fmt(r.overhead_per_gpu)}, KV pool {fmt(r.kv_pool_per_gpu)}"
        )
        if not r.starts:
            weights_fit = r.kv_pool_per_gpu > 0
            yield diag(
                "FG404",
                f"does not fit on {gpu} in {p.environment.name} at TP={rt.tensor_parallel}: "
                f"{breakdown}; {r.pool_tokens} tokens of KV cache < maxModelLen "
                f"{rt.max_model_len} (short by {fmt(-r.margin_bytes)} per GPU)",
                src.at("spec", "runtime", "maxModelLen" if weights_fit else "tensorParallel"),
                hint="raise tensorParallel, quantize, use kvCacheDtype: fp8 or a larger GPU"
                if not weights_fit
                else "lower maxModelLen, use kvCacheDtype: fp8, or raise tensorParallel",
            )
        elif not r.meets_concurrency:
            yield diag(
                "FG405",
                f"on {gpu} in {p.environment.name} the KV pool holds "
                f"{r.max_full_length_sequences:.1f} full-length sequences, fewer than "
                f"maxNumSeqs {rt.max_num_seqs} ({breakdown})",
                src.at("spec", "runtime", "maxNumSeqs"),
                hint="lower maxNumSeqs or maxModelLen, or add GPU memory",
            )
