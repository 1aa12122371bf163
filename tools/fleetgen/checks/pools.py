"""FG952: a pool's node labels describe the GPU type the pool declares.

The pool's `gpu` decides the memory fit, the GPU resource and the product label the models'
nodeSelector asks for; its `nodeLabels` say what the nodes actually carry. A pool declared
`H200-141GB` whose nodes are labelled `NVIDIA-H100-80GB-HBM3` (a copied pool entry) passes the
fit check with 141 GB and schedules on 80 GB cards, or never schedules at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.knowledge.catalog.gpus import GPUS
from fleetgen.loading.fleet import Fleet

__all__ = ["check_pool_labels"]

# The node label each vendor's discovery sets to the product name (knowledge/catalog/gpus.py),
# and GPU feature discovery's count of devices per node.
PRODUCT_LABELS = {"nvidia": "nvidia.com/gpu.product", "amd": "amd.com/gpu.product-name"}
COUNT_LABEL = "nvidia.com/gpu.count"


def check_pool_labels(fleet: Fleet) -> Iterator[Diagnostic]:
    for env in sorted(fleet.environments.values(), key=lambda e: e.name):
        for cluster in env.clusters:
            for pool in cluster.pools:
                gpu = GPUS.get(pool.gpu)
                if gpu is None:
                    continue  # FG209
                base = ("spec", "clusters", cluster.index, "pools", pool.index, "nodeLabels")
                for vendor, key in PRODUCT_LABELS.items():
                    value = pool.node_labels.get(key)
                    if value is None:
                        continue
                    if vendor != gpu.vendor:
                        message = f"{key} is a {vendor} label, but pool {pool.name} declares {gpu.id} ({gpu.vendor})"
                    elif str(value) != gpu.product_label:
                        owner = next(
                            (g.id for g in GPUS.values() if g.product_label == str(value)), None
                        )
                        message = (
                            f"pool {pool.name} declares {gpu.id}, whose nodes carry {key}={gpu.product_label}, "
                            f"but its nodeLabels say {value}" + (f" ({owner})" if owner else "")
                        )
                    else:
                        continue
                    yield diag(
                        "FG952",
                        message,
                        env.source.at(*base, key),
                        hint="make the pool's gpu and its nodes' labels agree: the models' "
                        "nodeSelector and memory fit follow the gpu type",
                    )
                count = pool.node_labels.get(COUNT_LABEL)
                if count is not None and str(count) != str(pool.gpus_per_node):
                    yield diag(
                        "FG952",
                        f"pool {pool.name} declares gpusPerNode {pool.gpus_per_node}, but its "
                        f"nodeLabels say {COUNT_LABEL}={count}",
                        env.source.at(*base, COUNT_LABEL),
                        hint="gpusPerNode is what the capacity check and tensor parallelism use",
                    )
