"""FG501/FG502: replica bounds and an explicit opt-in for scale to zero."""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.loading.fleet import Fleet


def check_replica_bounds(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG501 on the defaults and on each environment's effective bounds; FG502 for zero."""
    for desc in fleet.focused():
        scale, src = desc.autoscaling, desc.source
        if scale.min_replicas > scale.max_replicas:
            yield diag(
                "FG501",
                f"minReplicas {scale.min_replicas} is greater than maxReplicas "
                f"{scale.max_replicas}",
                src.at("spec", "autoscaling", "minReplicas"),
            )
        for env_name, override in desc.environments.items():
            low = scale.min_replicas if override.min_replicas is None else override.min_replicas
            high = scale.max_replicas if override.max_replicas is None else override.max_replicas
            touched = override.min_replicas is not None or override.max_replicas is not None
            if touched and low > high:
                yield diag(
                    "FG501",
                    f"in {env_name}: minimum {low} replicas is greater than maximum {high}",
                    src.at("spec", "environments", env_name, "replicas"),
                )
            if low == 0 and not scale.scale_to_zero:
                where = (
                    src.at("spec", "environments", env_name, "replicas", "min")
                    if override.min_replicas == 0
                    else src.at("spec", "autoscaling", "minReplicas")
                )
                yield diag(
                    "FG502",
                    f"{env_name}: 0 minimum replicas without autoscaling.scaleToZero: true",
                    where,
                    hint="GPU cold starts take minutes; opt in explicitly if that is intended",
                )
        if scale.scale_to_zero and scale.activation_threshold is None:
            yield diag(
                "FG502",
                "scaleToZero needs autoscaling.activationThreshold (the value that wakes it)",
                src.at("spec", "autoscaling", "scaleToZero"),
            )
