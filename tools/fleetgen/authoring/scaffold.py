"""`fleetgen new`: write a commented descriptor that validates clean and fits its GPU pool.

* Pool: the smallest GPU on every cluster of every target environment, else each environment
  its own smallest fitting pool; ``--pool`` forces one. Tensor parallel: the smallest power
  of two that splits the attention and KV heads, fits a node and leaves a KV pool for at least
  ``MIN_SEQS`` sequences of ``min(context, 8192)`` tokens on every cluster; ``maxNumSeqs`` is
  the largest power of two (at most 256) the tightest one holds.
* Image: one string fleet-wide, so staging runs what production may run (FG601): the other
  descriptors' most used image that is pinned, in the runtime contract and allowed everywhere,
  digest-pinned first (a digest cannot be invented); else ``DEFAULT_IMAGE`` (FG508 warns).
* Every candidate goes through all checks against the rest of the fleet before anything is
  written; the first clean one wins (maxReplicas 2 where the pools have room, else 1).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetgen.authoring.fmt import write_atomic
from fleetgen.checks import run_checks
from fleetgen.core.diagnostics import Diagnostic, Severity
from fleetgen.core.errors import UsageError
from fleetgen.domain.environment import Environment
from fleetgen.domain.images import parse_image, repository_allowed
from fleetgen.domain.model import Descriptor, Source, descriptor_from
from fleetgen.domain.sizing import FitInput, FitResult, fit
from fleetgen.domain.sizing import format_bytes as size
from fleetgen.knowledge.catalog import MODELS, ModelArch, get_gpu, get_model
from fleetgen.knowledge.runtime_contract import contract_for, vllm_version_from_image
from fleetgen.loading import schema
from fleetgen.loading.fleet import Fleet
from fleetgen.loading.load import load_fleet
from fleetgen.loading.yaml_source import parse

MAX_LEN, MIN_SEQS, MAX_SEQS = 8192, 4, 256
DEFAULT_IMAGE = "vllm/vllm-openai:v0.34.0"
SCHEMA_FILE = "tools/fleetgen/schemas/descriptor.schema.json"
_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9@._/+-]*$")
_BOOLISH = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


@dataclass(frozen=True, slots=True)
class NewOptions:
    root: Path
    name: str
    catalog: str
    envs: tuple[str, ...]
    team: str | None = None
    contact: str | None = None
    pool: str | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class Fit:
    """One pool of one environment at one TP, on its tightest cluster."""

    gpu: str
    result: FitResult | None  # None when a replica cannot be placed at all
    why: str = ""  # empty when it fits

    @property
    def seqs(self) -> float:
        return self.result.max_full_length_sequences if self.result else 0.0


@dataclass(frozen=True, slots=True)
class Choice:
    tp: int
    pools: Mapping[str, str]  # environment -> pool
    tightest: Fit
    max_num_seqs: int


@dataclass(frozen=True, slots=True)
class Scaffolded:
    path: str
    choice: Choice
    max_model_len: int
    warnings: tuple[Diagnostic, ...]


def _label(value: str, what: str) -> str:
    if len(value) > 63 or not _LABEL.fullmatch(value):
        raise UsageError(f"{what} {value!r} is not a DNS label (a-z, 0-9 and '-', 63 at most)")
    return value


def _scalar(value: str) -> str:
    """Plain where that is safe, else double-quoted (a JSON string is a YAML scalar)."""
    plain = _PLAIN.fullmatch(value) and value.lower() not in _BOOLISH
    return value if plain else json.dumps(value)


def _dtype(arch: ModelArch) -> str:
    return "float16" if arch.native_dtype == "float16" else "bfloat16"


def _environments(fleet: Fleet, names: Sequence[str]) -> list[Environment]:
    unknown = [n for n in names if n not in fleet.environments]
    if unknown or not names:
        known = ", ".join(sorted(fleet.environments)) or "none"
        raise UsageError(f"unknown environment {(unknown or [''])[0]!r}; known: {known}")
    return [fleet.environments[n] for n in dict.fromkeys(names)]


def _pools(env: Environment) -> list[str]:
    """Pools on every cluster of `env`, smallest GPU first."""
    names = set.intersection(*({p.name for p in c.pools} for c in env.clusters))
    memory = {p.name: getattr(get_gpu(p.gpu), "memory_bytes", 0) for p in env.clusters[0].pools}
    return sorted(names, key=lambda n: (memory[n], n))


def _fit(arch: ModelArch, env: Environment, pool: str, tp: int, length: int) -> Fit:
    worst: Fit | None = None
    for cluster in env.clusters:
        found = cluster.pool(pool)
        gpu = get_gpu(found.gpu) if found else None
        if found is None or gpu is None:
            return Fit("", None, f"{env.name}/{cluster.name}: no known GPU type")
        if tp > found.gpus_per_node:
            return Fit(gpu.id, None, f"TP={tp} > {found.gpus_per_node} GPUs per node")
        inp = FitInput(arch, _dtype(arch), None, "auto", tp, 1, length, 1, 0.9, gpu)
        here = Fit(gpu.id, fit(inp))
        worst = here if worst is None or here.seqs < worst.seqs else worst
    assert worst is not None and worst.result is not None  # environments have clusters
    if worst.seqs >= MIN_SEQS:
        return worst
    r = worst.result
    why = (
        f"{worst.gpu} at TP={tp}, per GPU: budget {size(r.budget_per_gpu)}, weights "
        f"{size(r.weights_per_gpu)}, overhead {size(r.overhead_per_gpu)}, KV pool "
        f"{size(r.kv_pool_per_gpu)} = {worst.seqs:.1f} sequences of {length} tokens "
        f"(needs {MIN_SEQS})"
    )
    return dataclasses.replace(worst, why=why)


def _choices(
    arch: ModelArch, envs: list[Environment], forced: str | None, length: int, why: dict[str, str]
) -> Iterator[Choice]:
    """Candidates, smallest TP first, a pool shared by every environment first."""
    per_env = {env.name: _pools(env) for env in envs}
    for env in envs:
        if forced is not None and forced not in per_env[env.name]:
            raise UsageError(f"pool {forced!r} is not on every cluster of {env.name!r}")
        per_env[env.name] = [forced] if forced else per_env[env.name]
    common = [p for p in per_env[envs[0].name] if all(p in per_env[e.name] for e in envs)]
    widest = max(p.gpus_per_node for e in envs for c in e.clusters for p in c.pools)
    for tp in (2**i for i in range(7) if 2**i <= widest):
        if arch.attention_heads % tp or (arch.kv_heads % tp and tp % arch.kv_heads):
            continue
        fits = {(e.name, p): _fit(arch, e, p, tp, length) for e in envs for p in per_env[e.name]}
        for (env_name, pool), found in fits.items():
            if found.why and (found.result or f"{pool} in {env_name}" not in why):
                why[f"{pool} in {env_name}"] = found.why  # keep the last numbers seen
        options = [{e.name: p for e in envs} for p in common]
        own = {
            e.name: next((p for p in per_env[e.name] if not fits[e.name, p].why), "") for e in envs
        }
        options += [own] if all(own.values()) and own not in options else []
        for pools in options:
            tightest = min((fits[e, p] for e, p in pools.items()), key=lambda f: f.seqs)
            if not tightest.why:
                seqs = min(int(tightest.seqs), MAX_SEQS)
                yield Choice(tp, pools, tightest, 1 << (seqs.bit_length() - 1))


def _image(others: Sequence[Descriptor], envs: Sequence[Environment]) -> str:
    def usable(image: str) -> bool:
        ref, version = parse_image(image), vllm_version_from_image(image)
        lists = [e.allowed_repositories for e in envs if e.allowed_repositories is not None]
        allowed = all(repository_allowed(ref.repository, a) for a in lists)
        return ref.pinned and allowed and version is not None and contract_for(version) is not None

    used = Counter(d.runtime.image for d in others if d.active and usable(d.runtime.image))
    if not used:
        return DEFAULT_IMAGE
    return max(used, key=lambda i: (parse_image(i).digest is not None, used[i], i))


@dataclass(frozen=True, slots=True)
class _Facts:
    schema_line: str
    served: str
    image: str
    length: int
    tenants: str
    image_note: tuple[str, ...]  # why production will warn about the image (FG508)


def _render(opts: NewOptions, arch: ModelArch, facts: _Facts, choice: Choice, most: int) -> str:
    r, main = choice.tightest.result, next(iter(choice.pools.values()))
    assert r is not None
    team = _scalar(opts.team) if opts.team else "unassigned  # the owning team (--team)"
    lines = [
        facts.schema_line,
        "# Scaffolded by `fleetgen new`; docs/descriptor.md documents every field.",
        "apiVersion: fleetgen.dev/v1alpha1",
        "kind: ModelDeployment",
        "metadata:",
        f"  name: {_scalar(opts.name)}",
        f"  team: {team}",
        f"  contact: {_scalar(opts.contact or 'owner@example.com')}  # e-mail or chat channel",
        f"  description: {arch.hf_repo} served by vLLM  # say what it is for",
        "spec:",
        "  model:",
        f"    catalog: {arch.id}",
        f"    storageUri: hf://{arch.hf_repo}  # or the s3://, gs://, pvc:// copy to load",
        f"    servedName: {_scalar(facts.served)}",
        "    # revision: <commit>  # pin the weights revision",
        f"    dtype: {_dtype(arch)}",
        "  runtime:",
        *facts.image_note,
        f"    image: {facts.image}",
        f"    # Sized on {choice.tightest.gpu}: per GPU, weights {size(r.weights_per_gpu)}, "
        f"overhead {size(r.overhead_per_gpu)},",
        f"    # KV pool {size(r.kv_pool_per_gpu)}: {int(choice.tightest.seqs)} full-length "
        f"sequences (`fleetgen fit {opts.name}`).",
        f"    maxModelLen: {facts.length}",
        f"    tensorParallel: {choice.tp}",
        f"    maxNumSeqs: {choice.max_num_seqs}",
        "  resources:",
        f"    gpuPool: {_scalar(main)}",
        f"    gpusPerReplica: {choice.tp}  # = tensorParallel",
        f'    cpu: "{4 * choice.tp}"',
        f"    memory: {32 * choice.tp}Gi",
        "  autoscaling:",
        "    minReplicas: 1",
        f"    maxReplicas: {most}  # `fleetgen capacity` shows the room in each pool",
        "  # No tenant may call the model yet. Tenants every target environment declares:",
        f"  # {facts.tenants}. To admit one:",
        "  # gateway:",
        "  #   tenants:",
        "  #     - {name: TENANT, tokens: 1000000, unit: Hour}",
        "  environments:",
        *(
            f"    {_scalar(e)}: {{}}"
            if p == main
            else f"    {_scalar(e)}: {{gpuPool: {_scalar(p)}}}"
            for e, p in choice.pools.items()
        ),
    ]
    return "\n".join(lines) + "\n"


def _check(fleet: Fleet, others: tuple[Descriptor, ...], rel: str, text: str) -> list[Diagnostic]:
    """Diagnostics of `text` as fleet/<name>.yaml beside the rest of the fleet."""
    parsed = parse(text.encode("utf-8"), rel)
    if isinstance(parsed, Diagnostic):
        return [parsed]
    problems = schema.validate(parsed, "descriptor")
    if problems:
        return problems
    data = schema.apply_defaults("descriptor", parsed.data)
    desc = descriptor_from(data, Source(rel, parsed.positions, parsed.data))
    descriptors = tuple(sorted((*others, desc), key=lambda d: (d.name, d.source.path)))
    candidate = dataclasses.replace(fleet, descriptors=descriptors)
    return [d for d in run_checks(candidate) if d.location.file == rel]


def _facts(
    opts: NewOptions,
    target: Path,
    arch: ModelArch,
    envs: list[Environment],
    others: Sequence[Descriptor],
) -> _Facts:
    names = {e.name for e in envs}
    taken = {n for d in others if names & set(d.environments) for n in d.served_names}
    declared = set.intersection(*({t.name for t in e.tenants} for e in envs))
    schema_file = opts.root.resolve() / SCHEMA_FILE
    shipped = Path(os.path.relpath(schema_file, target.parent)).as_posix()
    line = (
        f"# yaml-language-server: $schema={shipped}"
        if schema_file.is_file()
        else "# Editor schema: `fleetgen schema descriptor` prints it (yaml-language-server)."
    )
    served = arch.id if arch.id not in taken else opts.name
    length = min(arch.max_context or MAX_LEN, MAX_LEN)
    image = _image(others, envs)
    unpinned = "@" not in image and any(e.production for e in envs)
    note = ("    # No image in the fleet has a digest to reuse: add image:tag@sha256:...",)
    tenants = ", ".join(sorted(declared)) or "none"
    return _Facts(line, served, image, length, tenants, note if unpinned else ())


def new(opts: NewOptions) -> Scaffolded:
    """Choose a sizing, check it against the fleet, and write fleet/<name>.yaml."""
    root, rel = opts.root.resolve(), f"fleet/{_label(opts.name, 'name')}.yaml"
    if opts.team is not None:
        _label(opts.team, "team")
    target = root / rel
    if target.exists() and not opts.force:
        raise UsageError(f"{rel} exists; pass --force to overwrite it")
    arch = get_model(opts.catalog)
    if arch is None:
        hint = schema.did_you_mean(opts.catalog, list(MODELS)) or "`fleetgen catalog` lists them"
        raise UsageError(f"the catalog has no model {opts.catalog!r}; {hint}")
    fleet, _ = load_fleet(root)
    envs = _environments(fleet, opts.envs)
    strict = [e.name for e in envs if e.production and e.promotion == "error"]
    if strict and not any(e.tier == "staging" for e in envs):
        raise UsageError(
            f"{strict[0]} runs only images staging ran first (FG601): add a staging --env"
        )
    others = tuple(d for d in fleet.descriptors if d.source.path != rel)
    facts = _facts(opts, target, arch, envs, others)
    why: dict[str, str] = {}
    rejected: dict[str, None] = {}
    chosen: tuple[str, Scaffolded] | None = None
    for text, choice in (
        (_render(opts, arch, facts, choice, most), choice)
        for choice in _choices(arch, envs, opts.pool, facts.length, why)
        for most in (2, 1)
    ):
        found = tuple(dict.fromkeys(_check(fleet, others, rel, text)))
        errors = [d for d in found if d.severity is Severity.ERROR]
        for d in errors:
            rejected[f"{d.code} {d.message}" + (f" ({d.hint})" if d.hint else "")] = None
        if not errors and (chosen is None or not found):  # warnings only as a last resort
            chosen = (text, Scaffolded(rel, choice, facts.length, found))
        if not found:
            break
    if chosen is None:
        reasons = [f"{where}: {reason}" for where, reason in why.items()] + list(rejected)
        where = ", ".join(e.name for e in envs)
        raise UsageError(
            f"no sizing of {arch.id} fits and validates in {where}:\n  " + "\n  ".join(reasons)
        )
    target.parent.mkdir(exist_ok=True)
    write_atomic(target, chosen[0])
    return chosen[1]
