"""`fleetgen validate --rendered`: the mutation suite. Each case breaks one reference (in base/,
a descriptor or an environment file of a copy of the example repository); validation must
then fail with the expected code at the expected file (and line, where one is given)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fleetgen import app
from fleetgen.core.diagnostics import Report
from fleetgen.rendered.build import RenderedObject
from tests.conftest import REPO, RunCli, copy_example, crds_dir, crds_without

PASSWORD_CRD = "generators.external-secrets.io_passwords.yaml"  # the dummy keys' generator


@dataclass(frozen=True)
class Mutation:
    """`edits`: (file, old, new) text replacements; `expect`: (code, file, marker or None),
    where the diagnostic must sit on the line of the mutated file that contains `marker`."""

    id: str
    edits: tuple[tuple[str, str, str], ...]
    expect: tuple[tuple[str, str, str | None], ...]
    extra_files: dict[str, str] = field(default_factory=dict)


ISVC = "base/model/inferenceservice.yaml"
MUTATIONS = (
    Mutation(
        "FG701-crd-field-typo-in-base",
        ((ISVC, "      args:\n", "      argz: [--oops]\n      args:\n"),),
        (("FG701", ISVC, "argz:"),),
    ),
    Mutation(
        "FG702-cel-backend-must-be-envoy-backend",
        (("base/model/aiservicebackend.yaml", "    kind: Backend", "    kind: Service"),),
        (
            ("FG702", "base/model/aiservicebackend.yaml", None),
            ("FG704", "base/model/aiservicebackend.yaml", None),
        ),
    ),
    Mutation(
        # env is a list map keyed by name: the API server refuses a second HF_HOME.
        "FG715-duplicate-env-in-base",
        (
            (
                ISVC,
                "      - name: VLLM_CACHE_ROOT\n",
                "      - {name: HF_HOME, value: /tmp/hf}\n      - name: VLLM_CACHE_ROOT\n",
            ),
        ),
        (("FG715", ISVC, "/tmp/hf"),),
    ),
    Mutation(
        "FG716-label-value-with-spaces",
        (
            (
                "base/model/podmonitor.yaml",
                "  labels:\n",
                "  labels:\n    note: not a label value\n",
            ),
        ),
        (("FG716", "base/model/podmonitor.yaml", "labels:"),),
    ),
    Mutation(
        "FG704-backend-port",
        (("base/model/backend.yaml", "      port: 80", "      port: 8080"),),
        (("FG704", "base/model/backend.yaml", "fqdn:"),),
    ),
    Mutation(
        "FG704-route-to-missing-backend",
        (
            (
                "base/model/aigatewayroute.yaml",
                "    backendRefs:\n    - name: model\n",
                "    backendRefs:\n    - name: model\n    - name: nowhere\n",
            ),
        ),
        (("FG704", "base/model/aigatewayroute.yaml", None),),
    ),
    Mutation(
        "FG705-route-overrides-the-model-name",
        (
            (
                "base/model/aigatewayroute.yaml",
                "    backendRefs:\n    - name: model\n",
                "    backendRefs:\n    - name: model\n      modelNameOverride: some-other-model\n",
            ),
        ),
        (("FG705", "base/model/aigatewayroute.yaml", "modelNameOverride"),),
    ),
    Mutation(
        # An extra arg in the base shifts the tracing component's arg past the index the
        # generator fills: vLLM then serves another name and traces to a placeholder.
        "FG705-FG711-FG970-served-name-appended-in-base",
        (
            (
                ISVC,
                "      - --gpu-memory-utilization=0.9\n",
                "      - --gpu-memory-utilization=0.9\n      - --served-model-name=something-else\n",
            ),
        ),
        (
            ("FG705", "fleet/mixtral-8x7b-instruct.yaml", "servedName:"),
            ("FG711", "base/components/tracing/inferenceservice-patch.yaml", None),
            ("FG970", ISVC, "--served-model-name=something-else"),
        ),
    ),
    Mutation(
        "FG706-two-autoscalers",
        (
            (
                ISVC,
                "serving.kserve.io/autoscalerClass: external",
                "serving.kserve.io/autoscalerClass: hpa",
            ),
        ),
        (("FG706", ISVC, "annotations:"),),
    ),
    Mutation(
        "FG707-alert-on-removed-metric",
        (
            (
                "base/model/prometheusrule.yaml",
                "with an error.'\n",
                "with an error.'\n    - alert: OldCacheMetric\n      expr: vllm:gpu_cache_usage_perc > 0.9\n",
            ),
        ),
        (("FG707", "base/model/prometheusrule.yaml", "gpu_cache_usage_perc"),),
    ),
    Mutation(
        "FG707-filter-on-unknown-label",
        (
            (
                "base/model/prometheusrule.yaml",
                "with an error.'\n",
                'with an error.\'\n    - alert: ByTenant\n      expr: vllm:num_requests_waiting{tenant="a"} > 1\n',
            ),
        ),
        (("FG707", "base/model/prometheusrule.yaml", 'tenant="a"'),),
    ),
    Mutation(
        "FG513-alert-on-a-reason-vllm-never-sets",
        (
            (
                "base/model/prometheusrule.yaml",
                "with an error.'\n",
                "with an error.'\n    - alert: Failed\n"
                '      expr: sum(rate(vllm:request_success_total{finished_reason="failed"}[5m])) > 0\n',
            ),
        ),
        (("FG513", "base/model/prometheusrule.yaml", 'finished_reason="failed"'),),
    ),
    Mutation(
        "FG515-utilization-on-a-prometheus-trigger",
        (("base/model/scaledobject.yaml", "metricType: AverageValue", "metricType: Utilization"),),
        (("FG515", "base/model/scaledobject.yaml", "metricType: Utilization"),),
    ),
    Mutation(
        "FG708-scrape-wrong-port",
        (("base/model/podmonitor.yaml", "portNumber: 8080", "portNumber: 9090"),),
        (("FG708", "base/model/podmonitor.yaml", "portNumber: 9090"),),
    ),
    Mutation(
        "FG709-credential-secret-nobody-writes",
        (
            (
                "base/model/securitypolicy.yaml",
                "      name: placeholder\n    extractFrom:",
                '      name: placeholder\n    - group: ""\n      kind: Secret\n      name: stray-keys\n    extractFrom:',
            ),
        ),
        (("FG709", "base/model/securitypolicy.yaml", None),),
    ),
    Mutation(
        "FG709-route-on-a-gateway-that-does-not-exist",
        (
            (
                "base/model/aigatewayroute.yaml",
                "    name: ai-gateway\n",
                "    name: ai-gateway\n  - group: gateway.networking.k8s.io\n    kind: Gateway\n    name: other-gateway\n",
            ),
        ),
        (("FG709", "base/model/aigatewayroute.yaml", None),),
    ),
    Mutation(
        "FG711-second-trace-endpoint",
        (
            (
                "base/components/tracing/inferenceservice-patch.yaml",
                "- op: add\n  path: /spec/predictor/model/env/-\n  value:\n    name: OTEL_SERVICE_NAME",
                "- op: add\n  path: /spec/predictor/model/env/-\n  value:\n    name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\n    value: http://collector.elsewhere:4317\n- op: add\n  path: /spec/predictor/model/env/-\n  value:\n    name: OTEL_SERVICE_NAME",
            ),
        ),
        # The overlays fill the tracing env by index: the inserted variable takes the value
        # the generator writes at its slot, so the finding names the overlay that wrote it.
        (
            (
                "FG711",
                "applicationsets/prod/prod-a/models/llama-3-1-8b-instruct/kustomization.yaml",
                None,
            ),
        ),
    ),
    Mutation(
        "FG712-FG713-object-pinned-to-kube-system",
        (
            (
                "base/model/kustomization.yaml",
                "- securitypolicy.yaml\n",
                "- securitypolicy.yaml\n- extra.yaml\n",
            ),
        ),
        (("FG712", "base/model/extra.yaml", None), ("FG713", "base/model/extra.yaml", None)),
        {
            "base/model/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared-settings\n  namespace: kube-system\ndata:\n  a: b\n"
        },
    ),
    Mutation(
        "FG700-base-names-a-missing-file",
        (
            (
                "base/model/kustomization.yaml",
                "- securitypolicy.yaml\n",
                "- securitypolicy.yaml\n- missing.yaml\n",
            ),
        ),
        (
            (
                "FG700",
                "applicationsets/dev/dev-a/models/llama-3-1-8b-instruct/kustomization.yaml",
                None,
            ),
        ),
    ),
)


def rendered_report(root: Path, crds: Path, *, in_sync: bool = False) -> Report:
    options = app.ValidateOptions(root=root, rendered=True, in_sync=in_sync, schema_dirs=(crds,))
    return app.validate(options)


def apply(root: Path, mutation: Mutation) -> None:
    for rel, text in mutation.extra_files.items():
        (root / rel).write_text(text)
    for rel, old, new in mutation.edits:
        path = root / rel
        content = path.read_text()
        assert old in content, (rel, old)
        path.write_text(content.replace(old, new, 1))


def test_example_repository_passes_rendered_validation() -> None:
    report = rendered_report(REPO, crds_dir(), in_sync=True)
    assert report.diagnostics == ()
    assert any(note.startswith("rendered ") for note in report.notes)
    cel = next(note for note in report.notes if note.startswith("CEL rules:"))
    assert int(cel.split()[2]) > 0  # rules were really evaluated


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutation_is_caught(mutation: Mutation, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    apply(root, mutation)
    report = rendered_report(root, crds_dir())
    assert not report.ok
    found = {(d.code, d.location.file) for d in report.diagnostics}
    for code, file, marker in mutation.expect:
        listing = [f"{d.location} {d.code} {d.message}" for d in report.diagnostics]
        assert (code, file) in found, (code, file, listing)
        if marker is not None:
            lines = (root / file).read_text().splitlines()
            line = next(
                i
                for i, text in enumerate(lines, start=1)
                if marker in text and not text.lstrip().startswith("#")
            )
            assert any(
                d.code == code and d.location.file == file and d.location.line == line
                for d in report.diagnostics
            ), listing
    assert {d.code for d in report.diagnostics} <= {code for code, _, _ in mutation.expect}


def test_field_removed_in_a_newer_crd_version(tmp_path: Path) -> None:
    """An upgraded CRD that drops a field the base still sets is caught with its path."""
    crds = tmp_path / "crds"
    shutil.copytree(crds_dir(), crds)
    route_crd = crds / "ai-gateway" / "aigateway.envoyproxy.io_aigatewayroutes.yaml"
    text = route_crd.read_text()
    # Drop the rule-level `timeouts` property from every served version.
    assert text.count("                    timeouts:\n") >= 1
    route_crd.write_text(
        text.replace("                    timeouts:\n", "                    timeoutz:\n")
    )
    report = rendered_report(REPO, crds)
    hits = [d for d in report.diagnostics if d.code == "FG701"]
    assert {d.code for d in report.diagnostics} == {"FG701"}
    # Each serving API's base has its own route file.
    base_lines = {
        f"base/{base}/aigatewayroute.yaml": next(
            i
            for i, text in enumerate(
                (REPO / f"base/{base}/aigatewayroute.yaml").read_text().splitlines(), 1
            )
            if text.strip() == "timeouts:"
        )
        for base in ("model", "llmisvc")
    }
    # The base's own rule points at the base file; alias rules the generator adds point at
    # the descriptor that asked for the alias.
    for d in hits:
        assert "timeouts: unknown field 'timeouts'" in d.message
        if "/spec/rules/0/" in d.message:
            assert base_lines.get(d.location.file) == d.location.line, d.location
        else:
            assert d.location.file.startswith("fleet/")
    assert {d.location.file for d in hits} >= set(base_lines)
    assert len({d.message.split(":")[0] for d in hits}) == 4  # every model's route


def test_all_reports_a_stale_generated_tree(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    desc = root / "fleet" / "qwen2-5-0-5b-instruct.yaml"
    desc.write_text(desc.read_text().replace("targetPerPod: 10", "targetPerPod: 11"))
    report = rendered_report(root, crds_dir(), in_sync=True)
    stale = {d.location.file for d in report.diagnostics if d.code == "FG714"}
    assert stale == {
        "applicationsets/.fleetgen-manifest.json",
        "applicationsets/dev/dev-a/models/qwen2-5-0-5b-instruct/kustomization.yaml",
        "applicationsets/staging/staging-a/models/qwen2-5-0-5b-instruct/kustomization.yaml",
    }


def test_missing_schema_is_an_error(tmp_path: Path) -> None:
    schemas = crds_without(tmp_path, PASSWORD_CRD)
    report = app.validate(app.ValidateOptions(root=REPO, rendered=True, schema_dirs=(schemas,)))
    missing = [d for d in report.diagnostics if d.code == "FG703"]
    assert [d.location.file for d in missing] == [
        "base/platform-components/dummy-keys/password.yaml"
    ]


def test_cli_rendered_text_and_json(run_cli: RunCli, tmp_path: Path) -> None:
    args = [
        "validate",
        "--rendered",
        "--schema-dir",
        str(crds_dir()),
    ]
    result = run_cli([*args, "--root", str(REPO)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CEL rules:" in result.stderr
    # A repository without its schema directory (the example ships one; this copy has none).
    bare = copy_example(tmp_path / "bare")
    missing_dir = run_cli(["validate", "--rendered", "--root", str(bare)])
    assert missing_dir.returncode == 2
    assert "schema directory" in missing_dir.stderr


def _obj(
    kind: str, name: str, spec: dict[str, object], app: str, namespace: str | None = "llm"
) -> RenderedObject:
    meta: dict[str, object] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return RenderedObject(
        {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec}, app, None
    )


def test_cache_source_must_prefix_a_storage_uri() -> None:
    """FG710 on a hand-built graph: a cache whose source no InferenceService loads from."""
    from fleetgen.loading.load import load_fleet
    from fleetgen.rendered.graph import ClusterGraph
    from fleetgen.rendered.linker import LinkContext, check_caches
    from fleetgen.rendered.provenance import Provenance

    fleet, _ = load_fleet(REPO)
    app_dir = "applicationsets/prod/prod-a/models/m"
    graph = ClusterGraph("prod", "prod-a")
    graph.add(
        _obj(
            "InferenceService",
            "m",
            {"predictor": {"model": {"storageUri": "s3://models/m/v2"}}},
            app_dir,
        )
    )
    graph.add(
        _obj(
            "LocalModelCache", "m", {"sourceModelUri": "s3://models/m/v1"}, app_dir, namespace=None
        )
    )
    context = LinkContext(graph, fleet.environments["prod"], Provenance(REPO))
    (found,) = check_caches(context)
    assert found.code == "FG710"
    graph.objects[1].doc["spec"]["sourceModelUri"] = "s3://models/m/"
    assert list(check_caches(context)) == []
    graph.objects[1].doc["spec"]["sourceModelUri"] = "s3://models/m/v"  # not a path prefix
    assert [d.code for d in check_caches(context)] == ["FG710"]


# Codes proven by the dedicated tests above rather than by a mutation.
DEDICATED = {
    "FG703",
    "FG710",
    "FG714",
    "FG717",
    "FG718",
    "FG790",
    "FG760",
    "FG768",
    "FG769",
}  # FG717/718: test_api_server_semantics; FG790: test_cel_cost; FG760/768: test_llmisvc_links


def covered_codes() -> set[str]:
    return {code for m in MUTATIONS for code, _, _ in m.expect} | DEDICATED


def test_a_failed_build_names_repository_paths_only(tmp_path: Path) -> None:
    """kustomize's message names the scratch copy and the checkout by absolute path; the
    finding must say the file as the repository does, so it reads the same on every machine."""
    root = copy_example(tmp_path / "repo")
    apply(root, next(m for m in MUTATIONS if m.id == "FG700-base-names-a-missing-file"))
    failed = [d for d in rendered_report(root, crds_dir()).diagnostics if d.code == "FG700"]
    assert failed
    for finding in failed:
        assert "fleetgen-render-" not in finding.message, finding.message
        assert str(tmp_path) not in finding.message, finding.message
        assert "base/model/missing.yaml" in finding.message, finding.message
