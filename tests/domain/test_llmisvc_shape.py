"""A data-parallel LLMInferenceService replica is a group of pods: the capacity ledger counts
every pod's GPUs, and the generator picks the worker preset for it."""

from __future__ import annotations

import dataclasses

from fleetgen.domain import llmisvc_shape
from fleetgen.knowledge.kserve import llmisvc
from fleetgen.loading.fleet import placements
from fleetgen.loading.load import load_fleet
from tests.conftest import REPO


def test_data_parallel_replicas_hold_every_pod() -> None:
    fleet, _ = load_fleet(REPO)
    (p,) = [
        p for p in placements(fleet) if p.llmisvc and p.descriptor.name == "qwen2-5-0-5b-instruct"
    ]
    assert p.gpus_per_replica == p.gpus_per_pod == 1
    serving = dataclasses.replace(p.descriptor.serving, data_parallel=8, data_local=2)
    desc = dataclasses.replace(
        p.descriptor,
        serving=serving,
        resources=dataclasses.replace(p.descriptor.resources, gpus_per_replica=2),
    )
    wide = dataclasses.replace(p, descriptor=desc)
    assert llmisvc_shape.base_refs(desc)[0] == llmisvc.WORKER_DATA_PARALLEL
    assert llmisvc_shape.multi_node(desc)
    assert llmisvc_shape.pods_per_replica(desc) == 4
    assert wide.gpus_per_pod == 2 and wide.gpus_per_replica == 8
    # The same descriptor on an InferenceService placement is one pod per replica.
    isvc = dataclasses.replace(
        wide, override=dataclasses.replace(p.override, serving_api="InferenceService")
    )
    assert isvc.gpus_per_replica == 2
