"""Every generated query matches series the pinned vLLM release really exports.

A fleet with one model per known vLLM release (plus the example fleet) is generated and
rendered; every alert, recording rule, dashboard panel and scaler query is walked, and each
metric, label name and label value it uses must exist in the contract of the release the
model pins (platform apps: in one of the releases pinned on their cluster). Every generated
PrometheusRule must pass ``promtool check rules``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from fleetgen.knowledge.runtime_contract import RuntimeContract, contract_for, known_versions
from fleetgen.loading.load import load_fleet
from fleetgen.render.fileplan import build_plan
from fleetgen.rendered.build import RenderedObject, is_model_app, render_fleet
from fleetgen.rendered.graph import SERVING_KINDS, container, expressions
from fleetgen.rendered.promql_shape import metric_uses
from tests.conftest import REPO, copy_example

# Labels Prometheus itself puts on every scraped series (and le on histogram buckets).
TARGET_LABELS = frozenset({"namespace", "pod", "container", "job", "instance", "service", "le"})

DESCRIPTOR = """\
apiVersion: fleetgen.dev/v1alpha1
kind: ModelDeployment
metadata:
  name: {name}
  team: platform
  contact: llm-platform@example.com
spec:
  model:
    catalog: qwen2.5-0.5b-instruct
    storageUri: hf://Qwen/Qwen2.5-0.5B-Instruct
    servedName: {name}
  runtime:
    image: vllm/vllm-openai:v{version}
    maxModelLen: 4096
  resources:
    gpuPool: l4
    gpusPerReplica: 1
  environments:
    dev: {{}}
"""


def _one_model_per_release(root: Path) -> dict[str, str]:
    pinned = {}
    for version in known_versions():
        name = "pin-" + version.replace(".", "-")
        (root / "fleet" / f"{name}.yaml").write_text(DESCRIPTOR.format(name=name, version=version))
        pinned[name] = version
    return pinned


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[RenderedObject]:
    root = copy_example(tmp_path_factory.mktemp("pins") / "repo")
    _one_model_per_release(root)
    fleet, _ = load_fleet(root)
    plan = build_plan(fleet)
    result = render_fleet(root, plan.files, engine="fast")
    assert not result.failures, result.failures
    return result.objects


def _release_of_apps(objects: list[RenderedObject]) -> dict[str, RuntimeContract]:
    releases = {}
    for obj in objects:
        if obj.kind in SERVING_KINDS:
            image = container(obj)["image"]
            version = image.split(":", 1)[1].split("@", 1)[0].lstrip("v")
            contract = contract_for(version)
            assert contract is not None and contract.version == version, image
            releases[obj.app] = contract
    return releases


def test_every_known_release_is_rendered(rendered: list[RenderedObject]) -> None:
    pinned = {c.version for c in _release_of_apps(rendered).values()}
    assert pinned >= set(known_versions())


def test_every_query_uses_what_the_pinned_release_exports(
    rendered: list[RenderedObject],
) -> None:
    releases = _release_of_apps(rendered)
    per_cluster: dict[tuple[str, str], list[RuntimeContract]] = defaultdict(list)
    for app, contract in releases.items():
        obj_env, obj_cluster = app.split("/")[1:3]
        per_cluster[(obj_env, obj_cluster)].append(contract)
    walked = {"metrics": 0, "labels": 0, "values": 0}
    problems: list[str] = []
    for obj in rendered:
        for pointer, expr in expressions(obj):
            for use in metric_uses(expr):
                walked["metrics"] += 1
                model = is_model_app(obj.app)
                candidates = [releases[obj.app]] if model else per_cluster[(obj.env, obj.cluster)]
                exporting = [c for c in candidates if c.exports_metric(use.name)]
                if not exporting:
                    problems.append(f"{obj.app} {obj.kind} {pointer}: {use.name} not exported")
                    continue
                for label, operator, value in use.matchers:
                    walked["labels"] += 1
                    for contract in exporting:
                        if label not in contract.labels_of(use.name) | TARGET_LABELS:
                            problems.append(f"{obj.app} {pointer}: {use.name} has no {label}")
                        emitted = contract.label_values(use.name, label)
                        if operator == "=" and emitted is not None:
                            walked["values"] += 1
                            if value not in emitted:
                                problems.append(
                                    f"{obj.app} {pointer}: {use.name}{{{label}={value!r}}} "
                                    f"never set by vLLM {contract.version}"
                                )
    assert not problems, "\n".join(problems[:20])
    # The walk really saw the queries: scalers, alerts and panels of every model.
    assert walked["metrics"] > 10 * len(releases)
    assert walked["values"] > 0


def test_platform_panels_cover_every_pinned_release(rendered: list[RenderedObject]) -> None:
    """Each fleet-dashboard panel names, for every release on the cluster, a metric it has."""
    releases = _release_of_apps(rendered)
    for obj in rendered:
        if is_model_app(obj.app) or obj.kind != "ConfigMap":
            continue
        pinned = [c for app, c in releases.items() if app.split("/")[1:3] == [obj.env, obj.cluster]]
        for _, expr in expressions(obj):
            names = {use.name for use in metric_uses(expr)}
            if names:
                for contract in pinned:
                    assert any(contract.exports_metric(n) for n in names), (contract.version, expr)


def test_error_ratio_only_where_the_release_counts_errors(
    rendered: list[RenderedObject],
) -> None:
    releases = _release_of_apps(rendered)
    for obj in rendered:
        if obj.kind != "PrometheusRule" or not is_model_app(obj.app):
            continue
        contract = releases[obj.app]
        alerts = {r.get("alert") for g in obj.doc["spec"]["groups"] for r in g["rules"]}
        reasons = contract.label_values("vllm:request_success_total", "finished_reason") or set()
        assert ("VLLMRequestErrorsHigh" in alerts) == ("error" in reasons), contract.version


def _promtool() -> str:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; .ci/run installs it)")
    return exe


def test_promtool_accepts_every_generated_rule(
    rendered: list[RenderedObject], tmp_path: Path
) -> None:
    promtool = _promtool()
    rules = [o for o in rendered if o.kind == "PrometheusRule"]
    assert rules
    paths = []
    for index, obj in enumerate(rules):
        path = tmp_path / f"rules-{index}.yaml"
        path.write_text(yaml.safe_dump({"groups": obj.doc["spec"]["groups"]}))
        paths.append(str(path))
    result = subprocess.run(
        [promtool, "check", "rules", *paths], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_example_repository_rules(tmp_path: Path) -> None:
    """The example repository's own rules (vLLM 0.34.0), one file per PrometheusRule."""
    promtool = _promtool()
    fleet, _ = load_fleet(REPO)
    result = render_fleet(REPO, build_plan(fleet).files, engine="fast")
    docs = [o.doc for o in result.objects if o.kind == "PrometheusRule"]
    assert docs
    for index, doc in enumerate(docs):
        path = tmp_path / f"{index}.yaml"
        path.write_text(json.dumps({"groups": doc["spec"]["groups"]}))
        checked = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
