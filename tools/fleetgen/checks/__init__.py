"""Cross-file checks: pure functions from a Fleet to diagnostics, listed explicitly."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleetgen.checks import (
    autoscaling,
    bootstrap,
    capacity,
    clusters,
    cost,
    kv_cache,
    llmisvc,
    memory,
    metric_semantics,
    names,
    policy,
    pools,
    references,
    resilience,
    rollout,
    runtime,
    secrets,
    storage,
    uniqueness,
)
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet

Check = Callable[[Fleet], Iterable[Diagnostic]]

CHECKS: tuple[Check, ...] = (
    names.check_file_names,
    references.check_environments,
    references.check_placements,
    references.check_tenants,
    uniqueness.check_model_names,
    uniqueness.check_served_names,
    uniqueness.check_name_lengths,
    uniqueness.check_unique_lists,
    autoscaling.check_replica_bounds,
    policy.check_images,
    policy.check_promotion,
    policy.check_secrets,
    policy.check_storage_uris,
    memory.check_model_facts,
    memory.check_gpu_types,
    memory.check_fit,
    llmisvc.check_llmisvc,
    capacity.check_capacity,
    resilience.check_failure_budget,
    cost.check_cost,
    rollout.check_rollout,
    runtime.check_runtime,
    kv_cache.check_kv_cache,
    metric_semantics.check_metric_semantics,
    runtime.check_forbidden_flags,
    bootstrap.check_bootstrap,
    secrets.check_shared_paths,
    pools.check_pool_labels,
    clusters.check_clusters,
    clusters.check_projects,
    storage.check_storage,
)


def run_checks(fleet: Fleet) -> list[Diagnostic]:
    """Every check over the fleet, in registry order."""
    return [found for check in CHECKS for found in check(fleet)]
