"""The compiled pre-check never calls a document valid that jsonschema refuses.

Differential: every rendered object of the example repository, and thousands of mutants of
them (each value replaced by values of other types, unknown keys added, keys removed), go
through both the compiled pre-check and the jsonschema validator of the same kind.
"""

from __future__ import annotations

import copy
import itertools
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from fleetgen.kube.defaulting import apply_defaults
from fleetgen.kube.fast_check import FastCheckCompiler, _literal_class_dollars
from fleetgen.kube.schema_store import SchemaStore, _gvk
from fleetgen.loading import schema
from fleetgen.loading.load import load_fleet
from fleetgen.loading.yaml_source import ParsedFile, parse
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.build import render_fleet
from tests.conftest import REPO, crds_dir

REPLACEMENTS: tuple[Any, ...] = (True, 0, 7, -1, 1.5, "x", "", None, [], {}, "1Gi", [1], 403)


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return SchemaStore.load([crds_dir()], fast_check_after=0)


@pytest.fixture(scope="module")
def samples() -> dict[tuple[str, str], dict[str, Any]]:
    """One rendered object of every kind in the example repository."""
    fleet, problems = load_fleet(REPO)
    assert not problems
    rendered = render_fleet(REPO, build_plan(fleet).files)
    assert not rendered.failures
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in rendered.objects:
        found.setdefault((str(obj.doc["apiVersion"]), obj.kind), obj.doc)
    return found


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    mutant = copy.deepcopy(doc)
    parent = mutant
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return mutant


def mutants(doc: dict[str, Any]) -> Iterator[Any]:
    yield doc
    for path in _paths(doc):
        if path[:2] in (("apiVersion",), ("kind",)):
            continue  # another kind's document: not this validator's question
        parent: Any = doc
        for part in path:
            parent = parent[part]
        for value in REPLACEMENTS:
            if value != parent or type(value) is not type(parent):
                yield _set(doc, path, value)
        if isinstance(parent, dict):
            yield _set(doc, path, {**parent, "zzUnknownField": "x"})
            for key in parent:
                yield _set(doc, path, {k: v for k, v in parent.items() if k != key})
        if isinstance(parent, list) and parent:
            yield _set(doc, path, parent[:-1])
            yield _set(doc, path, [*parent, parent[0]])


def test_never_valid_where_jsonschema_refuses(
    store: SchemaStore, samples: dict[tuple[str, str], dict[str, Any]]
) -> None:
    checked_kinds = 0
    verdicts = {"valid": 0, "invalid": 0, "stricter": 0}
    for (api, kind), doc in sorted(samples.items()):
        validator = store.validator_for(api, kind)
        assert validator is not None, f"no schema for {api}/{kind}"
        fast = store._fast_check(api, kind, validator)
        if fast is None:
            continue  # jsonschema alone validates this kind
        checked_kinds += 1
        for mutant in mutants(doc):
            _tally(verdicts, kind, fast(mutant), validator, mutant)
    assert checked_kinds >= 10, "the pre-check should cover most kinds"
    _assert_mostly_agree(verdicts, invalid_at_least=1000)


def _tally(verdicts: dict[str, int], kind: str, verdict: bool, reference: Any, mutant: Any) -> None:
    """Count one verdict against jsonschema's; never "valid" where jsonschema refuses."""
    expected = reference.is_valid(mutant)
    assert not (verdict and not expected), (
        f"{kind}: pre-check accepts what jsonschema refuses: "
        f"{[e.message for e in reference.iter_errors(mutant)][:3]}"
    )
    verdicts[("valid" if verdict else "invalid") if verdict == expected else "stricter"] += 1


def _assert_mostly_agree(verdicts: dict[str, int], invalid_at_least: int) -> None:
    # Both outcomes occur, and disagreements (pre-check stricter, jsonschema decides) are rare.
    assert verdicts["valid"] > 100 and verdicts["invalid"] > invalid_at_least, verdicts
    assert verdicts["stricter"] <= verdicts["invalid"] // 100, verdicts


def test_never_valid_where_jsonschema_refuses_after_defaulting(
    store: SchemaStore, samples: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """The documents both actually see: defaulted first, as the API server does."""
    verdicts = {"valid": 0, "invalid": 0, "stricter": 0}
    defaulted_any = 0
    for (api, kind), doc in sorted(samples.items()):
        validator = store.validator_for(api, kind)
        crd = store._crd_schema(_gvk(api, kind))
        fast = store._fast_check(api, kind, validator) if validator is not None else None
        if fast is None or crd is None:
            continue
        for mutant in itertools.islice(mutants(doc), 0, None, 2):
            result = apply_defaults(mutant, crd)
            defaulted_any += bool(result.paths)
            _tally(verdicts, kind, fast(result.value), validator, result.value)
    assert defaulted_any > 100, "mutants should exercise defaults"
    _assert_mostly_agree(verdicts, invalid_at_least=500)


FORMAT_VALUES = (
    "2026-12-07T12:00:00Z",
    "2026-12-07",
    "2026-02-30T00:00:00Z",
    "aGVsbG8=",
    "hello",
    "",
    "https://a.example/x",
    "relative",
    "10.0.0.1",
    "010.0.0.1",
    "fd00::1",
    "::ffff:10.0.0.1",
)


def test_formats_are_asserted_alike(store: SchemaStore) -> None:
    """Every string of a Gateway (addresses: ipv4/ipv6 in a oneOf) and a Certificate
    (date-time, byte) replaced by values of every format, valid and not."""
    docs = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "g", "namespace": "n"},
            "spec": {
                "gatewayClassName": "eg",
                "addresses": [{"type": "IPAddress", "value": "10.0.0.1"}, {"value": "x"}],
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "c", "namespace": "n"},
            "spec": {
                "secretName": "s",
                "issuerRef": {"name": "i"},
                "dnsNames": ["a.example"],
                "keystores": {"pkcs12": {"create": True, "password": "p"}},
            },
        },
    ]
    verdicts = {"valid": 0, "invalid": 0, "stricter": 0}
    for doc in docs:
        api, kind = doc["apiVersion"], doc["kind"]
        validator = store.validator_for(api, kind)
        assert validator is not None
        fast = store._fast_check(api, kind, validator)
        assert fast is not None
        for path in _paths(doc):
            for value in FORMAT_VALUES:
                mutant = _set(doc, path, value)
                _tally(verdicts, kind, fast(mutant), validator, mutant)
    assert verdicts["valid"] > 20 and verdicts["invalid"] > 20, verdicts
    assert verdicts["stricter"] == 0, verdicts


def test_every_asserted_format_compiles_to_the_same_verdicts() -> None:
    from fleetgen.kube.formats import FORMAT_CHECKS
    from fleetgen.kube.schema_store import _CrdValidator

    for name in FORMAT_CHECKS:
        schema = {"properties": {"v": {"type": "string", "format": name}}}
        check = FastCheckCompiler().compile(schema, formats=True)
        ignoring = FastCheckCompiler().compile(schema, formats=False)
        assert check is not None and ignoring is not None
        reference = _CrdValidator(schema)
        for value in (*FORMAT_VALUES, "#fff", "rgb(1,2,3)", "0a1b2c3d-0000-4000-8000-00000000000a"):
            assert check({"v": value}) == reference.is_valid({"v": value}), (name, value)
            assert ignoring({"v": value})  # a core kind's schema: formats are not asserted


def test_store_reports_the_same_violations_with_and_without_the_pre_check(
    samples: dict[tuple[str, str], dict[str, Any]],
) -> None:
    with_check = SchemaStore.load([crds_dir()], fast_check_after=0)
    without = SchemaStore.load([crds_dir()], fast_check_after=10**9)
    broken = 0
    for doc in samples.values():
        for mutant in list(mutants(doc))[:40]:
            if not isinstance(mutant, dict):
                continue
            got = with_check.validate(mutant, cel=True)
            assert got == without.validate(mutant, cel=True)
            broken += bool(got)
    assert broken > 50


def test_pre_check_waits_for_enough_documents_of_a_kind(
    samples: dict[tuple[str, str], dict[str, Any]],
) -> None:
    store = SchemaStore.load([crds_dir()], fast_check_after=3)
    api, kind = min(samples)
    validator = store.validator_for(api, kind)
    assert validator is not None
    assert [store._fast_check(api, kind, validator) for _ in range(3)] == [None] * 3
    assert store._fast_check(api, kind, validator) is not None


def _agree(schema: dict[str, Any], values: list[Any]) -> list[tuple[bool, bool]]:
    check = FastCheckCompiler().compile(schema)
    assert check is not None
    reference = jsonschema.Draft202012Validator(schema)
    return [(check(v), reference.is_valid(v)) for v in values]


def test_numeric_enum_refuses_booleans_like_jsonschema() -> None:
    for fast, reference in _agree({"enum": [0, 1, 403]}, [True, False, 1, 1.0, 403, "1"]):
        assert fast == reference


def test_ref_siblings_still_apply() -> None:
    schema = {
        "$defs": {"name": {"type": "string"}},
        "properties": {"n": {"$ref": "#/$defs/name", "maxLength": 3}},
    }
    assert _agree(schema, [{"n": "abc"}, {"n": "abcd"}, {"n": 1}]) == [
        (True, True),
        (False, False),
        (False, False),
    ]


def test_dollar_inside_a_character_class_stays_literal() -> None:
    pattern = "^[A-Za-z0-9!#$%&]+$"
    assert _literal_class_dollars(pattern) == "^[A-Za-z0-9!#\\$%&]+$"
    assert _literal_class_dollars("^[]$]$") == "^[]\\$]$"
    assert _literal_class_dollars("^a\\[$") == "^a\\[$"
    assert _agree({"pattern": pattern}, ["a$b", "a b"]) == [(True, True), (False, False)]


@pytest.mark.parametrize(
    "schema",
    [
        {"multipleOf": 0.1},  # float arithmetic differs
        {"enum": [True]},  # True == 1 in Python
        {"enum": [[1]]},
        {"prefixItems": [{"type": "string"}]},  # unknown keyword
        {"items": [{"type": "string"}]},
        {"exclusiveMinimum": True},  # draft-04 form
        {"const": 1},  # Python's == makes True equal 1
        {"const": ["x"]},
        {"pattern": "(?<!x"},  # Python cannot compile it
    ],
)
def test_unsupported_schemas_get_no_pre_check(schema: dict[str, Any]) -> None:
    if "pattern" in schema:
        # An uncompilable pattern is skipped by jsonschema too; the rest still compiles.
        check = FastCheckCompiler().compile({**schema, "type": "string"})
        assert check is not None and check("anything") and not check(1)
        return
    assert FastCheckCompiler().compile(schema) is None


def test_remote_references_are_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert FastCheckCompiler().compile({"$ref": "http://127.0.0.1:9/schema.json"}) is None
    documents = {"https://example.invalid/defs.json": {"$defs": {"x": {"type": "string"}}}}
    check = FastCheckCompiler(documents).compile(
        {"$ref": "https://example.invalid/defs.json#/$defs/x"}
    )
    assert check is not None and check("a") and not check(1)


def test_compiled_code_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path))
    schema = {"properties": {"a": {"type": "integer"}}}
    first = FastCheckCompiler().compile(schema)
    cached = list(tmp_path.rglob("*.marshal"))
    assert len(cached) == 1
    second = FastCheckCompiler().compile(schema)
    assert first is not None and second is not None
    assert [second({"a": 1}), second({"a": "1"})] == [True, False]
    cached[0].write_bytes(b"not marshal data")  # a damaged cache entry is rebuilt
    third = FastCheckCompiler().compile(schema)
    assert third is not None and not third({"a": "1"})


def test_odd_input_falls_back_to_jsonschema() -> None:
    check = FastCheckCompiler().compile({"patternProperties": {"^a": {"type": "string"}}})
    assert check is not None
    assert check({"ab": "x"}) and not check({"ab": 1})
    assert check({1: "x"}) is False  # a YAML integer key: not the pre-check's call


def _input_docs(kind: str) -> list[dict[str, Any]]:
    folder = {"descriptor": "fleet", "environment": "environments"}[kind]
    return [yaml.safe_load(p.read_text()) for p in sorted((REPO / folder).rglob("*.yaml"))]


def _string_mutants(doc: dict[str, Any]) -> Iterator[Any]:
    """Every string, key or value, with a final newline or a stray character: patterns
    anchored with `$` must refuse both, as jsonschema (ECMA-262 `$`) does."""
    for path in _paths(doc):
        parent: Any = doc
        for part in path:
            parent = parent[part]
        if isinstance(parent, str):
            for suffix in ("\n", " ", "_", "-"):
                yield _set(doc, path, parent + suffix)
        if isinstance(parent, dict):
            for key in parent:
                for suffix in ("\n", "_"):
                    renamed = {(k + suffix if k == key else k): v for k, v in parent.items()}
                    yield _set(doc, path, renamed)


@pytest.mark.parametrize("kind", schema.SCHEMA_NAMES)
def test_input_pre_check_never_passes_what_jsonschema_refuses(kind: schema.SchemaName) -> None:
    """The descriptor and environment schemas: every example file and its mutants,
    apiVersion and kind included."""
    fast = schema._pre_check(kind)
    assert fast is not None, f"the {kind} schema should get a pre-check"
    reference = schema._validator(kind)
    verdicts = {"valid": 0, "invalid": 0, "stricter": 0}
    for doc in _input_docs(kind):
        for top in ("apiVersion", "kind"):
            assert not fast(_set(doc, (top,), doc[top] + "x"))
        # Environment files are large: every third mutant keeps the run to seconds.
        step = 3 if kind == "environment" else 1
        every = itertools.chain(mutants(doc), _string_mutants(doc))
        for mutant in itertools.islice(every, 0, None, step):
            _tally(verdicts, kind, fast(mutant), reference, mutant)
    _assert_mostly_agree(verdicts, invalid_at_least=500)


def test_loading_reports_the_same_problems_with_and_without_the_pre_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Invalid mutants of a descriptor get identical diagnostics either way: the pre-check
    only ever answers "valid"."""
    text = (REPO / "fleet" / "llama-3-1-8b-instruct.yaml").read_text()
    variants = [
        text,
        text.replace("maxNumSeqs: 32", "maxNumSeqs: many"),
        text.replace("team: search", "team: 7"),
        text.replace("maxModelLen: 8192", "maxModelLen: -1"),
        text.replace("kind: ModelDeployment", "kind: ModelDeploymnt"),
    ]
    parsed = [parse(v.encode(), "fleet/x.yaml") for v in variants]
    with_check = [schema.validate(p, "descriptor") for p in parsed if isinstance(p, ParsedFile)]
    monkeypatch.setattr(schema, "_pre_check", lambda name: None)
    without = [schema.validate(p, "descriptor") for p in parsed if isinstance(p, ParsedFile)]
    assert with_check == without
    assert with_check[0] == [] and all(with_check[1:]), with_check
