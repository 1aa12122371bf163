"""Small vLLM-shaped release archives the extractor tests build themselves.

Two generations of vLLM's argparse set-up: ``OLD`` lists every option with
``parser.add_argument`` (0.8 style); ``NEW`` derives them from config dataclasses through
``get_kwargs`` (0.10 and later). Both define metrics the way vLLM's stat logger does.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

METRICS = """
from prometheus_client import Counter, Gauge, Histogram
from vllm.v1.engine import FinishReason

WAITING_REASONS = ["capacity", "deferred"]


class PrometheusStatLogger:
    _gauge_cls = Gauge
    _counter_cls = Counter
    _histogram_cls = Histogram

    def __init__(self, vllm_config, engine_indexes):
        self.show_hidden_metrics = vllm_config.show_hidden_metrics
        labelnames = ["model_name", "engine"]
        self.gauge_waiting = self._gauge_cls(
            name="vllm:num_requests_waiting",
            documentation="Requests waiting.",
            labelnames=labelnames,
        )
        gauge_by_reason = self._gauge_cls(
            name="vllm:num_requests_waiting_by_reason",
            documentation="Waiting requests by reason.",
            labelnames=labelnames + ["reason"],
        )
        for reason in WAITING_REASONS:
            gauge_by_reason.labels("m", "0", reason)
        if self.show_hidden_metrics:
            self.gauge_old = self._gauge_cls(
                name="vllm:gpu_cache_usage_perc",
                documentation="GPU KV-cache usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.",
                labelnames=labelnames,
            )
        counter_success = self._counter_cls(
            name="vllm:request_success",
            documentation="Finished requests.",
            labelnames=labelnames + ["finished_reason"],
        )
        for finished in FinishReason:
            counter_success.labels("m", "0", str(finished))
        self.histogram_ttft = self._histogram_cls(
            name="vllm:time_to_first_token_seconds",
            documentation="Time to first token.",
            labelnames=labelnames,
        )
"""

ENGINE_INIT = """
import enum

FINISH_REASON_STRINGS = ("stop", "length", "abort", "error")


class FinishReason(enum.IntEnum):
    STOP = 0
    LENGTH = 1
    ABORT = 2
    ERROR = 3

    def __str__(self):
        return FINISH_REASON_STRINGS[self.value]
"""

FACTORY = """
class KVConnectorFactory:
    @classmethod
    def register_connector(cls, name, module_path, class_name):
        pass


KVConnectorFactory.register_connector("LMCacheConnectorV1", "vllm.x", "LMCacheConnectorV1")
KVConnectorFactory.register_connector("NixlConnector", "vllm.y", "NixlConnector")
"""

OLD_CLI = """
import argparse
from vllm.engine.arg_utils import AsyncEngineArgs


def make_arg_parser(parser):
    parser.add_argument("--host", type=str, default=None)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--disable-log-requests", action="store_true",
                        help="--disable-log-requests is deprecated and will be removed in v0.10.0.")
    parser = AsyncEngineArgs.add_cli_args(parser)
    return parser
"""

OLD_ENGINE = """
import argparse


class EngineArgs:
    @staticmethod
    def add_cli_args(parser):
        parser.add_argument("--model", type=str)
        parser.add_argument("--tensor-parallel-size", "-tp", type=int, default=1)
        parser.add_argument("--enable-prefix-caching", action=argparse.BooleanOptionalAction)
        parser.add_argument("--disable-log-stats", action="store_true")
        parser.add_argument("--internal-only", help=argparse.SUPPRESS)
        return parser


class AsyncEngineArgs(EngineArgs):
    @staticmethod
    def add_cli_args(parser):
        parser = EngineArgs.add_cli_args(parser)
        parser.add_argument("--disable-log-requests", action="store_true")
        return parser
"""

NEW_SERVE = """
from vllm.entrypoints.common.cli_args import make_arg_parser


class ServeSubcommand:
    def subparser_init(self, subparsers):
        serve_parser = subparsers.add_parser("serve")
        serve_parser.add_argument("model_tag", nargs="?")
        return make_arg_parser(serve_parser)
"""

NEW_CLI = '''
from dataclasses import dataclass
from vllm.engine.arg_utils import AsyncEngineArgs, get_kwargs


@dataclass
class BaseFrontendArgs:
    enable_auto_tool_choice: bool = False
    """Enable tool choice."""

    @classmethod
    def _customize_cli_kwargs(cls, frontend_kwargs):
        return frontend_kwargs

    @classmethod
    def add_cli_args(cls, parser):
        frontend_kwargs = get_kwargs(cls)
        frontend_kwargs = cls._customize_cli_kwargs(frontend_kwargs)
        for key, value in frontend_kwargs.items():
            extra_flags = value.pop("flags", [])
            parser.add_argument(*extra_flags, f"--{key.replace('_', '-')}", **value)
        return parser


@dataclass
class FrontendArgs(BaseFrontendArgs):
    host: str | None = None
    port: int = 8000
    lora_modules: list[str] | None = None
    disable_uvicorn_access_log: bool = False

    @classmethod
    def _customize_cli_kwargs(cls, frontend_kwargs):
        frontend_kwargs = super()._customize_cli_kwargs(frontend_kwargs)
        del frontend_kwargs["lora_modules"]
        return frontend_kwargs


def make_arg_parser(parser):
    parser.add_argument("--headless", action="store_true", default=False)
    parser.add_argument("--api-server-count", "-asc", type=int, default=None)
    parser = FrontendArgs.add_cli_args(parser)
    parser = AsyncEngineArgs.add_cli_args(parser)
    return parser
'''

NEW_ENGINE = """
import argparse
from dataclasses import dataclass
from vllm.config import CacheConfig, ModelConfig

_OLD_FLAG = "--served-model-alias is deprecated and will be removed in v0.40.0."


def _compute_kwargs(cls):
    kwargs = {}
    for field in fields(cls):
        if contains_type(type_hints, bool):
            kwargs[field.name]["action"] = argparse.BooleanOptionalAction
    return kwargs


def get_kwargs(cls):
    return _compute_kwargs(cls)


@dataclass
class EngineArgs:
    @staticmethod
    def add_cli_args(parser):
        model_kwargs = get_kwargs(ModelConfig)
        cache_kwargs = get_kwargs(CacheConfig)
        group = parser.add_argument_group("ModelConfig")
        group.add_argument("--model", **model_kwargs["model"])
        group.add_argument("--enforce-eager", **model_kwargs["enforce_eager"])
        group.add_argument("--served-model-alias", **model_kwargs["served_model_alias"])
        group.add_argument(
            "--enable-prefix-caching",
            **{**cache_kwargs["enable_prefix_caching"], "default": None},
        )
        parser.add_argument("--disable-log-stats", action="store_true")
        return parser


@dataclass
class AsyncEngineArgs(EngineArgs):
    @staticmethod
    def add_cli_args(parser):
        parser = EngineArgs.add_cli_args(parser)
        parser.add_argument("--enable-log-requests", action=argparse.BooleanOptionalAction)
        return parser
"""

NEW_CONFIG_INIT = """
from vllm.config.cache import CacheConfig
from vllm.config.model import ModelConfig
"""
NEW_CONFIG_MODEL = '''
from dataclasses import dataclass


@dataclass
class ModelConfig:
    model: str = "facebook/opt-125m"
    """Name or path of the model."""
    enforce_eager: bool = False
    """Always use eager mode."""
    served_model_alias: str | None = None
'''
NEW_CONFIG_CACHE = """
from dataclasses import dataclass


@dataclass
class CacheConfig:
    enable_prefix_caching: bool | None = None
"""


def old_sources() -> dict[str, str]:
    """A 0.8-style release: explicit add_argument, no "error" finish reason, no LMCache V1."""
    return {
        "vllm/__init__.py": "",
        "vllm/entrypoints/openai/cli_args.py": OLD_CLI,
        "vllm/engine/arg_utils.py": OLD_ENGINE,
        "vllm/v1/metrics/loggers.py": METRICS,
        "vllm/v1/engine/__init__.py": ENGINE_INIT.replace(', "error")', ")").replace(
            "    ERROR = 3\n", ""
        ),
        "vllm/distributed/kv_transfer/kv_connector/factory.py": FACTORY.split(
            'KVConnectorFactory.register_connector("LMCacheConnectorV1"'
        )[0]
        + 'KVConnectorFactory.register_connector("NixlConnector", "vllm.y", "NixlConnector")\n',
    }


def new_sources() -> dict[str, str]:
    return {
        "vllm/__init__.py": "",
        "vllm/entrypoints/cli/serve.py": NEW_SERVE,
        "vllm/entrypoints/common/cli_args.py": NEW_CLI,
        "vllm/engine/arg_utils.py": NEW_ENGINE,
        "vllm/config/__init__.py": NEW_CONFIG_INIT,
        "vllm/config/model.py": NEW_CONFIG_MODEL,
        "vllm/config/cache.py": NEW_CONFIG_CACHE,
        "vllm/v1/metrics/loggers.py": METRICS,
        "vllm/v1/engine/__init__.py": ENGINE_INIT,
        "vllm/distributed/kv_transfer/kv_connector/factory.py": FACTORY,
    }


def write_sdist(directory: Path, version: str, sources: dict[str, str]) -> Path:
    """A ``vllm-X.tar.gz`` with PKG-INFO and the sources under ``vllm-X/``."""
    path = directory / f"vllm-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n"}
        files.update(sources)
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"vllm-{version}/{name}")
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return path


def write_wheel(directory: Path, version: str, sources: dict[str, str]) -> Path:
    """A ``vllm-X-...whl`` with dist-info METADATA and the sources at the root."""
    path = directory / f"vllm-{version}-cp38-abi3-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            f"vllm-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n",
        )
        for name, text in sorted(sources.items()):
            archive.writestr(name, text)
    return path
