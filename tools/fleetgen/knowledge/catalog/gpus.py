"""Accelerator types a model can be scheduled on.

``memory_bytes`` is the device total the runtime reports (``torch.cuda.mem_get_info()[1]``,
HIP on AMD), because that is the number vLLM multiplies by ``--gpu-memory-utilization``.
It is a little below nvidia-smi's total (the driver keeps a reservation) and has nothing to
do with the marketing "80GB". The H100 figure, 79.18 GiB, is measured (llm-d-benchmark
``config_explorer/empirical-vllm-memory-results.md``); the others are the nvidia-smi / rocm-smi
totals less the same ~0.5 GiB reservation, rounded down so the fit check errs on the safe side.

``product_label`` is the node label value a nodeSelector matches: ``nvidia.com/gpu.product``
from GPU feature discovery (the nvidia-smi name with spaces turned into dashes) and
``amd.com/gpu.product-name`` from AMD's node labeller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_MIB = 1024**2


@dataclass(frozen=True, slots=True)
class GpuType:
    """One accelerator model as Kubernetes and vLLM see it."""

    id: str
    vendor: str
    memory_bytes: int
    resource_name: str
    product_label: str
    fp8: bool

    @property
    def memory_gib(self) -> float:
        """Reported device memory in GiB."""
        return self.memory_bytes / 1024**3


def _nvidia(gid: str, mib: int, label: str, *, fp8: bool) -> GpuType:
    return GpuType(gid, "nvidia", mib * _MIB, "nvidia.com/gpu", label, fp8)


def _amd(gid: str, mib: int, label: str) -> GpuType:
    # CDNA3 (MI300 series) has native FP8 matrix cores.
    return GpuType(gid, "amd", mib * _MIB, "amd.com/gpu", label, True)


_ENTRIES: tuple[GpuType, ...] = (
    _nvidia("A10G-24GB", 22_630, "NVIDIA-A10G", fp8=False),  # nvidia-smi 23028 MiB
    _nvidia("L4-24GB", 22_520, "NVIDIA-L4", fp8=True),  # nvidia-smi 23034 MiB, Ada
    _nvidia("L40S-48GB", 45_460, "NVIDIA-L40S", fp8=True),  # nvidia-smi 46068 MiB, Ada
    _nvidia("A100-40GB", 40_330, "NVIDIA-A100-SXM4-40GB", fp8=False),  # nvidia-smi 40960 MiB
    _nvidia("A100-80GB", 81_050, "NVIDIA-A100-SXM4-80GB", fp8=False),  # nvidia-smi 81920 MiB
    _nvidia("H100-80GB", 81_080, "NVIDIA-H100-80GB-HBM3", fp8=True),  # measured 79.18 GiB
    _nvidia("H100-94GB-NVL", 95_300, "NVIDIA-H100-NVL", fp8=True),  # nvidia-smi 95830 MiB
    _nvidia("H200-141GB", 143_150, "NVIDIA-H200", fp8=True),  # nvidia-smi 143771 MiB
    _nvidia("B200-180GB", 182_700, "NVIDIA-B200", fp8=True),  # nvidia-smi 183359 MiB
    _amd("MI300X-192GB", 195_800, "AMD_Instinct_MI300X_OAM"),  # rocm-smi 196592 MiB
    _amd("MI325X-256GB", 261_400, "AMD_Instinct_MI325X_OAM"),  # rocm-smi 262128 MiB
)

GPUS: Mapping[str, GpuType] = MappingProxyType({g.id: g for g in _ENTRIES})


def get_gpu(gpu_id: str) -> GpuType | None:
    """Return the GPU type called ``gpu_id`` (e.g. ``"H100-80GB"``), or None."""
    return GPUS.get(gpu_id)
