"""What each vLLM release accepts on its command line and exports on ``/metrics``.

The facts are data extracted from the published release artifacts (``knowledge/vllm/data/``,
``fleetgen runtime import``); this module reads them into one :class:`RuntimeContract` per
release and answers the checks' questions. The few facts the sources cannot show are curated
below, each with its reason.

A version resolves to the newest known release of the same minor that is not newer than it
("0.11" and "0.11.0" are 0.11.0; "0.11.3" is 0.11.2 when that is the newest 0.11 known). A
version newer than every known release is checked against the newest one, and
:func:`resolve` says so; an older or unknown minor has no contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetgen.knowledge.vllm.metric_source import V0_MODULES
from fleetgen.knowledge.vllm.store import Key, Release, load_releases, release_key

# The KV connector fleetgen wires for kvCache.shared (render/kv_cache.py, checks/kv_cache.py).
LMCACHE_CONNECTOR = "LMCacheConnectorV1"

# Curated: a rename spans two releases and the newer one no longer names the old metric, so
# no single artifact shows the pair. (old, new); PRs of vllm-project/vllm.
METRIC_RENAMES: tuple[tuple[str, str], ...] = (
    ("vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"),  # PR #18354
    ("vllm:gpu_prefix_cache_queries_total", "vllm:prefix_cache_queries_total"),  # PR #18354
    ("vllm:gpu_prefix_cache_hits_total", "vllm:prefix_cache_hits_total"),  # PR #18354
    ("vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"),  # PR #24110
    ("vllm:time_in_queue_requests", "vllm:request_queue_time_seconds"),  # V0, PR #15458
    ("vllm:gpu_prefix_cache_hit_rate", "vllm:prefix_cache_hits_total"),  # V0, PR #14136
    ("vllm:avg_prompt_throughput_toks_per_s", "vllm:prompt_tokens_total"),  # PR #12383: rate()
    ("vllm:avg_generation_throughput_toks_per_s", "vllm:generation_tokens_total"),  # PR #12383
)

# Curated: with --disable-log-stats the engine creates no stat loggers, so none of their
# metrics exist. The sources show this only as control flow (``log_stats = not
# disable_log_stats`` gating the logger set-up), which the extractor does not follow.
METRICS_OFF_FLAGS: Mapping[str, str] = MappingProxyType(
    {"--disable-log-stats": "the engine's stat loggers are not created"}
)
# Modules of the engine's stat loggers (and their sub-loggers, whose labels they inherit).
_STAT_LOGGER_MODULES = ("vllm/v1/metrics/", "vllm/v1/spec_decode/")

FLAGS_SET_BY_FLEETGEN: frozenset[str] = frozenset(
    {
        "--model",
        "--served-model-name",
        "--host",
        "--port",
        "--tensor-parallel-size",
        "--pipeline-parallel-size",
        "--max-model-len",
        "--max-num-seqs",
        "--gpu-memory-utilization",
        "--kv-cache-dtype",
        "--enable-prefix-caching",
        "--no-enable-prefix-caching",
        "--dtype",
        "--quantization",
        "--otlp-traces-endpoint",
        "--collect-detailed-traces",
        "--api-key",
    }
)

_SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}
_IMAGE_TAG = re.compile(r"^v?(\d+\.\d+\.\d+(?:\.\d+)?(?:\.?(?:post|rc)\d+)?)$")


def canonical_flag(arg: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """Normalise one argv token to its long flag: ``--max_model_len=4`` -> ``--max-model-len``.

    Short aliases (``-tp``, ``-O3``) map to their long form; JSON sub-keys
    (``--compilation-config.level``) map to the base flag. Non-flags return None.
    """
    if not arg.startswith("-") or arg in ("-", "--"):
        return None
    key = arg.split("=", 1)[0]
    if not key.startswith("--"):
        known = aliases if aliases is not None else _newest_aliases()
        if key in known:
            return known[key]
        # -O3 / -O.level are the optimisation-level shorthand of --compilation-config.
        return "--compilation-config" if key.startswith("-O") else None
    # vLLM's FlexibleArgumentParser accepts underscores in long options.
    return key.split(".", 1)[0].replace("_", "-")


@dataclass(frozen=True, slots=True)
class MetricFacts:
    """One exported metric family, under its exposed name (counters with ``_total``)."""

    name: str
    type: str
    labels: frozenset[str]
    values: Mapping[str, frozenset[str]]
    stat_logger: bool


@dataclass(frozen=True, slots=True)
class RuntimeContract:
    """Flags and metrics of one vLLM release."""

    version: str
    flags: frozenset[str]
    metrics: frozenset[str]
    metric_labels: frozenset[str]
    # Exported only with --show-hidden-metrics-for-version=<previous minor>.
    hidden_metrics: frozenset[str] = frozenset()
    # Exported, but announced for removal: alerting on them is a ticking clock.
    deprecated_metrics: frozenset[str] = frozenset()
    # Flags an earlier known release accepted and this one rejects.
    removed_flags: frozenset[str] = frozenset()
    # Names --kv-transfer-config's kv_connector accepts.
    kv_connectors: frozenset[str] = frozenset()
    # Flag -> the release its removal is announced for ("" when none is named).
    deprecated_flags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    families: Mapping[str, MetricFacts] = field(default_factory=dict)

    def accepts_flag(self, flag: str) -> bool:
        """True if ``flag`` ("--flag", "--flag=value", "-tp", "--x.y=z") is accepted."""
        name = canonical_flag(flag, self.aliases)
        return name is not None and name in self.flags

    def family(self, name: str) -> MetricFacts | None:
        """The family a series name belongs to (``x_bucket`` -> histogram ``x``), or None."""
        if name in self.families:
            return self.families[name]
        for suffixes in _SERIES_SUFFIXES.values():
            for suffix in suffixes:
                if name.endswith(suffix):
                    facts = self.families.get(name[: -len(suffix)])
                    if facts is not None and suffix in _SERIES_SUFFIXES.get(facts.type, ()):
                        return facts
        return None

    def exports_metric(self, name: str) -> bool:
        """True if ``name`` is an exported series (histogram _bucket/_sum/_count included)."""
        return self.family(name) is not None

    def metric_type(self, name: str) -> str | None:
        facts = self.family(name)
        return facts.type if facts else None

    def labels_of(self, name: str) -> frozenset[str]:
        facts = self.family(name)
        return facts.labels if facts else frozenset()

    def label_values(self, name: str, label: str) -> frozenset[str] | None:
        """The values the release sets on ``label`` of ``name``, or None if not enumerated."""
        facts = self.family(name)
        return facts.values.get(label) if facts else None

    def switched_off_by(self, flag: str, name: str) -> bool:
        """True if passing ``flag`` stops the release from exporting ``name``."""
        facts = self.family(name)
        return canonical_flag(flag, self.aliases) in METRICS_OFF_FLAGS and bool(
            facts and facts.stat_logger
        )

    def replacement_for(self, metric: str) -> str | None:
        """The name to use instead of ``metric`` on this release, or None.

        Renamed metrics map forward and, on releases older than the rename, backward to the
        name that release still exports; a counter written without ``_total`` gets it.
        Histogram suffixes are kept. None when ``metric`` is exported or nothing fits.
        """
        if self.exports_metric(metric):
            return None
        if self.metric_type(metric + "_total") == "counter":
            return metric + "_total"
        base, suffix = metric, ""
        for ending in ("_bucket", "_sum", "_count"):
            if metric.endswith(ending):
                base, suffix = metric[: -len(ending)], ending
        candidates = [new for old, new in METRIC_RENAMES if old == base]
        candidates += [old for old, new in METRIC_RENAMES if new == base]
        for candidate in candidates:
            facts = self.families.get(candidate)
            if facts is not None:
                return candidate + (suffix if facts.type == "histogram" else "")
        return None


def exposed_name(name: str, kind: str) -> str:
    """prometheus_client's exposed family name: counters end in ``_total``, info in ``_info``."""
    if kind == "counter":
        return name if name.endswith("_total") else name + "_total"
    if kind == "info":
        return name + "_info"
    return name


def _families(document: Mapping[str, Any]) -> tuple[dict[str, MetricFacts], set[str], set[str]]:
    families: dict[str, MetricFacts] = {}
    hidden: set[str] = set()
    deprecated: set[str] = set()
    for raw, entry in document.get("metrics", {}).items():
        module = str(entry.get("module", ""))
        if module in V0_MODULES:
            continue  # the V0 engine's loggers; the V1 engine is the default since 0.8
        kind = str(entry["type"])
        name = exposed_name(raw, kind)
        if entry.get("hidden"):
            hidden.add(name)
            continue
        if entry.get("deprecated"):
            deprecated.add(name)
        families[name] = MetricFacts(
            name=name,
            type=kind,
            labels=frozenset(entry.get("labels", ())),
            values=MappingProxyType(
                {k: frozenset(v) for k, v in (entry.get("values") or {}).items()}
            ),
            stat_logger=module.startswith(_STAT_LOGGER_MODULES)
            or bool(entry.get("inheritedLabels")),
        )
    return families, hidden, deprecated


def _contract(release: Release, older_flags: frozenset[str]) -> RuntimeContract:
    document = release.document
    flags: set[str] = set()
    deprecated_flags: dict[str, str] = {}
    for name, entry in document.get("flags", {}).items():
        flags.add(name)
        if entry.get("negatable"):
            flags.add("--no-" + name[2:])
        if entry.get("deprecated"):
            deprecated_flags[name] = str(entry.get("removal", ""))
    families, hidden, deprecated = _families(document)
    return RuntimeContract(
        version=release.version,
        flags=frozenset(flags),
        metrics=frozenset(families),
        metric_labels=frozenset(label for f in families.values() for label in f.labels),
        hidden_metrics=frozenset(hidden),
        deprecated_metrics=frozenset(deprecated),
        removed_flags=older_flags - flags,
        kv_connectors=frozenset(document.get("kvConnectors", ())),
        deprecated_flags=MappingProxyType(deprecated_flags),
        aliases=MappingProxyType(dict(document.get("aliases", {}))),
        families=MappingProxyType(families),
    )


@dataclass(frozen=True, slots=True)
class Resolution:
    """The contract a version is checked against, and whether it is newer than the data."""

    requested: str
    contract: RuntimeContract
    newer_than_known: bool


@dataclass(frozen=True, slots=True)
class ContractTable:
    contracts: Mapping[Key, RuntimeContract]
    sources: Mapping[str, Path]

    def resolve(self, version: str) -> Resolution | None:
        key = release_key(version)
        if key is None or not self.contracts:
            return None
        keys = list(self.contracts)
        newest = keys[-1]
        if key > newest:
            return Resolution(version, self.contracts[newest], True)
        candidates = [k for k in keys if k[:2] == key[:2] and k <= key]
        if not candidates:
            return None
        return Resolution(version, self.contracts[candidates[-1]], False)


@cache
def table(repository: Path | None = None) -> ContractTable:
    """Every known release's contract (the repository's imports win), oldest first."""
    contracts: dict[Key, RuntimeContract] = {}
    sources: dict[str, Path] = {}
    seen: frozenset[str] = frozenset()
    for key, release in load_releases(repository).items():
        contract = _contract(release, seen)
        contracts[key] = contract
        sources[release.version] = release.path
        seen = seen | contract.flags
    return ContractTable(MappingProxyType(contracts), MappingProxyType(sources))


_repository: list[Path | None] = [None]


def use_repository(root: Path | None) -> None:
    """Prefer the contracts under ``root/runtime/vllm`` from now on (set while loading)."""
    _repository[0] = root.resolve() if root is not None else None


def _table() -> ContractTable:
    return table(_repository[0])


def _newest_aliases() -> Mapping[str, str]:
    contracts = _table().contracts
    return list(contracts.values())[-1].aliases if contracts else {}


def resolve(version: str) -> Resolution | None:
    """The contract ``version`` is checked against, or None for an unknown or older one."""
    return _table().resolve(version)


def contract_for(version: str) -> RuntimeContract | None:
    """The contract for ``version`` ("0.11", "0.11.2", "v0.10.1.1"), or None if not covered."""
    found = resolve(version)
    return found.contract if found else None


def known_versions() -> tuple[str, ...]:
    """The known releases, oldest first (e.g. ``("0.8.0", ..., "0.34.0")``)."""
    return tuple(c.version for c in _table().contracts.values())


def vllm_version_from_image(image: str) -> str | None:
    """The vLLM version in an image reference's tag, or None when the tag is not a release.

    ``vllm/vllm-openai:v0.11.2`` and ``…:v0.11.2@sha256:…`` give "0.11.2"; a digest-only
    reference, ``latest``, ``nightly-…`` or any other non-semver tag gives None. A registry
    port (``host:5000/…``) is not mistaken for a tag.
    """
    reference = image.strip().split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    match = _IMAGE_TAG.match(last.rsplit(":", 1)[1])
    return match.group(1) if match else None
