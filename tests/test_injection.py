"""Injection (issue 9): hostile values are rejected with a located diagnostic or stay inert.

Each case edits the clean descriptor fleet/tiny.yaml (or an environment file) of a copy of
the example repository. A rejection is asserted as exact (code, line, column) triples in the
edited file, with positions taken from PyYAML's composer, independently of fleetgen's own
position index. "Inert" is asserted on the generated files: the value round-trips exactly,
adds no document, key or template expression, and nothing else changes.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgen import app
from fleetgen.core.diagnostics import Report
from fleetgen.domain import layout
from fleetgen.loading.fleet import placements
from fleetgen.loading.load import load_fleet
from fleetgen.loading.schema import schema
from fleetgen.render.fileplan import build_plan
from tests.conftest import RunCli
from tests.strategies import (
    JsonPathT,
    dump_descriptor,
    edited,
    mark_of,
    render_doc,
    retyped_plain_scalars,
    string_fields,
    tiny_doc,
)

TINY = "fleet/tiny.yaml"
DEV = "environments/dev/environment.yaml"
DNS_LABEL = re.compile(r"\A[a-z]([-a-z0-9]*[a-z0-9])?\Z")
ARGO_TEMPLATE = {"{{ .app }}", "{{ .model }}", "{{ .team }}", "{{ .path.path }}"}
# A set that rolls out over several clusters also reads the cluster's name and server from the
# values fleetgen fixes on each cluster's generator.
ROLLOUT_TEMPLATE = ARGO_TEMPLATE | {"{{ .values.cluster }}", "{{ .values.server }}"}

# A valid value for every string field of the descriptor schema (kept complete by
# test_every_string_field_is_covered). Array items are addressed by index 0.
VALID: dict[JsonPathT, str] = {
    ("metadata", "name"): "tiny",
    ("metadata", "team"): "platform",
    ("metadata", "contact"): "llm-platform@example.com",
    ("metadata", "description"): "A small model.",
    ("spec", "model", "catalog"): "qwen2.5-0.5b-instruct",
    ("spec", "model", "storageUri"): "hf://Qwen/Qwen2.5-0.5B-Instruct",
    ("spec", "model", "servedName"): "tiny",
    ("spec", "model", "aliases", 0): "tiny-alias",
    ("spec", "model", "revision"): "7ae5576",
    ("spec", "runtime", "image"): "vllm/vllm-openai:v0.11.2",
    ("spec", "runtime", "vllmVersion"): "0.11.2",
    ("spec", "runtime", "extraArgs", 0): "--max-num-batched-tokens=8192",
    ("spec", "resources", "gpuPool"): "l4",
    ("spec", "resources", "gpuType"): "L4-24GB",
    ("spec", "resources", "cpu"): "4",
    ("spec", "resources", "memory"): "16Gi",
    ("spec", "autoscaling", "metric"): "vllm:num_requests_waiting",
    ("spec", "gateway", "tenants", 0, "name"): "search",
    ("spec", "cache", "size"): "10Gi",
    ("spec", "kvCache", "shared", "memory"): "16Gi",
    ("spec", "environments", "dev", "clusters", 0): "dev-a",
    ("spec", "environments", "dev", "gpuPool"): "l4",
    ("spec", "environments", "dev", "image"): "vllm/vllm-openai:v0.11.2",
    ("spec", "serving", "baseRefs", 0): "kserve-config-llm-template",
    ("spec", "serving", "pool"): "tiny-pool",
}
NAME_FIELDS = {
    ("metadata", "name"),
    ("metadata", "team"),
    ("spec", "resources", "gpuPool"),
    ("spec", "gateway", "tenants", 0, "name"),
    ("spec", "environments", "dev", "clusters", 0),
    ("spec", "environments", "dev", "gpuPool"),
    ("spec", "serving", "baseRefs", 0),
    ("spec", "serving", "pool"),
}
_ITEM_EXTRAS: Mapping[JsonPathT, dict[str, Any]] = {
    ("spec", "gateway", "tenants"): {"tokens": 1000},
}


def field_edits(path: JsonPathT, value: Any) -> dict[JsonPathT, Any]:
    """Edits that put `value` at `path`, creating the one-item list an index 0 needs."""
    if 0 not in path:
        return {path: value}
    index = path.index(0)
    list_path, rest = path[:index], path[index + 1 :]
    if not rest:
        return {list_path: [value]}
    assert len(rest) == 1
    return {list_path: [{str(rest[0]): value, **_ITEM_EXTRAS.get(list_path, {})}]}


def pid(path: JsonPathT) -> str:
    return ".".join(str(p) for p in path)


def validate_text(root: Path, text: str, rel: str = TINY) -> Report:
    (root / rel).write_text(text, encoding="utf-8")
    return app.validate(app.ValidateOptions(root))


def located(report: Report, rel: str = TINY) -> set[tuple[str, int, int]]:
    return {
        (d.code, d.location.line, d.location.column)
        for d in report.errors
        if d.location.file == rel
    }


def plan_files(root: Path) -> dict[str, bytes]:
    fleet, problems = load_fleet(root)
    assert not [p for p in problems if p.severity.value == "error"], problems
    return dict(build_plan(fleet).with_manifest())


# --- the field table is complete -------------------------------------------------------------


def test_every_string_field_is_covered() -> None:
    fields = string_fields(
        schema("descriptor"), keep=lambda s: "enum" not in s and "const" not in s
    )
    assert set(fields) == set(VALID)


@pytest.mark.parametrize("path", list(VALID), ids=pid)
def test_valid_values_are_accepted(example_repo: Path, path: JsonPathT) -> None:
    """Control for the cases below: the field's plain valid value raises nothing."""
    text = render_doc(edited(tiny_doc(), field_edits(path, VALID[path])))
    assert validate_text(example_repo, text).errors == ()


# --- names ---------------------------------------------------------------------------------

BAD_NAMES = {
    "dotdot": "../evil",
    "slash": "a/b",
    "uppercase": "Tiny",
    "cyrillic-a": "tаny",  # U+0430
    "cyrillic-i": "tіny",  # U+0456
    "fullwidth": "ｔiny",
    "zero-width": "ti\u200bny",
    "space": "ti ny",
    "trailing-dash": "tiny-",
    "too-long": "a" * 64,
}


@pytest.mark.parametrize("path", sorted(NAME_FIELDS), ids=pid)
@pytest.mark.parametrize("bad", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_names_are_rejected(example_repo: Path, path: JsonPathT, bad: str) -> None:
    text = render_doc(edited(tiny_doc(), field_edits(path, bad)))
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text)) == {("FG105", line, column)}


@pytest.mark.parametrize("bad", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_environment_keys_are_rejected(example_repo: Path, bad: str) -> None:
    doc = tiny_doc()
    doc["spec"]["environments"] = {bad: {}}
    text = render_doc(doc)
    line, column = mark_of(text, ("spec", "environments", bad), key=True)
    assert located(validate_text(example_repo, text)) == {("FG105", line, column)}


ENV_NAME_FIELDS: list[JsonPathT] = [
    ("spec", "namespace"),
    ("spec", "argocd", "project"),
    ("spec", "clusters", 0, "name"),
    ("spec", "clusters", 0, "pools", 0, "name"),
    ("spec", "tenants", 0, "name"),
    ("spec", "gateway", "namespace"),
]


def edited_environment(root: Path, path: JsonPathT, change: Callable[[Any], Any]) -> str:
    """The dev environment file's text with the value at `path` set to change(old value);
    the old value of a key not set yet is None."""
    env = yaml.safe_load((root / DEV).read_text())
    node: Any = env
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = change(node.get(path[-1]) if isinstance(node, dict) else node[path[-1]])
    return dump_descriptor(env)


@pytest.mark.parametrize("path", ENV_NAME_FIELDS, ids=pid)
@pytest.mark.parametrize("bad", ["../kube-system", "Dev", "dеv"], ids=["dotdot", "upper", "cyr"])
def test_bad_names_in_environment_files_are_rejected(
    example_repo: Path, path: JsonPathT, bad: str
) -> None:
    text = edited_environment(example_repo, path, lambda _: bad)
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text, DEV), DEV) == {("FG105", line, column)}


# --- Argo CD goTemplate ----------------------------------------------------------------------

TEMPLATES = ["{{ .path.path }}", "{{ .app }}", '{{ (index .values "x") }}']


@pytest.mark.parametrize("path", list(VALID), ids=pid)
@pytest.mark.parametrize("template", TEMPLATES, ids=["path", "app", "index"])
def test_go_templates_are_rejected_in_every_string_field(
    example_repo: Path, path: JsonPathT, template: str
) -> None:
    text = render_doc(edited(tiny_doc(), field_edits(path, template)))
    line, column = mark_of(text, path)
    code = "FG105" if path in NAME_FIELDS else "FG107"
    assert located(validate_text(example_repo, text)) == {(code, line, column)}


ENV_TEMPLATE_FIELDS: list[JsonPathT] = [
    ("spec", "argocd", "repoURL"),
    ("spec", "argocd", "targetRevision"),
    ("spec", "argocd", "project"),
    ("spec", "namespace"),
    ("spec", "clusters", 0, "server"),
    ("spec", "clusters", 0, "name"),
]


@pytest.mark.parametrize("path", ENV_TEMPLATE_FIELDS, ids=pid)
def test_go_templates_are_rejected_where_environments_feed_the_applicationset(
    example_repo: Path, path: JsonPathT
) -> None:
    text = edited_environment(example_repo, path, lambda _: "{{ .path.path }}")
    codes = {code for code, *_ in located(validate_text(example_repo, text, DEV), DEV)}
    assert codes and codes <= {"FG105", "FG107"}, codes


def test_applicationset_template_is_fixed_and_app_json_holds_plain_names(
    example_repo: Path,
) -> None:
    """The template's only parameters are app.json's three names and the file's path (and,
    in a rollout set, the cluster and server fleetgen writes on each generator)."""
    files = plan_files(example_repo)
    appsets = [p for p in files if p.count("/") == 1 and p.endswith(".yaml")]
    appsets = [
        p
        for p in appsets
        if any(d["kind"] == "ApplicationSet" for d in yaml.safe_load_all(files[p]))
    ]
    # dev and staging: one set per cluster; prod rolls out over both of its clusters.
    assert sorted(appsets) == [
        "applicationsets/dev-dev-a.yaml",
        "applicationsets/prod-models.yaml",
        "applicationsets/staging-staging-a.yaml",
    ]
    fleet, _ = load_fleet(example_repo)
    for path in appsets:
        text = files[path].decode()
        doc = yaml.safe_load(text)
        spec = doc["spec"]
        rolling = "strategy" in spec
        expected = ROLLOUT_TEMPLATE if rolling else ARGO_TEMPLATE
        assert set(re.findall(r"\{\{.*?\}\}", text)) == expected, path
        assert spec["goTemplate"] is True and "missingkey=error" in spec["goTemplateOptions"]
        fixed = spec["template"]["spec"]
        for value in (
            fixed["project"],
            fixed["destination"]["namespace"],
            fixed["source"]["repoURL"],
            fixed["source"]["targetRevision"],
        ):
            assert "{{" not in value, (path, value)
        if not rolling:
            assert "{{" not in fixed["destination"]["server"], path
            continue
        # The generator values are the environment's own cluster names and servers.
        env = fleet.environments[doc["metadata"]["labels"]["fleetgen.dev/environment"]]
        assert [g["git"]["values"] for g in spec["generators"]] == [
            {"cluster": c.name, "server": c.server} for c in env.clusters
        ]
    apps = [p for p in files if p.endswith("/" + layout.APP_FILE)]
    assert len(apps) == len(list(placements(fleet))) == 12
    for path in apps:
        record = json.loads(files[path])
        assert set(record) == {"app", "model", "team"}, path
        assert all(DNS_LABEL.match(v) for v in record.values()), record


# --- newlines, document markers, quotes, anchors ---------------------------------------------

YAML_SPECIALS = [
    "---",
    "...",
    "--- !!python/object:os.system",
    "a: b",
    "'single'",
    '"double"',
    "&anchor *alias",
    "# not a comment",
    "%YAML 1.1",
    "key: [1, 2]",
    "| block",
    "> folded",
    "@at `tick`",
    "tab\there",
    "carriage\rreturn",
    "line\u2028separator",
    "next\x85line",
    "bom\ufeffin the middle",
]


@pytest.mark.parametrize("value", YAML_SPECIALS, ids=repr)
@pytest.mark.parametrize("field", ["description", "contact"])
def test_free_text_is_accepted_and_never_rendered(
    example_repo: Path, field: str, value: str
) -> None:
    """description/contact accept YAML syntax as data; no generated byte depends on them."""
    if field == "contact":
        value = value.replace(" ", "_").replace("\t", "_")
        value = re.sub(r"[\r\u2028\x85]", "_", value)
    baseline = render_doc(tiny_doc())
    validate_text(example_repo, baseline)
    before = plan_files(example_repo)
    text = render_doc(edited(tiny_doc(), {("metadata", field): value}))
    assert validate_text(example_repo, text).errors == ()
    assert plan_files(example_repo) == before


ROUND_TRIPS: list[tuple[JsonPathT, str]] = [
    (("spec", "model", "servedName"), "org/model:v1.0"),
    (("spec", "model", "servedName"), "x---y...z"),
    (("spec", "model", "servedName"), "a:b"),
    (("spec", "model", "aliases", 0), "m:latest"),
    (("spec", "model", "storageUri"), "hf://org/m~1=a+b/---/..."),
    (("spec", "model", "storageUri"), "s3://bucket/a=b+c~d"),
    (("spec", "model", "revision"), "v1---x..y"),
    (("spec", "runtime", "extraArgs", 0), "--chat-template=%YAML"),
    (
        ("spec", "runtime", "extraArgs", 0),
        "--allowed-origins=https://a.example.com:8443,https://b@c",
    ),
]


def _app_kustomization(root: Path) -> tuple[str, dict[str, Any]]:
    rel = f"{layout.app_dir('dev', 'dev-a', 'tiny')}/kustomization.yaml"
    text = plan_files(root)[rel].decode()
    docs = list(yaml.safe_load_all(text))
    assert len(docs) == 1
    return text, docs[0]


def _ops(kustomization: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in kustomization["patches"]:
        assert set(entry) == {"target", "patch"}
        ops = list(yaml.safe_load_all(entry["patch"]))
        assert len(ops) == 1 and isinstance(ops[0], list)
        for op in ops[0]:
            assert set(op) <= {"op", "path", "value"}, op
        out.extend(ops[0])
    return out


def _values(ops: list[dict[str, Any]]) -> list[Any]:
    found: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            found.append(value)

    for op in ops:
        walk(op.get("value"))
    return found


@pytest.mark.parametrize(("path", "value"), ROUND_TRIPS, ids=[v for _, v in ROUND_TRIPS])
def test_rendered_values_round_trip_exactly(
    example_repo: Path, path: JsonPathT, value: str
) -> None:
    baseline = render_doc(tiny_doc())
    validate_text(example_repo, baseline)
    _, before = _app_kustomization(example_repo)
    text = render_doc(edited(tiny_doc(), field_edits(path, value)))
    assert validate_text(example_repo, text).errors == ()
    rendered, after = _app_kustomization(example_repo)
    assert set(after) == set(before)
    assert len(after["patches"]) == len(before["patches"])
    values = _values(_ops(after))
    assert value in values, values  # exactly, as one whole value
    assert retyped_plain_scalars(rendered) == []


NUMERIC_LOOKING: list[tuple[JsonPathT, str]] = [
    (("spec", "model", "servedName"), "1e3"),
    (("spec", "model", "aliases", 0), "0o17"),
    (("spec", "model", "aliases", 0), "12e-3"),
    (("spec", "model", "revision"), "1e3"),
    (("spec", "model", "revision"), "123456e7"),
]


@pytest.mark.parametrize(
    ("path", "value"), NUMERIC_LOOKING, ids=[f"{p[-1]}={v}" for p, v in NUMERIC_LOOKING]
)
def test_yaml12_numeric_strings_round_trip(example_repo: Path, path: JsonPathT, value: str) -> None:
    """Strings a YAML 1.2 reader (kustomize, Argo CD) would take for numbers stay strings."""
    text = render_doc(edited(tiny_doc(), field_edits(path, value)))
    assert validate_text(example_repo, text).errors == ()
    rendered, kustomization = _app_kustomization(example_repo)
    assert retyped_plain_scalars(rendered) == []
    assert value in _values(_ops(kustomization))


def test_revision_survives_a_real_kustomize_build(example_repo: Path) -> None:
    text = render_doc(edited(tiny_doc(), {("spec", "model", "revision"): "1e3"}))
    assert validate_text(example_repo, text).errors == ()
    docs = list(yaml.safe_load_all(app.render(example_repo, "tiny", "dev", None)))
    isvc = next(d for d in docs if d["kind"] == "InferenceService")
    assert isvc["metadata"]["annotations"]["fleetgen.dev/model-revision"] == "1e3"


def test_short_sha_target_revision_stays_a_string(example_repo: Path) -> None:
    from ruamel.yaml import YAML

    env = yaml.safe_load((example_repo / DEV).read_text())
    env["spec"]["argocd"]["targetRevision"] = "8e12345"
    assert validate_text(example_repo, dump_descriptor(env), DEV).errors == ()
    files = plan_files(example_repo)
    yaml12 = YAML(typ="safe", pure=True)
    for path in (
        layout.applicationset_file("dev", "dev-a"),
        layout.cluster_apps_file("dev", "dev-a"),
    ):
        text = files[path].decode()
        assert retyped_plain_scalars(text) == [], path
        assert "8e12345" in str(list(yaml12.load_all(text))), path


@pytest.mark.parametrize("path", list(VALID), ids=pid)
def test_trailing_newline_is_rejected(example_repo: Path, path: JsonPathT) -> None:
    """Python's `$` also matches before a final newline (ECMA-262's does not): without the
    ECMA reading of `pattern`, 'platform\\n' passed as a team and reached app.json."""
    text = render_doc(edited(tiny_doc(), field_edits(path, VALID[path] + "\n")))
    line, _ = mark_of(text, path)
    report = validate_text(example_repo, text)
    assert line in {line for _, line, _ in located(report)}, [str(d) for d in report.errors]


ENV_NEWLINE_FIELDS: list[JsonPathT] = [
    ("spec", "namespace"),
    ("spec", "argocd", "repoURL"),
    ("spec", "argocd", "targetRevision"),
    ("spec", "clusters", 0, "server"),
]


@pytest.mark.parametrize("path", ENV_NEWLINE_FIELDS, ids=pid)
def test_trailing_newline_is_rejected_in_environment_files(
    example_repo: Path, path: JsonPathT
) -> None:
    text = edited_environment(example_repo, path, lambda value: value + "\n")
    line, _ = mark_of(text, path)
    report = validate_text(example_repo, text, DEV)
    assert line in {line for _, line, _ in located(report, DEV)}


def test_newline_inside_a_value_is_rejected(example_repo: Path) -> None:
    """An embedded newline was always caught; only a trailing one slipped through."""
    path = ("spec", "model", "servedName")
    text = render_doc(edited(tiny_doc(), {path: "tiny\nx"}))
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text)) == {("FG107", line, column)}


# --- a descriptor reaching for platform settings ---------------------------------------------

UNKNOWN_KEYS: list[tuple[JsonPathT, Any]] = [
    (("metadata", "namespace"), "kube-system"),
    (("spec", "namespace"), "kube-system"),
    (("spec", "project"), "default"),
    (("spec", "destination"), {"server": "https://kubernetes.default.svc"}),
    (("spec", "environments", "dev", "namespace"), "kube-system"),
    (("spec", "environments", "dev", "server"), "https://evil.example.com"),
    (("spec", "environments", "dev", "project"), "default"),
    (("spec", "runtime", "securityContext"), {"privileged": True}),
    (("spec", "runtime", "privileged"), True),
    (("spec", "runtime", "command"), ["sh", "-c", "id"]),
    (("spec", "runtime", "env"), [{"name": "X", "value": "y"}]),
    (("spec", "resources", "hostPath"), "/var/lib"),
    (("spec", "resources", "hostNetwork"), True),
    (("spec", "resources", "volumes"), [{"hostPath": {"path": "/"}}]),
    (("spec", "resources", "nodeSelector"), {"kubernetes.io/hostname": "x"}),
    (("spec", "extraObjects"), [{"kind": "ClusterRoleBinding"}]),
    (("spec", "manifests"), "apiVersion: v1\nkind: Secret\n"),
    (("app",), "prod-prod-a-evil"),
    (("template",), {"spec": {"project": "default"}}),
]


@pytest.mark.parametrize(("path", "value"), UNKNOWN_KEYS, ids=[pid(p) for p, _ in UNKNOWN_KEYS])
def test_platform_settings_are_unknown_keys(
    example_repo: Path, path: JsonPathT, value: Any
) -> None:
    text = render_doc(edited(tiny_doc(), {path: value}))
    line, column = mark_of(text, path, key=True)
    assert located(validate_text(example_repo, text)) == {("FG101", line, column)}


@pytest.mark.parametrize("key", ["path", "values"])
def test_argocd_generator_keys_are_refused(example_repo: Path, key: str) -> None:
    text = render_doc(edited(tiny_doc(), {(key,): {"path": "../../prod"}}))
    line, column = mark_of(text, (key,), key=True)
    assert located(validate_text(example_repo, text)) == {("FG604", line, column)}


IMAGES = [
    (("spec", "runtime", "image"), "evil.example.com/vllm/vllm-openai:v0.11.2", "FG509"),
    (("spec", "runtime", "image"), "docker.io/vllm/vllm-openai:v0.11.2", "FG509"),
    (("spec", "runtime", "image"), "vllm/vllm-openai-evil:v0.11.2", "FG509"),
    (("spec", "runtime", "image"), "vllm/vllm-openai/../../evil:v0.11.2", "FG107"),
    (("spec", "runtime", "image"), "vllm/vllm-openai:latest", "FG507+FG504"),
    (("spec", "environments", "dev", "image"), "ghcr.io/evil/vllm-openai:v0.11.2", "FG509"),
]


@pytest.mark.parametrize(("path", "image", "code"), IMAGES, ids=[i for _, i, _ in IMAGES])
def test_images_outside_the_allow_list_are_rejected(
    example_repo: Path, path: JsonPathT, image: str, code: str
) -> None:
    text = render_doc(edited(tiny_doc(), {path: image}))
    line, column = mark_of(text, path)
    expected = {(c, line, column) for c in code.split("+")}
    assert located(validate_text(example_repo, text)) == expected


@pytest.mark.parametrize(
    "uri", ["file:///etc/passwd", "hostpath:///var/lib/models", "http://evil/m", "/models"]
)
def test_storage_uris_outside_the_schemes_are_rejected(example_repo: Path, uri: str) -> None:
    path = ("spec", "model", "storageUri")
    text = render_doc(edited(tiny_doc(), {path: uri}))
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text)) == {("FG107", line, column)}


def test_pvc_storage_is_allowed_by_design(example_repo: Path) -> None:
    text = render_doc(edited(tiny_doc(), {("spec", "model", "storageUri"): "pvc://models/q"}))
    assert validate_text(example_repo, text).errors == ()


ESCAPING_URIS = [
    "pvc://models/../etc",
    "pvc://models/a/../../x",
    "pvc://models/..",
    "s3://bucket/../other-bucket/m",
    "gs://bucket/m/../../x",
    "hf://org/../m",
    "oci://registry.example.com/../m",
    "pvc://Models/q",
    "pvc://my_claim/q",
    "pvc://claim~1/q",
    "pvc://claim-/q",
    "pvc://claim..x/q",
    "pvc://" + "a" * 254 + "/q",
]


@pytest.mark.parametrize("uri", ESCAPING_URIS, ids=lambda u: u[:40])
def test_storage_uris_that_escape_or_name_no_claim_are_rejected(
    example_repo: Path, uri: str
) -> None:
    """The schema's pattern lets these through; a check refuses them (FG107)."""
    path = ("spec", "model", "storageUri")
    text = render_doc(edited(tiny_doc(), {path: uri}))
    line, column = mark_of(text, path)
    report = validate_text(example_repo, text)
    assert located(report) == {("FG107", line, column)}
    message = next(d.message for d in report.errors if d.code == "FG107")
    assert "'..'" in message or "not a PersistentVolumeClaim name" in message, message


@pytest.mark.parametrize(
    "uri",
    [
        "pvc://models",
        "pvc://models.v1/a/b",
        "pvc://" + "a" * 253 + "/q",
        "s3://bucket/a..b/x",
        "hf://org/m.../x",
        "gs://bucket/./m",
    ],
    ids=lambda u: u[:40],
)
def test_storage_uris_with_dots_inside_names_are_accepted(example_repo: Path, uri: str) -> None:
    """Control: only a whole '..' segment (and a bad claim name) is refused."""
    text = render_doc(edited(tiny_doc(), {("spec", "model", "storageUri"): uri}))
    assert validate_text(example_repo, text).errors == ()


# --- extraArgs smuggling ---------------------------------------------------------------------

SMUGGLED: list[tuple[str, set[str]]] = [
    ("--api-key=secret123", {"FG506", "FG602"}),
    ("--api-key", {"FG506"}),
    ("--api-key=", {"FG506"}),
    ("--served-model-name=other-model", {"FG506"}),
    ("--served-model-name other-model", {"FG107"}),
    ("--tensor-parallel-size=8", {"FG506"}),
    ("--host=0.0.0.0", {"FG506"}),
    ("--port=1", {"FG506"}),
    ("--model=/etc/passwd", {"FG506"}),
    ("--otlp-traces-endpoint=http://evil.example.com:4317", {"FG506"}),
    ("--hf-token=hf_abcdefghijklmnopqrstuvwxyz0123456", {"FG602"}),
    ("--enable-lora --api-key=x", {"FG107"}),
    ("--max-num-seqs=1\n--api-key=x", {"FG107"}),
    ("--tensor_parallel_size=8", {"FG107"}),
    ("--Served-Model-Name=x", {"FG107"}),
    ("-tp=8", {"FG107"}),
    ("--", {"FG107"}),
    ("--chat-template={{ .app }}", {"FG107"}),
    ('--compilation-config={"level":3}', {"FG107"}),
]


@pytest.mark.parametrize(("arg", "codes"), SMUGGLED, ids=[repr(a) for a, _ in SMUGGLED])
def test_extra_args_cannot_smuggle_flags(example_repo: Path, arg: str, codes: set[str]) -> None:
    path = ("spec", "runtime", "extraArgs", 0)
    text = render_doc(edited(tiny_doc(), field_edits(path, arg)))
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text)) == {(c, line, column) for c in codes}


FORBIDDEN = [
    "--trust-remote-code",
    "--trust-remote-code=true",
    "--download-dir=/host/models",
    "--tokenizer=evil-org/tokenizer",
    "--hf-config-path=/tmp/config",
    "--model-loader-extra-config=s3://evil/weights",
    "--config=/mnt/models/vllm.yaml",
    "--tool-parser-plugin=/mnt/models/plugin.py",
    "--allowed-local-media-path=/",
    "--load-format=pt",
    "--load-format=npcache",
    "--load-format=dummy",
    "--load-format=tensorizer",
    "--load-format=",
]


@pytest.mark.parametrize("arg", FORBIDDEN)
def test_extra_args_that_run_code_or_move_weights_are_refused(example_repo: Path, arg: str) -> None:
    path = ("spec", "runtime", "extraArgs", 0)
    text = render_doc(edited(tiny_doc(), field_edits(path, arg)))
    line, column = mark_of(text, path)
    report = validate_text(example_repo, text)
    assert located(report) == {("FG605", line, column)}
    message = next(d.message for d in report.errors if d.code == "FG605")
    assert message.startswith(arg.split("=")[0]) and message.endswith("fleetgen refuses it")


def test_forbidden_flags_are_refused_whatever_the_vllm_version(example_repo: Path) -> None:
    """FG605 does not depend on the runtime contract: an unknown version still gets it."""
    path = ("spec", "runtime", "extraArgs", 0)
    doc = edited(tiny_doc(), field_edits(path, "--trust-remote-code"))
    doc = edited(doc, {("spec", "runtime", "image"): "vllm/vllm-openai:v0.1.0"})
    text = render_doc(doc)
    line, column = mark_of(text, path)
    assert ("FG605", line, column) in located(validate_text(example_repo, text))


@pytest.mark.parametrize(
    "arg",
    ["--no-trust-remote-code", "--load-format=safetensors", "--load-format=auto"],
)
def test_safe_spellings_of_refused_flags_are_accepted(example_repo: Path, arg: str) -> None:
    path = ("spec", "runtime", "extraArgs", 0)
    text = render_doc(edited(tiny_doc(), field_edits(path, arg)))
    assert validate_text(example_repo, text).errors == ()


def test_extra_args_with_a_trailing_newline_are_rejected(example_repo: Path) -> None:
    path = ("spec", "runtime", "extraArgs", 0)
    text = render_doc(edited(tiny_doc(), field_edits(path, "--max-num-batched-tokens=8192\n")))
    line, column = mark_of(text, path)
    assert located(validate_text(example_repo, text)) == {("FG107", line, column)}


# --- the generated tree as an attack surface -------------------------------------------------


def test_manifest_entries_cannot_delete_outside_applicationsets(
    example_repo: Path, run_cli: RunCli
) -> None:
    """A tampered ownership manifest naming ../ paths removes nothing outside the tree."""
    manifest = example_repo / layout.MANIFEST
    record = json.loads(manifest.read_text())
    victims = ["../fleet/llama-3-1-8b-instruct.yaml", "../environments/dev/environment.yaml"]
    for rel in victims:
        record["files"][rel] = "0" * 64
    manifest.write_text(json.dumps(record))
    result = run_cli(["generate"], cwd=example_repo)
    assert result.returncode == 0, result.stderr
    for rel in victims:
        assert (example_repo / layout.GENERATED_ROOT / rel).resolve().is_file(), rel


def test_generate_never_writes_through_a_symlink(
    example_repo: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    generated = example_repo / layout.GENERATED_ROOT
    shutil.rmtree(generated / "dev")
    (generated / "dev").symlink_to(outside, target_is_directory=True)
    run_cli(["generate"], cwd=example_repo)
    assert list(outside.iterdir()) == []


def test_generate_never_deletes_through_a_symlink(
    example_repo: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious\n")
    generated = example_repo / layout.GENERATED_ROOT
    (generated / "notes").symlink_to(outside, target_is_directory=True)
    manifest = example_repo / layout.MANIFEST
    record = json.loads(manifest.read_text())
    record["files"]["notes/victim.txt"] = "0" * 64
    manifest.write_text(json.dumps(record))
    run_cli(["generate"], cwd=example_repo)
    assert victim.is_file(), "generate deleted a file outside the repository"
