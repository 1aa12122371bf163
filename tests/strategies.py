"""Shared pieces of the hardening suite (issue 9): hypothesis strategies and tree helpers.

* ``yaml_texts()`` / ``mutated_descriptors()``: YAML-ish text for the loader fuzzers.
* ``descriptor_docs()``: schema-valid descriptors built from the descriptor schema's shape and
  the example repository's environments, catalog and runtime contract.
* ``snapshot()`` and friends: byte-exact views of a generated tree.
* ``retyped_plain_scalars()``: plain YAML scalars that a YAML 1.2 reader (kustomize, Argo CD)
  would read as something other than the string fleetgen meant.

Example counts: every property uses ``examples(default)``. Set
``FLEETGEN_HYPOTHESIS_EXAMPLES=N`` for a longer run; the loader properties then try N
examples, the repository-level ones N // 4 and the kustomize one N // 100 (at least their
defaults). Runs are derandomized, so a failure reproduces with the same command.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from fleetgen.domain.environment import Environment
from fleetgen.knowledge.catalog.models import MODELS
from fleetgen.loading.load import load_fleet
from tests.conftest import REPO

EXAMPLES_ENV = "FLEETGEN_HYPOTHESIS_EXAMPLES"
GENERATED = "applicationsets"
STAGING_PREFIX = f".{GENERATED}.fleetgen-staging"


def examples(default: int, *, divisor: int = 1) -> int:
    """The example count of one property: its default, or the long-run count from the env."""
    raw = os.environ.get(EXAMPLES_ENV)
    if not raw:
        return default
    return max(default, int(raw) // divisor)


# --- generated trees ----------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under applicationsets/ (hidden ones included): relative path -> bytes."""
    base = root / GENERATED
    if not base.exists():
        return {}
    out: dict[str, bytes] = {}
    for p in sorted(base.rglob("*")):
        if p.is_symlink():
            out[p.relative_to(base).as_posix()] = b"symlink -> " + os.fsencode(p.readlink())
        elif p.is_file():
            out[p.relative_to(base).as_posix()] = p.read_bytes()
    return out


def describe_difference(got: Mapping[str, bytes], want: Mapping[str, bytes]) -> str:
    """A short account of how two snapshots differ (for assertion messages)."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(p for p in set(got) & set(want) if got[p] != want[p])
    return f"missing={missing[:5]} extra={extra[:5]} changed={changed[:5]}"


def staging_leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(STAGING_PREFIX))


# --- YAML 1.2 re-reading of generated files -----------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The YAML 1.2 core schema (what kustomize's and Argo CD's Go YAML libraries resolve).
_YAML12_NON_STRING = re.compile(
    r"""\A(?:
        null|Null|NULL|~
      | true|True|TRUE|false|False|FALSE
      | [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
      | [-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
      | [-+]?(?:\.inf|\.Inf|\.INF) | \.nan|\.NaN|\.NAN
    )\Z""",
    re.VERBOSE,
)


def yaml12_retypes(text: str) -> bool:
    """True when a plain scalar with this text is not a string under YAML 1.2."""
    return bool(_YAML12_NON_STRING.match(text))


def _walk(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(key)
            yield from _walk(value)


def retyped_plain_scalars(text: str) -> list[str]:
    """Plain scalars that PyYAML (YAML 1.1) keeps as strings but YAML 1.2 reads otherwise.

    Nested YAML/JSON (the inline JSON6902 patches of a kustomization) is checked too.
    """
    found: list[str] = []
    for document in yaml.compose_all(text, Loader=_FastLoader):
        if document is None:
            continue
        for node in _walk(document):
            if node.tag != _STR_TAG:
                continue
            if not node.style and yaml12_retypes(node.value):  # plain: None, or "" from C
                found.append(node.value)
            elif "\n" in node.value and node.value.lstrip().startswith(("- op:", "[")):
                found.extend(retyped_plain_scalars(node.value))
    return found


def plain_data(value: Any) -> bool:
    """True for the JSON-like values a strict loader may return (no dates, bytes, sets)."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_data(v) for k, v in value.items())
    return False


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- YAML-ish text ----------------------------------------------------------------------

# Scalars that YAML 1.1/1.2 resolvers, tags and constructors treat specially.
TRICKY_SCALARS = (
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "0",
    "-0",
    "+1",
    "007",
    "08",
    "0o17",
    "0x1F",
    "0xG",
    "0b101",
    "0b2",
    "1_000",
    "1__0",
    "1:20",
    "190:20:30",
    "1e3",
    "1E-3",
    "-1.5e+10",
    ".5",
    "5.",
    ".inf",
    "-.Inf",
    ".nan",
    ".NaN",
    "1e9999",
    "-1e9999",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-13-99",
    "=",
    "<<",
    "!",
    "&",
    "*",
    "|",
    ">",
    "%",
    "@",
    "`",
    "'",
    '"',
    "#",
    "-",
    "?",
    ":",
    "a: b",
    "a #b",
    "- x",
    "[1, 2]",
    "{a: 1}",
    "---",
    "...",
    "{{ .app }}",
    "${HOME}",
    "\\n",
    "é",
    "ß",
    "İ",
    "ﬁ",
    "а",
    "\u200b",
    "\u00a0",
    "\U0001f600",
    "\u202e",
    "\ufeff",
)
TRICKY_TOKENS = (
    "\t",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\x07",
    "\x1b",
    "---\n",
    "--- ",
    "...\n",
    "%YAML 1.1\n",
    "%YAML 1.2\n---\n",
    "%TAG ! tag:x,2000:\n",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "*zz",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!null ",
    "!!binary ",
    "!!timestamp ",
    "!!python/object:os.system ",
    "!foo ",
    "!<tag:yaml.org,2002:int> ",
    "!!map ",
    "!!seq ",
    "!!set ",
    "!!omap ",
    "<<: ",
    "<<: *a\n",
    "? ",
    ": ",
    "- ",
    "-\t",
    "{",
    "}",
    "[",
    "]",
    ",",
    "#",
    "'",
    '"',
    "|",
    "|-",
    ">+",
    "|2",
    "\\",
    "\\x",
    "\\u12",
    "\ufeff",
    "\ud7ff",
    "\ue000",
    "\ufffd",
    "\U0010ffff",
    "a",
    "0b_",
    "0x_",
    "+0b_",
)
_KEY_CHARS = string.ascii_letters + string.digits + "-_."
_KEY = st.text(alphabet=_KEY_CHARS, min_size=1, max_size=8)
_WORD = st.text(alphabet=_KEY_CHARS, min_size=1, max_size=10)
_NUMBER = st.integers(-(2**70), 2**70).map(str) | st.floats().map(repr)
_SCALAR_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], max_codepoint=0x10FFFF), max_size=12
)


@st.composite
def _scalar(draw: st.DrawFn, anchors: list[str]) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        text = draw(st.sampled_from(TRICKY_SCALARS))
    elif kind <= 4:
        text = draw(_WORD)
    elif kind == 5:
        text = "'" + draw(_SCALAR_TEXT).replace("'", "''") + "'"
    elif kind == 6:
        raw = draw(_SCALAR_TEXT)
        escaped = raw.replace("\\", "\\\\").replace('"', '\\"')
        escaped += draw(st.sampled_from(["", "\\n", "\\t", "\\x41", "\\u263A", "\\0", "\\e"]))
        text = '"' + escaped + '"'
    elif kind == 7 and anchors:
        return "*" + draw(st.sampled_from(anchors))
    else:
        text = draw(_NUMBER)
    prefix = draw(st.sampled_from(["", "", "", "!!str ", "!!int ", "!!float ", "!foo "]))
    return prefix + text


@st.composite
def _block(draw: st.DrawFn, indent: int, depth: int, anchors: list[str]) -> list[str]:
    """Lines of a block mapping or sequence at `indent`."""
    pad = " " * indent
    lines: list[str] = []
    is_seq = draw(st.booleans()) and depth > 0
    for _ in range(draw(st.integers(1, 4))):
        head = pad + ("- " if is_seq else draw(_KEY) + ": ")
        if draw(st.integers(0, 5)) == 0:
            name = draw(st.sampled_from(["a", "b", "c"]))
            anchors.append(name)
            head += f"&{name} "
        nested = depth < 4 and draw(st.integers(0, 4)) == 0
        if nested:
            step = draw(st.integers(1, 4))
            lines.append(head.rstrip())
            lines.extend(draw(_block(indent + step, depth + 1, anchors)))
        elif draw(st.integers(0, 6)) == 0:
            items = draw(st.lists(_scalar(anchors), max_size=4))
            flow = (
                "[" + ", ".join(items) + "]"
                if draw(st.booleans())
                else "{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(items)) + "}"
            )
            lines.append(head + flow)
        else:
            lines.append(head + draw(_scalar(anchors)))
        if draw(st.integers(0, 8)) == 0:
            lines.append(pad + "# " + draw(_SCALAR_TEXT))
    return lines


def _mutate(text: str) -> st.SearchStrategy[str]:
    """Insert tricky tokens, delete slices and duplicate lines of `text`."""

    @st.composite
    def mutated(draw: st.DrawFn) -> str:
        out = text
        for _ in range(draw(st.integers(0, 4))):
            action = draw(st.integers(0, 2))
            pos = draw(st.integers(0, len(out)))
            if action == 0:
                out = out[:pos] + draw(st.sampled_from(TRICKY_TOKENS)) + out[pos:]
            elif action == 1:
                end = draw(st.integers(pos, min(len(out), pos + 40)))
                out = out[:pos] + out[end:]
            else:
                lines = out.split("\n")
                index = draw(st.integers(0, max(0, len(lines) - 1)))
                lines.insert(index, lines[index] if lines else "")
                out = "\n".join(lines)
        return out

    return mutated()


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """YAML-ish text: block and flow collections, anchors, aliases, tags, markers, unicode."""
    anchors: list[str] = []
    lines = draw(_block(0, 0, anchors))
    prologue = draw(st.sampled_from(["", "", "---\n", "%YAML 1.1\n---\n", "\ufeff", "--- !foo\n"]))
    epilogue = draw(st.sampled_from(["", "\n", "\n...\n", "\n---\n", "\n--- {}\n", "\n# end"]))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", "\u2028"]))
    text = prologue + eol.join(lines) + epilogue
    return draw(_mutate(text))


@cache
def example_texts() -> tuple[str, ...]:
    """Every descriptor and environment file of the example and of the lint cases."""
    paths = [*sorted((REPO / "fleet").rglob("*.yaml"))]
    paths += sorted((REPO / "environments").glob("*/environment.yaml"))
    paths += sorted((REPO / "tests" / "cases").rglob("files/**/*.yaml"))
    return tuple(p.read_text(encoding="utf-8", errors="replace") for p in paths)


@st.composite
def mutated_descriptors(draw: st.DrawFn) -> str:
    """A real descriptor or environment file with a few text-level mutations."""
    text = draw(st.sampled_from(example_texts()))
    if draw(st.booleans()):
        # Swap one value for a tricky scalar: keeps the document shape, breaks types.
        lines = text.split("\n")
        candidates = [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z]+: \S", line)]
        if candidates:
            index = draw(st.sampled_from(candidates))
            key = lines[index].split(":", 1)[0]
            lines[index] = f"{key}: {draw(_scalar([]))}"
            text = "\n".join(lines)
    return draw(_mutate(text))


# Characters that carry meaning in YAML, for short dense texts.
_YAML_ALPHABET = st.sampled_from(
    [*":-?[]{},#&*!|>'\"%@` \t\n\r.0123456789abexyzAB~<=", "\x85", "\u2028", "\ufeff", "é"]
)


def any_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, arbitrary UTF-8 text and dense YAML punctuation."""
    return st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.text(alphabet=_YAML_ALPHABET, max_size=200).map(lambda t: t.encode("utf-8")),
    )


def any_file_content() -> st.SearchStrategy[bytes]:
    """Bytes for a fleet/x.yaml: arbitrary bytes, YAML-ish text, mutated real files."""
    return st.one_of(
        any_bytes(),
        yaml_texts().map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        mutated_descriptors().map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    )


# --- schema-valid descriptors -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepoFacts:
    """What a descriptor can refer to in the example repository."""

    environments: Mapping[str, Environment]
    served_names: frozenset[str]
    model_names: frozenset[str]


@cache
def repo_facts() -> RepoFacts:
    fleet, problems = load_fleet(REPO)
    assert not [d for d in problems if d.severity.value == "error"], problems
    return RepoFacts(
        environments=fleet.environments,
        served_names=frozenset(n for d in fleet.descriptors for n in d.served_names),
        model_names=frozenset(d.name for d in fleet.descriptors),
    )


DIGEST = "6d3e528800c6999c4bf9ab16895abe938ad1ebc5b960beefd0d95a9fd960f160"
GOOD_IMAGES = (
    "vllm/vllm-openai:v0.11.2",
    f"vllm/vllm-openai:v0.11.2@sha256:{DIGEST}",
    "vllm/vllm-openai:v0.12.0",
    f"vllm/vllm-openai@sha256:{DIGEST}",  # digest only: needs runtime.vllmVersion
)
# Flags vLLM 0.11/0.12 accept and fleetgen does not set (runtime_contract), with values
# that stay inside the schema's extraArgs pattern.
EXTRA_ARGS = (
    "--enforce-eager",
    "--disable-log-requests",
    "--enable-chunked-prefill",
    "--max-num-batched-tokens=8192",
    "--seed=0",
    "--block-size=16",
    "--swap-space=4",
    "--tokenizer-mode=auto",
    "--uvicorn-log-level=info",
    "--max-logprobs=20",
    "--chat-template=/models/template.jinja",
    "--allowed-origins=https://a.example.com,https://b.example.com",
)
METRICS = ("vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc")


def dns_label(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.from_regex(
        re.compile(rf"[a-z]([-a-z0-9]{{0,{max_size - 2}}}[a-z0-9])?"), fullmatch=True
    )


# --- strategies read from the shipped descriptor schema -----------------------------------


@cache
def _descriptor_schema() -> dict[str, Any]:
    from fleetgen.loading.schema import schema

    return schema("descriptor")


def schema_node(*path: str) -> Mapping[str, Any]:
    """The subschema at a property path; "[]" steps into array items, "*" into
    additionalProperties; $refs resolved."""
    root = _descriptor_schema()
    node: Mapping[str, Any] = root

    def resolve(n: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = n.get("$ref")
        if isinstance(ref, str):
            target: Mapping[str, Any] = root["$defs"][ref.rsplit("/", 1)[1]]
            return {**target, **{k: v for k, v in n.items() if k != "$ref"}}
        return n

    for part in path:
        node = resolve(node)
        if part == "[]":
            node = node["items"]
        elif part == "*":
            node = node["additionalProperties"]
        else:
            node = node["properties"][part]
    return resolve(node)


# Upper ends for numbers the schema leaves unbounded (the schema now bounds params itself;
# 1e308 used to overflow the sizing: test_non_finite_and_huge_numbers_are_diagnostics_...).
_UNBOUNDED_CAP: dict[str, float] = {"params": 1e13, "activeParams": 1e13}


def schema_number(
    *path: str, lo: float | None = None, hi: float | None = None
) -> st.SearchStrategy[Any]:
    """Integers or finite floats inside the schema's range (optionally narrowed)."""
    node = schema_node(*path)
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    if high is None:
        high = _UNBOUNDED_CAP.get(path[-1], 2**31 if node["type"] == "integer" else 1e300)
    if lo is not None:
        low = max(low, lo) if low is not None else lo
    if hi is not None:
        high = min(high, hi)
    if node["type"] == "integer":
        first = int(low if low is not None else 0) + (1 if "exclusiveMinimum" in node else 0)
        return st.integers(first, int(high) - (1 if "exclusiveMaximum" in node else 0))
    return st.floats(
        low,
        high,
        exclude_min="exclusiveMinimum" in node and low == node["exclusiveMinimum"],
        exclude_max="exclusiveMaximum" in node,
        allow_nan=False,
        allow_infinity=False,
    )


def schema_string(*path: str, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Strings that fully match the schema's pattern and fit its length bounds."""
    node = schema_node(*path)
    longest = min(node.get("maxLength", 10**6), max_size or 10**6)
    shortest = node.get("minLength", 0)
    if "pattern" in node:
        base = st.from_regex(re.compile(node["pattern"]), fullmatch=True)
    else:
        base = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=longest)
    return base.filter(lambda v: shortest <= len(v) <= longest)


# Built once: hypothesis validates a strategy on first use, which is slow for regexes.
_LABEL16 = dns_label(16)
_LABEL20 = schema_string("metadata", "team", max_size=20)
_SERVED = schema_string("spec", "model", "servedName", max_size=40).filter(
    lambda s: s not in repo_facts().served_names
)
_REVISION = schema_string("spec", "model", "revision")
# Any schema-valid URI (many of which FG107 refuses: a random pvc:// claim name, a '..'
# segment) or a well-formed one, so that most drawn descriptors get as far as rendering.
_STORAGE_URI = st.builds(
    lambda scheme, head, parts: f"{scheme}://{head}/" + "/".join(parts),
    st.sampled_from(["s3", "gs", "hf", "pvc", "oci"]),
    dns_label(20),
    st.lists(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,11}", fullmatch=True), min_size=1, max_size=3),
) | schema_string("spec", "model", "storageUri", max_size=60)
_QUANTITY = schema_string("spec", "resources", "cpu", max_size=12)
_CONTACT = schema_string("metadata", "contact", max_size=40)
_DESCRIPTION = schema_string("metadata", "description", max_size=80)
_TEAM = st.sampled_from(["search", "support", "platform", "analytics"]) | _LABEL20


def _pools_on(env: Environment, clusters: Sequence[str]) -> list[str]:
    """Pools present on every one of `clusters`."""
    sets = [{p.name for p in c.pools} for c in env.clusters if c.name in clusters]
    return sorted(set.intersection(*sets)) if sets else []


_ARCH = ("spec", "model", "architecture")
_SCALE = ("spec", "autoscaling")
_TENANT = ("spec", "gateway", "tenants", "[]")
_OBS = ("spec", "observability")
_ALERTS = ("spec", "observability", "alerts")


@st.composite
def descriptor_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A descriptor that the JSON Schema (ECMA-262 semantics) accepts.

    Values are biased towards what the cross-file checks accept (pools that exist, tenants
    each environment declares, an image staged before production) so that a good share of
    examples reach the generator; the rest exercise the checks' error paths.
    """
    facts = repo_facts()
    name = "fz-" + draw(_LABEL16)
    env_names = draw(
        st.lists(st.sampled_from(sorted(facts.environments)), min_size=1, max_size=3, unique=True)
    )
    if "prod" in env_names and "staging" not in env_names and draw(st.integers(0, 4)):
        env_names.append("staging")  # promotion: prod images run in staging first
    envs = [facts.environments[e] for e in env_names]

    small_first = sorted(MODELS, key=lambda m: MODELS[m].params)
    model_id = draw(
        st.sampled_from(small_first[:8])
        if draw(st.integers(0, 3))
        else st.sampled_from(small_first)
    )
    arch = MODELS[model_id]
    model: dict[str, Any] = {
        "storageUri": draw(_STORAGE_URI),
        "servedName": draw(_SERVED),
    }
    if draw(st.integers(0, 5)):
        model["catalog"] = model_id
    else:
        model["architecture"] = {
            "params": draw(schema_number("spec", "model", "architecture", "params", lo=1e6)),
            "layers": draw(schema_number("spec", "model", "architecture", "layers", hi=128)),
            "attentionHeads": arch.attention_heads,
            "kvHeads": arch.kv_heads,
            "headDim": draw(st.sampled_from([64, 128, 256])),
            **(
                {"maxContext": draw(schema_number(*_ARCH, "maxContext", lo=128))}
                if draw(st.booleans())
                else {}
            ),
            **(
                {"hiddenSize": draw(schema_number(*_ARCH, "hiddenSize"))}
                if draw(st.booleans())
                else {}
            ),
        }
    aliases = draw(st.lists(_SERVED, max_size=3, unique=True))
    if aliases:
        model["aliases"] = [a for a in aliases if a != model["servedName"]]
    if draw(st.booleans()):
        model["revision"] = draw(_REVISION)
    for key, choices in (
        ("dtype", ["auto", "bfloat16", "float16", "float32"]),
        ("quantization", ["none", "fp8", "int8", "awq", "gptq", "mxfp4"]),
    ):
        if draw(st.integers(0, 3)) == 0:
            model[key] = draw(st.sampled_from(choices))

    image = draw(st.sampled_from(GOOD_IMAGES))
    divides = [t for t in (1, 2, 4, 8) if arch.attention_heads % t == 0 and arch.kv_heads % t == 0]
    tp = draw(
        st.sampled_from(divides) if draw(st.integers(0, 5)) else st.sampled_from([1, 2, 4, 8])
    )
    pp = draw(st.sampled_from([1, 1, 1, 2]))
    context = arch.max_context
    runtime: dict[str, Any] = {
        "image": image,
        "maxModelLen": draw(
            st.integers(128, min(context, 32768))
            if draw(st.integers(0, 7))
            else schema_number("spec", "runtime", "maxModelLen")
        ),
    }
    if "@" in image and ":v" not in image:
        runtime["vllmVersion"] = "0.11.2"
    if tp != 1 or draw(st.booleans()):
        runtime["tensorParallel"] = tp
    if pp != 1:
        runtime["pipelineParallel"] = pp
    optional_runtime: dict[str, st.SearchStrategy[Any]] = {
        "gpuMemoryUtilization": schema_number("spec", "runtime", "gpuMemoryUtilization"),
        "maxNumSeqs": schema_number("spec", "runtime", "maxNumSeqs"),
        "kvCacheDtype": st.sampled_from(["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]),
        "prefixCaching": st.booleans(),
        "extraArgs": st.lists(st.sampled_from(EXTRA_ARGS), max_size=4, unique=True),
    }
    for key, strategy in optional_runtime.items():
        if draw(st.booleans()):
            runtime[key] = draw(strategy)

    clusters_by_env: dict[str, list[str]] = {}
    for env in envs:
        names = [c.name for c in env.clusters]
        chosen = names
        if len(names) > 1 and draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        clusters_by_env[env.name] = chosen
    common = sorted(set.intersection(*(set(_pools_on(e, clusters_by_env[e.name])) for e in envs)))
    pool = draw(st.sampled_from(common or ["h100"]))
    resources: dict[str, Any] = {
        "gpuPool": pool,
        "gpusPerReplica": tp * pp
        if draw(st.integers(0, 9))
        else draw(schema_number("spec", "resources", "gpusPerReplica")),
    }
    if draw(st.booleans()):
        resources["cpu"] = draw(_QUANTITY)
    if draw(st.booleans()):
        resources["memory"] = draw(_QUANTITY)
    if pp > 1 and draw(st.booleans()):
        resources["multiNode"] = True

    scale_to_zero = draw(st.integers(0, 4)) == 0
    low = draw(st.integers(0, 2)) if scale_to_zero else draw(st.integers(1, 2))
    autoscaling: dict[str, Any] = {
        "minReplicas": low,
        "maxReplicas": draw(st.integers(max(1, low), 4)),
        "metric": draw(st.sampled_from(METRICS)),
        "targetPerPod": draw(schema_number(*_SCALE, "targetPerPod")),
        "pollingInterval": draw(schema_number(*_SCALE, "pollingInterval")),
        "cooldownPeriod": draw(schema_number(*_SCALE, "cooldownPeriod")),
    }
    if scale_to_zero:
        autoscaling["scaleToZero"] = True
        autoscaling["activationThreshold"] = draw(schema_number(*_SCALE, "activationThreshold"))

    shared_tenants = sorted(set.intersection(*({t.name for t in e.tenants} for e in envs)))
    tenants = (
        draw(st.lists(st.sampled_from(shared_tenants), unique=True, max_size=3))
        if (shared_tenants)
        else []
    )
    spec: dict[str, Any] = {
        "model": model,
        "runtime": runtime,
        "resources": resources,
        "autoscaling": autoscaling,
        "environments": {},
    }
    if draw(st.integers(0, 5)) == 0:
        spec["lifecycle"] = draw(st.sampled_from(["active", "retired"]))
    empty_gateway = draw(st.booleans())
    if tenants or empty_gateway:
        spec["gateway"] = {
            "tenants": [
                {
                    "name": t,
                    # At most a uint32 (Envoy Gateway's limit), whatever the schema allows:
                    # test_property.py::test_token_budget_above_uint32_is_rejected.
                    "tokens": draw(schema_number(*_TENANT, "tokens", hi=2**32 - 1)),
                    **(
                        {"unit": draw(st.sampled_from(["Minute", "Hour", "Day"]))}
                        if draw(st.booleans())
                        else {}
                    ),
                }
                for t in tenants
            ]
        }
    if draw(st.booleans()):
        spec["cache"] = {"enabled": draw(st.booleans())}
        if draw(st.booleans()):
            spec["cache"]["size"] = draw(_QUANTITY)
    if draw(st.booleans()):
        spec["observability"] = {
            "tracing": {
                "enabled": draw(st.booleans()),
                "sampling": draw(schema_number(*_OBS, "tracing", "sampling")),
            },
            "alerts": {
                "queueDepth": draw(schema_number(*_ALERTS, "queueDepth")),
                "kvCacheUsage": draw(schema_number(*_ALERTS, "kvCacheUsage")),
                "ttftP95Seconds": draw(schema_number(*_ALERTS, "ttftP95Seconds")),
                "errorRate": draw(schema_number(*_ALERTS, "errorRate")),
            },
            "dashboard": draw(st.booleans()),
        }
    for env in envs:
        override: dict[str, Any] = {}
        if clusters_by_env[env.name] != [c.name for c in env.clusters]:
            override["clusters"] = clusters_by_env[env.name]
        here = _pools_on(env, clusters_by_env[env.name])
        if here and draw(st.integers(0, 3)) == 0:
            override["gpuPool"] = draw(st.sampled_from(here))
        if draw(st.integers(0, 5)) == 0:
            lo = draw(st.integers(0 if scale_to_zero else 1, 2))
            override["replicas"] = {"min": lo, "max": draw(st.integers(max(lo, 1), 4))}
        if draw(st.integers(0, 7)) == 0:
            override["lifecycle"] = draw(st.sampled_from(["active", "retired"]))
        spec["environments"][env.name] = override

    metadata: dict[str, Any] = {
        "name": name,
        "team": draw(_TEAM),
        "contact": draw(_CONTACT),
    }
    if draw(st.booleans()):
        metadata["description"] = draw(_DESCRIPTION)
    return {
        "apiVersion": "fleetgen.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": metadata,
        "spec": spec,
    }


class _Dumper(yaml.SafeDumper):
    """Quotes strings a YAML 1.2 reader would re-type, as fleetgen's loader is one."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if yaml12_retypes(value) else None
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_descriptor(doc: Mapping[str, Any]) -> str:
    """YAML text of a descriptor as a person might write it (block style, UTF-8)."""
    return yaml.dump(
        dict(doc),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10**6,
    )


# --- schema walking -----------------------------------------------------------------------

JsonPathT = tuple[str | int, ...]


def string_fields(
    schema: Mapping[str, Any], *, keep: Callable[[Mapping[str, Any]], bool]
) -> list[JsonPathT]:
    """Paths of every string property of a schema for which `keep(subschema)` holds.

    Array items are addressed as index 0; additionalProperties of `environments` as "dev".
    """
    defs: Mapping[str, Any] = schema.get("$defs", {})

    def resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = node.get("$ref")
        if isinstance(ref, str):
            return {**defs[ref.rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    out: list[JsonPathT] = []

    def visit(node: Mapping[str, Any], path: JsonPathT) -> None:
        node = resolve(node)
        kind = node.get("type")
        if kind == "string":
            if keep(node):
                out.append(path)
        elif kind == "object":
            for key, sub in node.get("properties", {}).items():
                visit(sub, (*path, key))
            extra = node.get("additionalProperties")
            if isinstance(extra, Mapping) and path and path[-1] == "environments":
                visit(extra, (*path, "dev"))
        elif kind == "array" and isinstance(node.get("items"), Mapping):
            visit(node["items"], (*path, 0))

    visit(schema, ())
    return out


# --- hand-written descriptors with known positions ------------------------------------------

TINY_PATH = REPO / "tests" / "cases" / "clean" / "tiny-model" / "files" / "fleet" / "tiny.yaml"


def tiny_doc() -> dict[str, Any]:
    """The clean one-environment descriptor of the lint cases (fleet/tiny.yaml)."""
    loaded: dict[str, Any] = yaml.safe_load(TINY_PATH.read_text(encoding="utf-8"))
    return loaded


def edited(doc: dict[str, Any], edits: Mapping[JsonPathT, Any]) -> dict[str, Any]:
    """A deep copy of `doc` with each path set (intermediate mappings created)."""
    out: dict[str, Any] = copy.deepcopy(doc)
    for path, value in edits.items():
        node: Any = out
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[path[-1]] = value
    return out


def render_doc(doc: Mapping[str, Any], raw: Mapping[str, str] | None = None) -> str:
    """Block-style YAML of `doc`; each placeholder string in `raw` is replaced by raw YAML."""
    text = dump_descriptor(doc)
    for placeholder, yaml_text in (raw or {}).items():
        assert text.count(placeholder) == 1, placeholder
        text = text.replace(placeholder, yaml_text)
    return text


def mark_of(text: str, path: JsonPathT, *, key: bool = False) -> tuple[int, int]:
    """1-based line and column of the value (or key) at `path`, found by PyYAML's composer.

    Independent of fleetgen's own position index, so tests can check its locations.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert root is not None
    node: yaml.Node = root
    key_node: yaml.Node | None = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key_node, node = next((k, v) for k, v in node.value if k.value == part)
        elif isinstance(node, yaml.SequenceNode):
            assert isinstance(part, int)
            key_node, node = None, node.value[part]
        else:
            raise KeyError(path)
    target = key_node if key and key_node is not None else node
    return target.start_mark.line + 1, target.start_mark.column + 1
