"""Write a synthetic fleetgen repository of N models over E environments, for benchmarks.

    python benchmarks/synth.py --models 1000 --envs 3 --out benchmarks/.work/fleet-1000

The output holds ``fleet/``, ``environments/`` and a copy of this repository's ``base/``, and
passes ``fleetgen validate`` with no diagnostics at all. Every model runs a configuration
that the fleetgen memory-fit arithmetic accepts on every pool it is placed on; GPU pools are
sized from the fleet's own demand at maximum scale, so the capacity ledger never fails.
Environments take their platform settings (gateway, charts, versions, ...) from the example
environment of the same tier in ``environments/``; clusters, pools, tenants and namespaces
are generated. Output is deterministic for a given ``--seed`` and example environments.

Long module: one generator of a consistent repository (configurations that fit, pools sized
from the demand, descriptors and environments that cross-reference each other); split, its
parts would pass the same shared plan around.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import math
import random
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetgen.domain.sizing import FitInput, fit
from fleetgen.knowledge.catalog.gpus import get_gpu
from fleetgen.knowledge.catalog.models import MODELS, ModelArch
from fleetgen.knowledge.metrics import PLATFORM_METRICS
from fleetgen.knowledge.runtime_contract import FLAGS_SET_BY_FLEETGEN, contract_for

REPO = Path(__file__).resolve().parent.parent
# Written into every output directory; only directories carrying it are ever cleared.
MARKER = ".fleetgen-synth"
DESCRIPTOR_HEADER = (
    "# yaml-language-server: $schema=../tools/fleetgen/schemas/descriptor.schema.json\n"
)
ENVIRONMENT_HEADER = (
    "# yaml-language-server: $schema=../../tools/fleetgen/schemas/environment.schema.json\n"
)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ---------------------------------------------------------------------------------------
# The platform: GPU pools and the vLLM builds a fleet of this era would run.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolKind:
    name: str
    gpu: str
    gpus_per_node: int
    product_label: str
    cache_node_group: str | None


POOL_KINDS: dict[str, PoolKind] = {
    k.name: k
    for k in (
        PoolKind("l4", "L4-24GB", 4, "NVIDIA-L4", None),
        PoolKind("h100", "H100-80GB", 8, "NVIDIA-H100-80GB-HBM3", "h100-nvme"),
        PoolKind("h200", "H200-141GB", 8, "NVIDIA-H200", "h200-nvme"),
    )
}

# How often owners choose each pool kind, where their model fits it.
POOL_SHARE = {"l4": 3, "h100": 5, "h200": 2}

# vLLM releases the fleet pins; dev may try the newest one ahead of staging and prod.
STABLE_VERSIONS = ("0.10.2", "0.11.0", "0.11.2")
DEV_VERSION = "0.12.0"
IMAGE_REPOSITORIES = ("vllm/vllm-openai", "registry.example.com/ml/vllm-openai")
EXTRA_ARGS = (
    "--enable-chunked-prefill",
    "--max-num-batched-tokens=8192",
    "--enable-auto-tool-choice",
    "--tool-call-parser=hermes",
    "--disable-log-requests",
    "--max-log-len=256",
    "--block-size=16",
)
SCALING_METRICS = ("vllm:num_requests_waiting", "vllm:num_requests_running")
TEAMS = ("search", "support", "analytics", "platform", "ads", "legal", "research", "finance")
TENANTS = (
    ("search", "search"),
    ("support", "support"),
    ("analytics", "analytics"),
    ("playground", None),
    ("ads", "ads"),
    ("legal", "legal"),
    ("research", "research"),
    ("finance", "finance"),
    ("partners", None),
    ("batch", "platform"),
)

MAX_MODEL_LENS = (4096, 8192, 16384, 32768)
MAX_NUM_SEQS = (16, 32, 64, 128)
TENSOR_PARALLEL = (1, 2, 4, 8)
GPU_MEMORY_UTILIZATION = 0.9


def image(version: str, repository: str, *, digest: bool) -> str:
    ref = f"{repository}:v{version}"
    if digest:
        # A stable fake digest per (repository, version): prod pins it, staging runs it too.
        ref += "@sha256:" + hashlib.sha256(ref.encode()).hexdigest()
    return ref


# ---------------------------------------------------------------------------------------
# Configurations verified against fleetgen's own memory arithmetic.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """A runtime setup of one catalog model and the pool kinds it fits on."""

    arch: ModelArch
    tensor_parallel: int
    quantization: str | None
    kv_cache_dtype: str
    max_model_len: int
    max_num_seqs: int
    pools: tuple[str, ...]  # every pool kind the config starts and meets concurrency on


def _heads_ok(arch: ModelArch, tp: int) -> bool:
    # The same divisibility rule as fleetgen's FG403.
    if arch.attention_heads % tp:
        return False
    return not (arch.kv_heads % tp and tp % arch.kv_heads)


def _fits(
    arch: ModelArch, kind: PoolKind, tp: int, quant: str | None, kv: str, mml: int, seqs: int
) -> bool:
    gpu = get_gpu(kind.gpu)
    if gpu is None or tp > kind.gpus_per_node:
        return False
    if quant == "fp8" and not gpu.fp8:
        return False
    result = fit(
        FitInput(
            arch=arch,
            dtype="bfloat16",
            quantization=quant,
            kv_cache_dtype=kv,
            tensor_parallel=tp,
            pipeline_parallel=1,
            max_model_len=mml,
            max_num_seqs=seqs,
            gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
            gpu=gpu,
        )
    )
    return result.starts and result.meets_concurrency


def build_configs() -> dict[str, list[Config]]:
    """Per catalog model, the setups that fit somewhere at the smallest workable TP."""
    out: dict[str, list[Config]] = {}
    for arch in MODELS.values():
        configs: list[Config] = []
        quants: tuple[str | None, ...] = (None,)
        if arch.native_dtype == "bfloat16" and arch.params > 20e9:
            quants = (None, "fp8")
        for quant in quants:
            for kv in ("auto", "fp8"):
                for mml in MAX_MODEL_LENS:
                    if mml > arch.max_context:
                        continue
                    for seqs in MAX_NUM_SEQS:
                        # The smallest TP that fits on any pool: what an owner would pick.
                        for tp in TENSOR_PARALLEL:
                            if not _heads_ok(arch, tp):
                                continue
                            pools = tuple(
                                name
                                for name, kind in POOL_KINDS.items()
                                if _fits(arch, kind, tp, quant, kv, mml, seqs)
                            )
                            if pools:
                                configs.append(Config(arch, tp, quant, kv, mml, seqs, pools))
                                break
        if configs:
            out[arch.id] = configs
    return out


# ---------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class ClusterPlan:
    name: str
    pools: tuple[str, ...]
    max_gpus: dict[str, int] = field(default_factory=dict)
    team_gpus: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class EnvPlan:
    name: str
    tier: str
    clusters: list[ClusterPlan]

    @property
    def namespace(self) -> str:
        return f"llm-{self.name}"

    def clusters_with(self, pool: str) -> list[ClusterPlan]:
        return [c for c in self.clusters if pool in c.pools]


def plan_environments(count: int, rng: random.Random) -> list[EnvPlan]:
    """dev, staging, prod (in that order for 3), then more production regions."""
    if count < 1:
        raise SystemExit("--envs must be at least 1")
    tiers = {1: ["dev"], 2: ["staging", "prod"]}.get(count, ["dev", "staging", "prod"])
    names = list(tiers)
    while len(names) < count:
        names.append(f"prod-{len(names) - 1}")
        tiers.append("prod")
    envs = []
    for name, tier in zip(names, tiers, strict=True):
        n_clusters = {"dev": 1, "prod": 2}.get(tier, rng.choice((1, 2)))
        clusters = []
        for index in range(n_clusters):
            # Every cluster has L4 and H100 nodes; H200 only on the first cluster outside dev,
            # so some models need a cluster subset or another pool per environment.
            pools = ("l4", "h100", "h200") if index == 0 and tier != "dev" else ("l4", "h100")
            clusters.append(ClusterPlan(f"{name}-{chr(ord('a') + index)}", pools))
        envs.append(EnvPlan(name, tier, clusters))
    return envs


def load_templates(directory: Path) -> dict[str, dict[str, Any]]:
    """The example environments by tier: the platform settings every environment copies.

    Taking them from the repository keeps the synthetic fleet valid while the environment
    schema grows (gateway TLS, platform charts, ...): only fleet-shaped parts are replaced.
    """
    templates: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*/environment.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        if isinstance(doc, dict) and isinstance(doc.get("spec"), dict):
            templates.setdefault(str(doc["spec"].get("tier")), doc)
    if not templates:
        raise SystemExit(f"no example environments in {directory}")
    return templates


def environment_doc(env: EnvPlan, headroom: float, template: dict[str, Any]) -> dict[str, Any]:
    clusters = []
    for cluster in env.clusters:
        pools = []
        for pool_name in cluster.pools:
            kind = POOL_KINDS[pool_name]
            demand = cluster.max_gpus.get(pool_name, 0)
            # Enough nodes for every model at maximum scale, plus headroom and a spare node.
            nodes = math.ceil(demand * headroom / kind.gpus_per_node) + 1
            pool: dict[str, Any] = {
                "name": pool_name,
                "gpu": kind.gpu,
                "gpusPerNode": kind.gpus_per_node,
                "nodes": nodes,
                "nodeLabels": {"nvidia.com/gpu.product": kind.product_label},
                "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
            }
            if kind.cache_node_group:
                pool["cacheNodeGroup"] = kind.cache_node_group
            pools.append(pool)
        doc: dict[str, Any] = {
            "name": cluster.name,
            "server": f"https://{cluster.name}.k8s.example.com",
            "pools": pools,
        }
        if env.tier == "prod" and cluster.team_gpus:
            doc["teamBudgets"] = {
                team: math.ceil(gpus * headroom) + 8
                for team, gpus in sorted(cluster.team_gpus.items())
            }
        clusters.append(doc)
    out = copy.deepcopy(template)
    out["metadata"] = {**out.get("metadata", {}), "name": env.name}
    spec = out["spec"]
    spec["tier"] = env.tier
    spec["namespace"] = env.namespace
    spec["clusters"] = clusters
    # A failure budget, team cost budgets and a rollout's canaries are promises about which
    # models run where; the random placement here does not keep the example's, so the
    # synthetic environments make none.
    spec.pop("failureBudget", None)
    spec.pop("cost", None)
    spec.pop("rollout", None)
    spec["gateway"]["hostnames"] = [f"llm.{env.name}.example.com"]
    if env.tier == "dev":
        spec["apiKeys"] = {"source": "dummy"}
    elif spec["apiKeys"].get("source") == "dummy":
        raise SystemExit(f"the {env.tier} template uses dummy API keys")
    elif spec["apiKeys"].get("vault"):
        # Each environment reads its own keys (FG941 refuses an undeclared shared path).
        spec["apiKeys"]["vault"] = {**spec["apiKeys"]["vault"], "path": f"llm/{env.name}/api-keys"}
    spec["tenants"] = [
        {"name": name, "team": team} if team else {"name": name} for name, team in TENANTS
    ]
    spec["serviceAccount"] = {
        "name": "model-reader",
        "annotations": {
            "eks.amazonaws.com/role-arn": (
                f"arn:aws:iam::111122223333:role/llm-{env.name}-model-reader"
            )
        },
    }
    spec["images"] = {"allowedRepositories": list(IMAGE_REPOSITORIES)}
    if env.tier == "prod":
        spec["policy"] = {"promotion": "error"}
    return out


# ---------------------------------------------------------------------------------------
# Descriptors
# ---------------------------------------------------------------------------------------


def _slug(catalog_id: str) -> str:
    return catalog_id.replace(".", "-")


def _flags_ok(args: Iterable[str], versions: Iterable[str]) -> bool:
    contracts = [contract_for(v) for v in versions]
    return all(
        c is not None
        and arg.split("=", 1)[0] not in FLAGS_SET_BY_FLEETGEN
        and c.accepts_flag(arg)
        # A deprecated flag draws a warning (FG516): the synthetic fleet validates clean.
        and arg.split("=", 1)[0] not in c.deprecated_flags
        for c in contracts
        for arg in args
    )


def _metric_ok(metric: str, versions: Iterable[str]) -> bool:
    for version in versions:
        c = contract_for(version)
        if c is None or not c.exports_metric(metric):
            return False
        if not all(c.exports_metric(m) for m in PLATFORM_METRICS):
            return False
    return True


class Unplaceable(Exception):
    """The drawn configuration fits no pool of the chosen environments; draw again."""


@dataclass(slots=True)
class Placed:
    env: EnvPlan
    pool: str
    clusters: list[ClusterPlan]
    override: dict[str, Any]
    max_replicas: int


def _place(
    rng: random.Random, env: EnvPlan, config: Config, primary: str
) -> tuple[str, list[ClusterPlan]] | None:
    """Pick the pool and clusters of one model in one environment (None: not deployed)."""
    candidates = [primary] + [p for p in config.pools if p != primary]
    # Mostly the default pool; sometimes another pool the config also fits on.
    order = candidates if rng.random() < 0.8 else rng.sample(candidates, len(candidates))
    for pool in order:
        clusters = env.clusters_with(pool)
        if clusters:
            return pool, clusters
    return None


def descriptor_doc(
    index: int,
    width: int,
    rng: random.Random,
    configs: dict[str, list[Config]],
    envs: Sequence[EnvPlan],
    *,
    tracing: bool = True,
) -> tuple[str, dict[str, Any], list[Placed]]:
    ids = sorted(configs)
    # Small models are the bulk of a real fleet; the largest are rare.
    weights = [3 if MODELS[i].params < 20e9 else 2 if MODELS[i].params < 100e9 else 1 for i in ids]
    catalog_id = rng.choices(ids, weights)[0]
    # Owners pick the pool first (cheap L4 where the model fits, H100 most often), then a
    # context length and concurrency that fit it.
    kinds = sorted({k for c in configs[catalog_id] for k in c.pools}, key=list(POOL_KINDS).index)
    primary = rng.choices(kinds, [POOL_SHARE[k] for k in kinds])[0]
    config = rng.choice([c for c in configs[catalog_id] if primary in c.pools])
    arch = config.arch
    team = rng.choice(TEAMS)
    name = f"{_slug(catalog_id)}-{index:0{width}d}"
    version = rng.choice(STABLE_VERSIONS)
    repository = rng.choice(IMAGE_REPOSITORIES)

    tiers = {e.tier for e in envs}
    # Which environments: staging always when it exists (prod needs it for promotion).
    share = {"staging": 1.0, "dev": 0.6, "prod": 0.7 if "staging" in tiers else 1.0}
    wanted = [env for env in envs if rng.random() < share[env.tier]]
    if not wanted:
        wanted.append(envs[0])

    dev_image = None
    if "dev" in [e.tier for e in wanted] and rng.random() < 0.3:
        dev_image = image(DEV_VERSION, repository, digest=False)
    versions = [version] + ([DEV_VERSION] if dev_image else [])
    extra = sorted(rng.sample(EXTRA_ARGS, rng.choice((0, 0, 1, 2))))
    if not _flags_ok(extra, versions):
        extra = []
    metric = rng.choice(SCALING_METRICS)
    if not _metric_ok(metric, versions):
        metric = SCALING_METRICS[0]

    max_replicas = rng.choice((1, 2, 3, 4))
    min_replicas = 1
    scale_to_zero = "dev" in [e.tier for e in wanted] and rng.random() < 0.1

    placed: list[Placed] = []
    overrides: dict[str, dict[str, Any]] = {}
    for env in wanted:
        choice = _place(rng, env, config, primary)
        if choice is None:
            continue
        pool, clusters = choice
        override: dict[str, Any] = {}
        if pool != primary:
            override["gpuPool"] = pool
        if len(clusters) > 1 and rng.random() < 0.3:
            clusters = sorted(rng.sample(clusters, 1), key=lambda c: c.name)
        if len(clusters) < len(env.clusters):
            override["clusters"] = [c.name for c in clusters]
        env_max = max_replicas
        if env.tier == "dev":
            env_max = 1
            override["replicas"] = {"min": 0 if scale_to_zero else 1, "max": 1}
            if dev_image:
                override["image"] = dev_image
        elif env.tier == "prod" and rng.random() < 0.5:
            env_max = max_replicas + rng.choice((1, 2, 4))
            override["replicas"] = {"min": rng.choice((1, 2)), "max": env_max}
        elif env.tier == "staging" and rng.random() < 0.5:
            env_max = 1
            override["replicas"] = {"min": 1, "max": 1}
        overrides[env.name] = override
        placed.append(Placed(env, pool, clusters, override, env_max))
    staged = any(p.env.tier == "staging" for p in placed)
    if "staging" in tiers and not staged:
        # Cannot stage it: drop production so the promotion rule holds.
        placed = [p for p in placed if p.env.tier != "prod"]
        overrides = {p.env.name: overrides[p.env.name] for p in placed}
    if not placed:
        raise Unplaceable(f"{name}: no environment can host {catalog_id}")
    in_prod = any(p.env.tier == "prod" for p in placed)
    runtime_image = image(version, repository, digest=in_prod or rng.random() < 0.5)

    hf_repo = arch.hf_repo or f"example/{catalog_id}"
    scheme = rng.choice(("s3", "gs", "hf"))
    storage = f"hf://{hf_repo}" if scheme == "hf" else f"{scheme}://models/{hf_repo}/"
    served = f"{team}/{catalog_id}-{index}"
    aliases = [f"{_slug(catalog_id)}-{team}-{index}-v{k}" for k in range(rng.choice((0, 0, 1, 2)))]

    model: dict[str, Any] = {
        "catalog": catalog_id,
        "storageUri": storage,
        "servedName": served,
    }
    if aliases:
        model["aliases"] = aliases
    model["revision"] = hashlib.sha1(name.encode()).hexdigest()
    model["dtype"] = "bfloat16"
    if config.quantization:
        model["quantization"] = config.quantization

    runtime: dict[str, Any] = {"image": runtime_image, "maxModelLen": config.max_model_len}
    if config.tensor_parallel > 1:
        runtime["tensorParallel"] = config.tensor_parallel
    runtime["maxNumSeqs"] = config.max_num_seqs
    if config.kv_cache_dtype != "auto":
        runtime["kvCacheDtype"] = config.kv_cache_dtype
    if rng.random() < 0.1:
        runtime["prefixCaching"] = False
    if extra:
        runtime["extraArgs"] = extra

    gpus = config.tensor_parallel
    resources: dict[str, Any] = {"gpuPool": primary}
    if (
        all(POOL_KINDS[p.pool].gpu == POOL_KINDS[primary].gpu for p in placed)
        and rng.random() < 0.5
    ):
        resources["gpuType"] = POOL_KINDS[primary].gpu
    resources["gpusPerReplica"] = gpus
    resources["cpu"] = str(min(64, 4 * gpus + rng.choice((0, 4))))
    resources["memory"] = f"{min(512, 32 * gpus + rng.choice((0, 32)))}Gi"

    autoscaling: dict[str, Any] = {
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "metric": metric,
        "targetPerPod": rng.choice((4, 5, 6, 8, 10)),
    }
    if rng.random() < 0.3:
        autoscaling["pollingInterval"] = rng.choice((15, 30, 60))
    if scale_to_zero:
        autoscaling["scaleToZero"] = True
        autoscaling["activationThreshold"] = 1

    tenants = rng.sample(TENANTS, rng.choice((1, 1, 2, 3)))
    spec: dict[str, Any] = {
        "model": model,
        "runtime": runtime,
        "resources": resources,
        "autoscaling": autoscaling,
        "gateway": {
            "tenants": [
                {
                    "name": tenant,
                    "tokens": rng.choice((100_000, 500_000, 1_000_000, 5_000_000)),
                    "unit": rng.choice(("Minute", "Hour", "Hour", "Day")),
                }
                for tenant, _ in tenants
            ]
        },
    }
    # A cache only where every pool the model lands on has a cache node group.
    if all(POOL_KINDS[p.pool].cache_node_group for p in placed) and rng.random() < 0.4:
        spec["cache"] = {"enabled": True}
    observability: dict[str, Any] = {}
    if rng.random() < 0.5 and tracing:
        observability["tracing"] = {"enabled": True, "sampling": rng.choice((0.01, 0.05, 0.1, 1.0))}
    if rng.random() < 0.4:
        observability["alerts"] = {
            "queueDepth": rng.choice((20, 30, 40)),
            "ttftP95Seconds": rng.choice((2, 4, 8)),
        }
    if rng.random() < 0.1:
        observability["dashboard"] = False
    if observability:
        spec["observability"] = observability
    _choose_serving(name, spec, overrides)
    spec["environments"] = overrides

    doc = {
        "apiVersion": "fleetgen.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {
            "name": name,
            "team": team,
            "contact": f"{team}-ml@example.com",
            "description": f"Synthetic {catalog_id} deployment #{index} for {team}.",
        },
        "spec": spec,
    }
    for p in placed:
        for cluster in p.clusters:
            demand = p.max_replicas * gpus
            cluster.max_gpus[p.pool] = cluster.max_gpus.get(p.pool, 0) + demand
            cluster.team_gpus[team] = cluster.team_gpus.get(team, 0) + demand
    return name, doc, placed


# A share of the fleet is served through LLMInferenceService: the whole model, or only its
# dev environment (a team trying it out). Drawn from the model's name, not the fleet's random
# stream, so the rest of the synthetic fleet stays what earlier benchmark runs measured.
LLMISVC_SHARE = 0.15
LLMISVC_DEV_SHARE = 0.15


def _choose_serving(name: str, spec: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> None:
    draw = random.Random(f"serving:{name}").random()
    if spec.get("cache"):
        return  # KServe's local model cache serves InferenceServices only
    if draw < LLMISVC_SHARE:
        spec["serving"] = {"api": "LLMInferenceService"}
    elif draw < LLMISVC_SHARE + LLMISVC_DEV_SHARE:
        for env, override in overrides.items():
            if env.startswith("dev"):
                override["serving"] = {"api": "LLMInferenceService"}


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------


def dump(doc: dict[str, Any], header: str) -> str:
    body: str = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)
    return header + body


def _prepare(out: Path) -> None:
    """Create `out`, or clear a previous synthetic repository there (and nothing else)."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise SystemExit(
                f"{out} is not empty and was not written by synth.py ({MARKER} missing); "
                "refusing to overwrite it"
            )
        for name in ("fleet", "environments", "base", "applicationsets"):
            target = out / name
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
        for leftover in out.glob(".applicationsets.fleetgen-staging*"):
            shutil.rmtree(leftover)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("synthetic fleet written by benchmarks/synth.py\n")


def synthesize(
    out: Path,
    models: int,
    envs: int,
    seed: int,
    *,
    base: Path,
    templates_dir: Path,
    link_base: bool = False,
) -> dict[str, int]:
    """Write the repository; returns counts for the caller's bookkeeping."""
    if models < 1:
        raise SystemExit("--models must be at least 1")
    templates = load_templates(templates_dir)
    # Tracing needs a Phoenix endpoint in every environment (FG206).
    tracing = all("phoenix" in t["spec"] for t in templates.values())
    rng = random.Random(seed)
    configs = build_configs()
    env_plans = plan_environments(envs, rng)
    width = max(4, len(str(models - 1)))
    _prepare(out)
    fleet_dir = out / "fleet"
    fleet_dir.mkdir()
    placements = 0
    for index in range(models):
        for _attempt in range(100):
            try:
                name, doc, placed = descriptor_doc(
                    index, width, rng, configs, env_plans, tracing=tracing
                )
                break
            except Unplaceable:
                continue
        else:
            raise SystemExit(f"model {index}: no catalog configuration fits these environments")
        (fleet_dir / f"{name}.yaml").write_text(dump(doc, DESCRIPTOR_HEADER), encoding="utf-8")
        placements += sum(len(p.clusters) for p in placed)
    for env in env_plans:
        env_dir = out / "environments" / env.name
        env_dir.mkdir(parents=True)
        template = templates.get(env.tier) or next(iter(templates.values()))
        text = dump(environment_doc(env, 1.25, template), ENVIRONMENT_HEADER)
        (env_dir / "environment.yaml").write_text(text, encoding="utf-8")
    if link_base:
        (out / "base").symlink_to(base.resolve(), target_is_directory=True)
    else:
        shutil.copytree(base, out / "base")
    return {"models": models, "environments": len(env_plans), "placements": placements}


def _iter_counts(counts: dict[str, int]) -> Iterator[str]:
    for key, value in counts.items():
        yield f"{key}={value}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", "-n", type=int, required=True, help="number of models")
    parser.add_argument("--envs", "-e", type=int, default=3, help="number of environments")
    parser.add_argument("--out", "-o", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--base", type=Path, default=REPO / "base", help="Kustomize bases to copy (default: ours)"
    )
    parser.add_argument(
        "--link-base", action="store_true", help="symlink base/ instead of copying it"
    )
    parser.add_argument(
        "--templates",
        type=Path,
        default=REPO / "environments",
        help="example environments whose platform settings are copied (default: ours)",
    )
    args = parser.parse_args(argv)
    counts = synthesize(
        args.out,
        args.models,
        args.envs,
        args.seed,
        base=args.base,
        templates_dir=args.templates,
        link_base=args.link_base,
    )
    print(f"wrote {args.out}: {' '.join(_iter_counts(counts))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
