"""Static catalog of model architectures and GPU types used by the sizing check."""

from fleetgen.knowledge.catalog.gpus import GPUS, GpuType, get_gpu
from fleetgen.knowledge.catalog.models import MLA, MODELS, NATIVE_DTYPES, ModelArch, get_model

__all__ = [
    "GPUS",
    "MLA",
    "MODELS",
    "NATIVE_DTYPES",
    "GpuType",
    "ModelArch",
    "get_gpu",
    "get_model",
]
