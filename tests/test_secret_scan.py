"""No secrets in what fleetgen writes or what Argo CD would apply (issue 9).

The scanner looks at every string (and every string nested in embedded JSON/YAML) of

* the generated tree as committed (applicationsets/, hand-written files included),
* the tree fleetgen would generate now, and
* every manifest kustomize renders from it,

with the product's own credential shapes (checks.policy.SECRET_PATTERNS) plus a generic
high-entropy test: long base64-ish tokens above 4.5 bits/char, and long hex strings that are
not a known digest (image digests and model revisions of the inputs, and the manifest's file
hashes, which are verified to be exactly those files' sha256). Negative controls prove it
finds a planted secret, including one that passes `fleetgen validate`.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.checks.policy import SECRET_PATTERNS
from fleetgen.domain import layout
from fleetgen.loading.fleet import Fleet, placements
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.build import render_fleet
from tests.conftest import REPO, copy_example
from tests.strategies import sha256

TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
HEX = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
BASE64_BITS = 4.5  # detect-secrets' default for base64 strings
HEX_BITS = 3.0
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Finding:
    where: str
    kind: str
    token: str


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def known_digests(fleet: Fleet) -> set[str]:
    """Hex strings the inputs put there on purpose: image digests and model revisions."""
    found: set[str] = set()
    for p in placements(fleet, include_retired=True):
        found.update(re.findall(r"sha256:([0-9a-f]{64})", p.image))
        if p.descriptor.model.revision:
            found.add(p.descriptor.model.revision)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        stripped = value.strip()
        if stripped[:1] in "[{" and "\n" in stripped:
            try:
                nested = yaml.load(stripped, Loader=_Loader)
            except yaml.YAMLError:
                return
            if not isinstance(nested, str):
                yield from _strings(nested)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(str(key))
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def scan_strings(where: str, values: Iterator[str], digests: set[str]) -> list[Finding]:
    out: list[Finding] = []
    for text in values:
        for label, pattern in SECRET_PATTERNS:
            for line in text.splitlines() or [text]:
                match = pattern.search(line.strip())
                if match:
                    out.append(Finding(where, label, match.group(0)))
        for token in HEX.findall(text):
            if token.lower() not in digests and entropy(token) > HEX_BITS:
                out.append(Finding(where, "hex string", token))
        for token in TOKEN.findall(text):
            if HEX.fullmatch(token):
                continue
            if entropy(token) > BASE64_BITS:
                out.append(Finding(where, "high-entropy token", token))
    return out


def scan_file(where: str, data: bytes, digests: set[str]) -> list[Finding]:
    text = data.decode("utf-8")
    if where.endswith(".json"):
        parsed: Any = json.loads(text)
    elif where.endswith((".yaml", ".yml")):
        parsed = list(yaml.load_all(text, Loader=_Loader))
    else:
        parsed = text
    # Comments and anything the parsers drop are scanned as raw lines too.
    return scan_strings(where, iter([*_strings(parsed), *text.splitlines()]), digests)


def manifest_hashes_are_exact(files: Mapping[str, bytes]) -> set[str]:
    """The manifest's values, after checking each is the sha256 of the file it names."""
    record = json.loads(files[layout.MANIFEST])
    for rel, digest in record["files"].items():
        assert (
            files[f"{layout.GENERATED_ROOT}/{rel}"]
            and sha256(files[f"{layout.GENERATED_ROOT}/{rel}"]) == digest
        ), rel
    return set(record["files"].values())


@pytest.fixture(scope="module")
def example() -> tuple[Fleet, dict[str, bytes]]:
    fleet, problems = load_fleet(REPO)
    assert not [p for p in problems if p.severity.value == "error"]
    return fleet, dict(build_plan(fleet).with_manifest())


def test_generated_tree_has_no_secrets(example: tuple[Fleet, dict[str, bytes]]) -> None:
    fleet, files = example
    digests = known_digests(fleet)
    findings: list[Finding] = []
    for path, data in files.items():
        allowed = digests | (manifest_hashes_are_exact(files) if path == layout.MANIFEST else set())
        findings += scan_file(path, data, allowed)
    assert findings == []
    assert len(files) > 30


def test_committed_tree_has_no_secrets(example: tuple[Fleet, dict[str, bytes]]) -> None:
    """What is in Git, hand-written files included."""
    fleet, _ = example
    committed = {
        p.relative_to(REPO).as_posix(): p.read_bytes()
        for p in sorted((REPO / layout.GENERATED_ROOT).rglob("*"))
        if p.is_file()
    }
    digests = known_digests(fleet) | manifest_hashes_are_exact(committed)
    findings = [f for path, data in committed.items() for f in scan_file(path, data, digests)]
    assert findings == []


@pytest.mark.slow
def test_rendered_manifests_have_no_secrets(example: tuple[Fleet, dict[str, bytes]]) -> None:
    fleet, _ = example
    rendered = render_fleet(REPO, build_plan(fleet).files, engine="kustomize")
    assert rendered.failures == []
    assert len(rendered.objects) > 100
    digests = known_digests(fleet)
    findings: list[Finding] = []
    kinds: Counter[str] = Counter()
    for obj in rendered.objects:
        kinds[obj.kind] += 1
        where = f"{obj.app}: {obj.kind}/{obj.name}"
        findings += scan_strings(where, _strings(obj.doc), digests)
        if obj.kind == "Secret":
            assert not obj.doc.get("data") and not obj.doc.get("stringData"), where
    assert findings == []
    # API keys come from External Secrets (Vault or the Password generator), never literals.
    assert kinds["ExternalSecret"] > 0 and kinds["Secret"] == 0, kinds


# --- negative controls ---------------------------------------------------------------------------


def _random_token(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def planted_secrets() -> list[tuple[str, str]]:
    rng = random.Random(9)
    b64 = string.ascii_letters + string.digits + "+/"
    return [
        ("AWS access key", "AKIA" + _random_token(rng, string.ascii_uppercase + string.digits, 16)),
        ("GitHub token", "ghp_" + _random_token(rng, string.ascii_letters + string.digits, 36)),
        ("Slack token", "xoxb-" + _random_token(rng, string.digits, 12)),
        ("private key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("credentials in a URL", "https://deploy:" + _random_token(rng, b64[:62], 12) + "@git"),
        ("password or token flag", "--api-key=" + _random_token(rng, b64[:62], 8)),
        ("high-entropy token", _random_token(rng, b64, 40)),
        ("hex string", _random_token(rng, "0123456789abcdef", 64)),
    ]


@pytest.mark.parametrize(
    ("kind", "secret"), planted_secrets(), ids=[k for k, _ in planted_secrets()]
)
def test_scanner_finds_a_planted_secret(
    example: tuple[Fleet, dict[str, bytes]], kind: str, secret: str
) -> None:
    fleet, files = example
    path = f"{layout.app_dir('dev', 'dev-a', 'qwen2-5-0-5b-instruct')}/kustomization.yaml"
    text = files[path].decode()
    anchor = '"value": "--max-num-seqs=64"'
    assert anchor in text
    planted = text.replace(anchor, f'"value": {json.dumps(secret)}')
    findings = scan_file(path, planted.encode(), known_digests(fleet))
    assert kind in {f.kind for f in findings}, findings
    assert all(secret.startswith(f.token) or f.token in secret for f in findings), findings


def test_scanner_finds_a_secret_that_passes_validate(tmp_path: Path) -> None:
    """End to end: a random key pasted into a descriptor's storageUri passes validate
    (FG602 knows credential shapes, not entropy) and is caught in the generated tree."""
    from tests.strategies import edited, render_doc, tiny_doc

    root = copy_example(tmp_path / "repo")
    rng = random.Random(11)
    secret = _random_token(rng, string.ascii_letters + string.digits, 40)
    uri = f"s3://models/{secret}/qwen"
    doc = edited(tiny_doc(), {("spec", "model", "storageUri"): uri})
    (root / "fleet" / "tiny.yaml").write_text(render_doc(doc))
    assert app.validate(app.ValidateOptions(root)).errors == ()
    fleet, _ = load_fleet(root)
    files = dict(build_plan(fleet).with_manifest())
    findings = [
        f
        for path, data in files.items()
        if path != layout.MANIFEST
        for f in scan_file(path, data, known_digests(fleet))
    ]
    assert findings, "the planted key was not found"
    assert all(secret in f.token for f in findings), findings
    assert {f.where for f in findings} == {
        f"{layout.app_dir('dev', 'dev-a', 'tiny')}/kustomization.yaml"
    }


def test_entropy_thresholds_leave_room_for_real_names(
    example: tuple[Fleet, dict[str, bytes]],
) -> None:
    """Control on false positives: the busiest identifiers of the tree sit well below."""
    _, files = example
    tokens = {t for data in files.values() for t in TOKEN.findall(data.decode())}
    assert max(entropy(t) for t in tokens if not HEX.fullmatch(t)) < BASE64_BITS - 0.05
