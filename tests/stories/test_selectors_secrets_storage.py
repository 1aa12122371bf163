"""Stories about selectors that must select something, patches that must find their base
object, secrets that stay in their environment, GPU pools whose labels match their GPUs, and
Argo CD clusters and projects that are not declared twice (FG930-FG969), with the legitimate
changes next to them that must stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Change, Story, assert_caught, run_change, run_story, story_id

LLAMA = "fleet/llama-3-1-8b-instruct.yaml"
LLAMA70 = "fleet/llama-3-1-70b-instruct-fp8.yaml"
PROD = "environments/prod/environment.yaml"
STAGING = "environments/staging/environment.yaml"
DEV = "environments/dev/environment.yaml"
POLICY = "base/model/networkpolicy.yaml"
MODEL_BASE = "base/model/kustomization.yaml"
KV_POLICY = "base/components/kv-cache/networkpolicy.yaml"
KV_SERVICE = "base/components/kv-cache/service.yaml"
KV_BASE = "base/components/kv-cache/kustomization.yaml"
H200_LABELS = "          nodes: 1\n          pricePerGpuHour: 3.5\n          nodeLabels:\n"

SELECTORS = (
    Story(
        "A platform engineer narrows the model NetworkPolicy to component: model-server, a "
        "label KServe never puts on predictor pods, so the policy protects no pod.",
        (
            (
                POLICY,
                "      serving.kserve.io/inferenceservice: model\n",
                "      serving.kserve.io/inferenceservice: model\n      component: model-server\n",
            ),
        ),
        "rendered",
        "FG930",
        POLICY,
        "component: model-server",
    ),
    Story(
        "A platform engineer selects the predictor pods by app: model in the NetworkPolicy, "
        "but KServe labels them app: isvc.<isvc>-predictor.",
        (
            (
                POLICY,
                "      serving.kserve.io/inferenceservice: model\n",
                "      serving.kserve.io/inferenceservice: model\n      app: model\n",
            ),
        ),
        "rendered",
        "FG930",
        POLICY,
        "      app: model",
    ),
    Story(
        "A platform engineer renames the label the Redis policy admits predictor pods by, so "
        "no predictor can reach its KV-cache Redis.",
        (
            (
                KV_POLICY,
                "          serving.kserve.io/inferenceservice: model",
                "          serving.kserve.io/isvc: model",
            ),
        ),
        "rendered",
        "FG930",
        KV_POLICY,
        "serving.kserve.io/isvc: model",
    ),
    Story(
        "A platform engineer changes the KV-cache Service selector to app: kv-cache, a label "
        "the Redis pods do not carry, so the Service has no endpoints.",
        ((KV_SERVICE, "    fleetgen.dev/kv-cache: model", "    app: kv-cache"),),
        "rendered",
        "FG930",
        KV_SERVICE,
        "app: kv-cache",
    ),
    Story(
        "A platform engineer adds a tier: cache label to the Redis Service selector but not "
        "to the Redis pod template.",
        (
            (
                KV_SERVICE,
                "    fleetgen.dev/kv-cache: model\n",
                "    fleetgen.dev/kv-cache: model\n    tier: cache\n",
            ),
        ),
        "rendered",
        "FG930",
        KV_SERVICE,
        "tier: cache",
    ),
    Story(
        "A platform engineer drops networkpolicy.yaml from base/model: every overlay's "
        "NetworkPolicy patch silently selects nothing and the predictors run unprotected.",
        ((MODEL_BASE, "- networkpolicy.yaml\n", ""),),
        "rendered",
        "FG931",
        MODEL_BASE,
        "resources:",
    ),
    Story(
        "A platform engineer removes the Redis NetworkPolicy from the kv-cache component.",
        ((KV_BASE, "- networkpolicy.yaml", ""),),
        "rendered",
        "FG931",
        KV_BASE,
        "resources:",
    ),
    Story(
        "A platform engineer renames the base PodMonitor to model-metrics; the overlays' "
        "patch targets PodMonitor model and no longer applies.",
        (("base/model/podmonitor.yaml", "  name: model\n", "  name: model-metrics\n"),),
        "rendered",
        "FG931",
        "base/model/podmonitor.yaml",
        "name: model-metrics",
        also=frozenset({"FG708", "FG712", "FG713"}),
    ),
    Story(
        "A platform engineer points the base PodMonitor at the predictor's app label value "
        "the way Knative mode would name it, so it scrapes no pod.",
        (
            (
                "base/model/podmonitor.yaml",
                "      serving.kserve.io/inferenceservice: model\n",
                "      serving.kserve.io/inferenceservice: model\n      component: default\n",
            ),
        ),
        "rendered",
        "FG708",
        "base/model/podmonitor.yaml",
        "selector:",
    ),
)

SECRETS = (
    Story(
        "An SRE copies the prod apiKeys block into staging, so staging mirrors the "
        "production API keys.",
        ((STAGING, "path: llm/staging/api-keys", "path: llm/prod/api-keys"),),
        "validate",
        "FG941",
        STAGING,
        "path: llm/prod/api-keys",
    ),
    Story(
        "An SRE moves dev from dummy keys to Vault and reuses staging's path.",
        (
            (
                DEV,
                "    source: dummy          # non-production only: a generated placeholder key, "
                "never a real one",
                "    source: vault\n    vault:\n      store: vault\n      path: llm/staging/api-keys",
            ),
        ),
        "validate",
        "FG941",
        DEV,
        "path: llm/staging/api-keys",
    ),
    Story(
        "An SRE points prod at the staging keys with a trailing slash, reading staging's "
        "test keys in production.",
        ((PROD, "path: llm/prod/api-keys", "path: llm/staging/api-keys/"),),
        "validate",
        "FG941",
        STAGING,
        "path: llm/staging/api-keys",
    ),
)

GPUS = (
    Story(
        "A platform engineer copies the H100 pool to make the H200 pool and forgets the "
        "product label.",
        (
            (
                PROD,
                H200_LABELS + "            nvidia.com/gpu.product: NVIDIA-H200",
                H200_LABELS + "            nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3  # copied",
            ),
        ),
        "validate",
        "FG952",
        PROD,
        "NVIDIA-H100-80GB-HBM3  # copied",
    ),
    Story(
        "A platform engineer relabels the staging L4 pool's nodes with the AMD product label.",
        (
            (
                STAGING,
                "            nvidia.com/gpu.product: NVIDIA-L4",
                "            amd.com/gpu.product-name: AMD_Instinct_MI300X_OAM",
            ),
        ),
        "validate",
        "FG952",
        STAGING,
        "amd.com/gpu.product-name",
    ),
    Story(
        "A platform engineer records the nodes' GPU count label as 4 on an 8-GPU pool.",
        (
            (
                PROD,
                "            nvidia.com/gpu.product: NVIDIA-H200\n",
                "            nvidia.com/gpu.product: NVIDIA-H200\n            nvidia.com/gpu.count: "
                '"4"\n',
            ),
        ),
        "validate",
        "FG952",
        PROD,
        "nvidia.com/gpu.count",
    ),
    Story(
        "A model owner asks for pipeline parallelism through extraArgs instead of the "
        "descriptor field.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--pipeline-parallel-size=2"]',
            ),
        ),
        "validate",
        "FG506",
        LLAMA,
        "--pipeline-parallel-size=2",
    ),
)

STORAGE = (
    Story(
        "A model owner copies the 70B descriptor's storageUri into the 8B descriptor.",
        (
            (
                LLAMA,
                "storageUri: s3://models/meta-llama/Llama-3.1-8B-Instruct/",
                "storageUri: s3://models/meta-llama/Llama-3.1-70B-Instruct/",
            ),
        ),
        "validate",
        "FG950",
        LLAMA,
        "Llama-3.1-70B-Instruct",
    ),
    Story(
        "A model owner switches the 8B model to Hugging Face weights and types the Qwen repo.",
        (
            (
                LLAMA,
                "storageUri: s3://models/meta-llama/Llama-3.1-8B-Instruct/",
                "storageUri: hf://Qwen/Qwen2.5-7B-Instruct",
            ),
        ),
        "validate",
        "FG950",
        LLAMA,
        "hf://Qwen/Qwen2.5-7B-Instruct",
    ),
    Story(
        "A model owner moves the Mixtral descriptor to the 70B catalog entry and keeps the "
        "Mixtral weights.",
        (
            (
                "fleet/mixtral-8x7b-instruct.yaml",
                "catalog: mixtral-8x7b-instruct-v0.1",
                "catalog: llama-3.1-70b-instruct",
            ),
        ),
        "validate",
        "FG950",
        "fleet/mixtral-8x7b-instruct.yaml",
        "storageUri:",
        also=frozenset({"FG404", "FG403", "FG409"}),
    ),
    Story(
        "A model owner sizes the 70B model's local cache at 40Gi, below its weights.",
        (
            (
                LLAMA70,
                "  cache:\n    enabled: true\n",
                "  cache:\n    enabled: true\n    size: 40Gi\n",
            ),
        ),
        "validate",
        "FG951",
        LLAMA70,
        "size: 40Gi",
    ),
    Story(
        "A model owner sizes the 8B model's cache in decimal gigabytes, 10G, below 15 GiB of "
        "weights.",
        (
            (
                LLAMA,
                "  cache:\n    enabled: true\n",
                "  cache:\n    enabled: true\n    size: 10G\n",
            ),
        ),
        "validate",
        "FG951",
        LLAMA,
        "size: 10G",
    ),
    Story(
        "A model owner asks vLLM for two data-parallel engines on a one-GPU pod.",
        (
            (
                LLAMA,
                'extraArgs: ["--enable-chunked-prefill"]',
                'extraArgs: ["--enable-chunked-prefill", "--data-parallel-size=2"]',
            ),
        ),
        "validate",
        "FG953",
        LLAMA,
        "--data-parallel-size=2",
    ),
    Story(
        "A model owner sets --data-parallel-size-local=2 on the TP=4 70B model.",
        (
            (
                LLAMA70,
                "    kvCacheDtype: fp8\n",
                '    kvCacheDtype: fp8\n    extraArgs: ["--data-parallel-size-local=2"]\n',
            ),
        ),
        "validate",
        "FG953",
        LLAMA70,
        "--data-parallel-size-local=2",
    ),
    Story(
        "A model owner raises the 70B model's LMCache CPU tier to 40 GiB per GPU, 160 GiB on a "
        "128Gi pod.",
        ((LLAMA70, "localCpuGiB: 8", "localCpuGiB: 40"),),
        "validate",
        "FG954",
        LLAMA70,
        "localCpuGiB: 40",
    ),
    Story(
        "A model owner halves the 70B model's memory to 24Gi and keeps its 32 GiB CPU KV tier.",
        ((LLAMA70, "    memory: 128Gi\n", "    memory: 24Gi\n"),),
        "validate",
        "FG954",
        LLAMA70,
        "localCpuGiB",
    ),
)

PROD_A_PLATFORM = "applicationsets/prod/prod-a/platform-apps.yaml"
MONITOR_SELECTOR = (
    "            podMonitorSelector:\n              matchLabels:\n"
    "                release: kube-prometheus-stack\n"
)
RULE_SELECTOR = (
    "            ruleSelector:\n              matchLabels:\n"
    "                release: kube-prometheus-stack\n"
)
MODEL_DASHBOARD = "base/components/dashboard/dashboard-configmap.yaml"
FLEET_DASHBOARD = "base/platform/dashboard-configmap.yaml"
VAULT_KEYS = "base/platform-components/vault-keys/externalsecret.yaml"
ORPHAN = "applicationsets/prod/prod-a/models/llama-3-2-3b-instruct"

PICKUP = (
    Story(
        "An SRE hand-edits prod-a's kube-prometheus-stack values to select PodMonitors "
        "labelled prometheus: platform, a label no model's PodMonitor has.",
        (
            (
                PROD_A_PLATFORM,
                MONITOR_SELECTOR,
                MONITOR_SELECTOR.replace("release: kube-prometheus-stack", "prometheus: platform"),
            ),
        ),
        "all",
        "FG932",
        PROD_A_PLATFORM,
        "podMonitorSelector:",
        regenerate=False,
        also=frozenset({"FG714"}),
    ),
    Story(
        "An SRE hand-edits prod-a's rule selector to release: prometheus, so no alert rule "
        "is evaluated.",
        (
            (
                PROD_A_PLATFORM,
                RULE_SELECTOR,
                RULE_SELECTOR.replace("release: kube-prometheus-stack", "release: prometheus"),
            ),
        ),
        "all",
        "FG932",
        PROD_A_PLATFORM,
        "ruleSelector:",
        regenerate=False,
        also=frozenset({"FG714"}),
    ),
    Story(
        "An SRE hand-edits the DCGM exporter's ServiceMonitor labels in prod-a, so GPU "
        "metrics are never scraped and the GPU alerts stay silent.",
        (
            (
                PROD_A_PLATFORM,
                "          additionalLabels:\n            release: kube-prometheus-stack\n",
                "          additionalLabels:\n            release: dcgm\n",
            ),
        ),
        "all",
        "FG932",
        PROD_A_PLATFORM,
        "release: dcgm",
        regenerate=False,
        also=frozenset({"FG714"}),
    ),
    Story(
        'A platform engineer sets the per-model dashboard label to "true"; Grafana\'s '
        'sidecar only loads "1".',
        ((MODEL_DASHBOARD, '    grafana_dashboard: "1"', '    grafana_dashboard: "true"'),),
        "all",
        "FG933",
        MODEL_DASHBOARD,
        'grafana_dashboard: "true"',
    ),
    Story(
        "A platform engineer writes the fleet dashboard's label with a dash, grafana-dashboard.",
        ((FLEET_DASHBOARD, '    grafana_dashboard: "1"', '    grafana-dashboard: "1"'),),
        "all",
        "FG933",
        FLEET_DASHBOARD,
        "grafana-dashboard",
    ),
    Story(
        "A platform engineer switches the Vault ExternalSecret to a namespaced SecretStore.",
        ((VAULT_KEYS, "kind: ClusterSecretStore", "kind: SecretStore"),),
        "rendered",
        "FG940",
        VAULT_KEYS,
        "kind: SecretStore",
    ),
    Story(
        "A platform engineer adds a second extract of a shared Vault path to the API-key "
        "ExternalSecret.",
        (
            (
                VAULT_KEYS,
                "      key: placeholder\n",
                "      key: placeholder\n  - extract:\n      key: llm/shared/api-keys\n",
            ),
        ),
        "rendered",
        "FG940",
        VAULT_KEYS,
        "llm/shared/api-keys",
    ),
    Story(
        "An engineer copies the 8B app directory to try a 3B model on prod-a by hand, "
        "without a descriptor.",
        (
            (
                f"{ORPHAN}/app.json",
                "",
                '{\n  "app": "prod-prod-a-llama-3-2-3b-instruct",\n'
                '  "model": "llama-3-2-3b-instruct",\n  "team": "search"\n}\n',
            ),
            (
                f"{ORPHAN}/kustomization.yaml",
                "",
                "resources:\n- ../../../../../base/model\n",
            ),
        ),
        "all",
        "FG963",
        f"{ORPHAN}/app.json",
        "{",
        regenerate=False,
    ),
)

ARGOCD = (
    Story(
        "A platform engineer adds prod-b by copying prod-a and leaves its server URL.",
        (
            (
                PROD,
                "server: https://prod-b.k8s.example.com",
                "server: https://prod-a.k8s.example.com/",
            ),
        ),
        "validate",
        "FG960",
        PROD,
        "server: https://prod-a.k8s.example.com/",
    ),
    Story(
        "A platform engineer points dev at the staging cluster to save a cluster; both "
        "environments install the platform charts and the gateway namespace there.",
        (
            (
                DEV,
                "server: https://dev-a.k8s.example.com",
                "server: https://staging-a.k8s.example.com",
            ),
        ),
        "validate",
        "FG961",
        DEV,
        "server: https://staging-a.k8s.example.com",
    ),
    Story(
        "An SRE sets staging's Argo CD project to prod, so both environments write one AppProject.",
        (
            (
                STAGING,
                "    targetRevision: main\n",
                "    targetRevision: main\n    project: prod\n",
            ),
        ),
        "validate",
        "FG962",
        STAGING,
        "project: prod",
    ),
)

STORIES = SELECTORS + SECRETS + GPUS + STORAGE + PICKUP + ARGOCD

CHANGES = (
    Change(
        "An SRE lets a load-test staging read the production keys and declares it.",
        (
            (
                STAGING,
                "      path: llm/staging/api-keys",
                "      path: llm/prod/api-keys\n      sharedWith: [prod]",
            ),
        ),
    ),
    Change(
        "A platform engineer adds a zone label to the prod H100 pool's nodes.",
        (
            (
                PROD,
                "            nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3\n",
                "            nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3\n"
                "            topology.kubernetes.io/zone: eu-west-1a\n",
            ),
        ),
    ),
    Change(
        "A platform engineer records the GPU count label the nodes really carry.",
        (
            (
                PROD,
                "            nvidia.com/gpu.product: NVIDIA-H200\n",
                '            nvidia.com/gpu.product: NVIDIA-H200\n            nvidia.com/gpu.count: "8"\n',
            ),
        ),
    ),
    Change(
        "A platform engineer adds an L40S pool to staging with the labels its nodes carry.",
        (
            (
                STAGING,
                "            nvidia.com/gpu.product: NVIDIA-L4\n",
                "            nvidia.com/gpu.product: NVIDIA-L4\n"
                "          taints:\n"
                "            - {key: nvidia.com/gpu, effect: NoSchedule}\n"
                "        - name: l40s\n"
                "          gpu: L40S-48GB\n"
                "          gpusPerNode: 4\n"
                "          nodes: 2\n"
                "          nodeLabels:\n"
                "            nvidia.com/gpu.product: NVIDIA-L40S\n",
            ),
        ),
    ),
    Change(
        "A platform engineer also requires component: predictor in the model NetworkPolicy.",
        (
            (
                POLICY,
                "      serving.kserve.io/inferenceservice: model\n",
                "      serving.kserve.io/inferenceservice: model\n      component: predictor\n",
            ),
        ),
    ),
    Change(
        "A platform engineer adds a label to both the Redis pod template and its Service selector.",
        (
            (
                KV_SERVICE,
                "    fleetgen.dev/kv-cache: model\n",
                "    fleetgen.dev/kv-cache: model\n    tier: cache\n",
            ),
            (
                "base/components/kv-cache/deployment.yaml",
                "      labels:\n        fleetgen.dev/kv-cache: model\n",
                "      labels:\n        fleetgen.dev/kv-cache: model\n        tier: cache\n",
            ),
        ),
    ),
    Change(
        "A platform engineer gives staging its own Argo CD project name.",
        (
            (
                STAGING,
                "    targetRevision: main\n",
                "    targetRevision: main\n    project: llm-staging\n",
            ),
        ),
    ),
    Change(
        "A model owner gives the 70B model's local cache more room than its weights.",
        (
            (
                LLAMA70,
                "  cache:\n    enabled: true\n",
                "  cache:\n    enabled: true\n    size: 120Gi\n",
            ),
        ),
    ),
    Change(
        "A model owner moves the 8B model's weights to the Hugging Face repository.",
        (
            (
                LLAMA,
                "storageUri: s3://models/meta-llama/Llama-3.1-8B-Instruct/",
                "storageUri: hf://meta-llama/Llama-3.1-8B-Instruct",
            ),
        ),
    ),
    Change(
        "A model owner stores a fine-tune of the 8B model under its own name.",
        (
            (
                LLAMA,
                "storageUri: s3://models/meta-llama/Llama-3.1-8B-Instruct/",
                "storageUri: s3://models/search/llama-3.1-8b-search-ft-v3/",
            ),
        ),
    ),
    Change(
        "A model owner raises the 70B model's LMCache CPU tier to 16 GiB per GPU.",
        ((LLAMA70, "localCpuGiB: 8", "localCpuGiB: 16"),),
    ),
    Change(
        "An SRE moves the staging Prometheus to its own selector label; monitors, rules, "
        "the DCGM ServiceMonitor and the chart's selectors all follow.",
        (
            (
                STAGING,
                "    selectorLabels:\n      release: kube-prometheus-stack",
                "    selectorLabels:\n      prometheus: llm",
            ),
        ),
    ),
    Change(
        "An SRE keeps API keys for dev in Vault under dev's own path.",
        (
            (
                DEV,
                "    source: dummy          # non-production only: a generated placeholder key, "
                "never a real one",
                "    source: vault\n    vault:\n      store: vault\n      path: llm/dev/api-keys",
            ),
        ),
    ),
)


@pytest.mark.parametrize("story", STORIES, ids=story_id)
def test_the_mistake_is_caught(story: Story, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    assert_caught(root, story, run_story(root, story))


@pytest.mark.parametrize("change", CHANGES, ids=story_id)
def test_the_change_stays_clean(change: Change, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    report = run_change(root, change)
    assert not report.diagnostics, (change.says, [d.as_dict() for d in report.diagnostics])
