"""The one table of diagnostic codes: id -> slug, default severity, title.

Codes are stable and never reused. Families: 0xx loading, 1xx schema, 2xx references,
3xx uniqueness and names, 4xx parallelism, memory and capacity, 5xx autoscaling and runtime
contract, 6xx policy, 7xx rendered manifests, 8xx change guard. Each code has a doc page
`FGnnn.md` beside this file (What / Why / Example / How to fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from fleetgen.core.diagnostics import Diagnostic, Location, Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Code:
    """One diagnostic code."""

    id: str
    slug: str
    severity: Severity
    title: str


_TABLE: tuple[tuple[str, str, Severity, str], ...] = (
    # 0xx: reading files
    ("FG001", "yaml-syntax", E, "The file is not well-formed YAML"),
    ("FG002", "duplicate-key", E, "A mapping repeats a key"),
    ("FG003", "not-a-mapping", E, "The file is empty or its document is not a mapping"),
    ("FG004", "multi-document", E, "The file holds more than one YAML document"),
    ("FG005", "alias-expansion", E, "Anchors, aliases or merge keys are abused"),
    ("FG006", "encoding", E, "The file is not valid UTF-8"),
    ("FG007", "file-too-large", E, "The file exceeds the size cap"),
    ("FG008", "path-escape", E, "A symlink or path leaves the repository"),
    ("FG009", "nesting-too-deep", E, "The document nests deeper than the cap"),
    ("FG010", "too-many-files", E, "The repository holds more files than the cap"),
    ("FG011", "unsupported-tag", E, "A YAML tag other than the core schema's is used"),
    ("FG012", "name-mismatch", E, "metadata.name does not match the file or directory name"),
    # 1xx: schema
    ("FG101", "unknown-key", E, "A key the schema does not define"),
    ("FG102", "wrong-type", E, "A value has the wrong type"),
    ("FG103", "unknown-enum", E, "A value is not one of the allowed choices"),
    ("FG104", "missing-key", E, "A required key is missing"),
    ("FG105", "invalid-name", E, "A name is not a DNS-1123 label"),
    ("FG106", "out-of-range", E, "A number or list length is outside its allowed range"),
    ("FG107", "invalid-format", E, "A string does not have the required format"),
    ("FG108", "unsupported-kind", E, "apiVersion or kind is not one fleetgen reads"),
    # 2xx: references between files
    ("FG201", "unknown-environment", E, "The model names an environment that does not exist"),
    ("FG202", "unknown-gpu-pool", E, "The GPU pool does not exist on the target cluster"),
    ("FG203", "unknown-tenant", E, "The tenant is not declared by the environment"),
    ("FG204", "unknown-cluster", E, "The cluster is not part of the environment"),
    ("FG205", "cache-without-node-group", E, "Model cache requested where no node group exists"),
    ("FG206", "tracing-without-phoenix", E, "Tracing requested where no Phoenix endpoint exists"),
    ("FG207", "unknown-catalog-model", E, "The catalog has no model with this id"),
    ("FG208", "architecture-source", E, "Give exactly one of model.catalog or model.architecture"),
    ("FG209", "unknown-gpu-type", E, "The GPU type is not in the GPU catalog"),
    ("FG210", "gpu-type-mismatch", E, "The model's GPU type differs from its pool's"),
    # 3xx: uniqueness and derived names
    ("FG301", "duplicate-model", E, "Two descriptors declare the same model name"),
    ("FG302", "duplicate-served-name", E, "A served name or alias is taken on the same gateway"),
    ("FG303", "name-too-long", E, "A derived Kubernetes name exceeds its length limit"),
    ("FG304", "duplicate-entry", E, "A list repeats a name that must be unique"),
    # 4xx: parallelism, memory fit, capacity
    ("FG401", "gpu-count-mismatch", E, "GPUs per replica differ from tensor x pipeline parallel"),
    ("FG402", "tp-exceeds-node", E, "Tensor parallelism does not fit on one node of the pool"),
    ("FG403", "heads-not-divisible", E, "Attention or KV heads do not split over the TP size"),
    ("FG404", "does-not-fit", E, "The model does not fit in GPU memory; vLLM would not start"),
    ("FG405", "low-kv-capacity", W, "The KV pool holds fewer full-length sequences than max"),
    ("FG406", "capacity-min-unschedulable", E, "Minimum scale exceeds the pool's GPUs"),
    ("FG407", "capacity-max-overcommit", W, "Maximum scale over-commits the pool's GPUs"),
    ("FG408", "team-budget-exceeded", W, "A team's GPUs at maximum scale exceed its budget"),
    ("FG409", "context-too-long", E, "max model length exceeds the model's context window"),
    ("FG411", "llmisvc-gpu-count-mismatch", E, "GPUs per pod differ from TP x PP x dataLocal"),
    ("FG412", "parallelism-ignored", E, "No preset in baseRefs passes a parallelism field on"),
    ("FG413", "unknown-preset", E, "baseRefs names no well-known KServe config"),
    ("FG414", "parallelism-on-isvc", E, "LLMInferenceService parallelism on an InferenceService"),
    ("FG415", "webhook-parallelism", E, "KServe's webhook refuses the parallelism asked"),
    ("FG416", "data-parallel-ranks", E, "Data-parallel ranks do not split over the pods"),
    ("FG417", "llmisvc-pod-exceeds-node", E, "A data-local pod needs more GPUs than a node has"),
    ("FG418", "preset-flag-unsupported", E, "The pinned vLLM refuses a flag a preset passes"),
    ("FG419", "preset-flag-repeated", E, "An extra arg repeats a flag a preset derives"),
    ("FG430", "failure-budget-stranded", E, "Losing clusters leaves a model with no replica"),
    ("FG431", "failure-budget-pool-short", E, "After a cluster loss a pool lacks GPUs at min"),
    ("FG432", "failure-budget-autoscaler-cap", E, "Survivors' max replicas cannot take the lost"),
    ("FG433", "failure-budget-too-large", E, "The failure budget loses every cluster"),
    ("FG434", "team-cost-over-budget", W, "A team's monthly GPU cost at max exceeds its budget"),
    ("FG435", "cost-unpriced-pool", W, "A team with a budget uses a pool without a price"),
    ("FG436", "rollout-app-unmatched", E, "A model app falls in no rollout step"),
    ("FG437", "rollout-app-in-two-steps", E, "A model app falls in more than one rollout step"),
    ("FG438", "rollout-step-empty", E, "A rollout step selects no model app"),
    ("FG439", "rollout-without-progressive-syncs", E, "A rollout without progressive syncs on"),
    ("FG440", "rollout-unknown-cluster", E, "A rollout step names a cluster the env lacks"),
    ("FG441", "rollout-unknown-model", E, "A rollout canary names a model the env lacks"),
    # 5xx: autoscaling and runtime contract
    ("FG501", "replica-bounds", E, "minReplicas is greater than maxReplicas"),
    ("FG502", "scale-to-zero", E, "Scale to zero needs an explicit opt-in and activation"),
    ("FG503", "metric-not-exported", E, "The pinned vLLM version does not export this metric"),
    ("FG504", "unknown-runtime-version", E, "The vLLM version is unknown or cannot be derived"),
    ("FG505", "unknown-flag", E, "The pinned vLLM version does not accept this flag"),
    ("FG506", "managed-flag", E, "An extra arg repeats a flag fleetgen sets itself"),
    ("FG507", "unpinned-image", E, "The runtime image is not pinned by version tag or digest"),
    ("FG508", "image-without-digest", W, "A production image is pinned by tag, not digest"),
    ("FG509", "image-not-allowed", E, "The image repository is not in the environment's list"),
    ("FG510", "kv-connector-unsupported", E, "The pinned vLLM has no LMCache KV connector"),
    ("FG511", "runtime-newer-than-contract", W, "The vLLM release is newer than the contract data"),
    ("FG512", "scaler-metric-not-gauge", E, "The autoscaler scales on a counter or histogram"),
    ("FG513", "label-value-not-emitted", E, "A query matches a label value vLLM never sets"),
    ("FG514", "metrics-switched-off", E, "An extra flag switches off metrics the platform uses"),
    ("FG515", "scaler-metric-type-mismatch", E, "The KEDA metricType does not fit the query"),
    ("FG516", "flag-deprecated", W, "The flag is deprecated in the pinned vLLM release"),
    # 6xx: policy
    ("FG601", "promotion", E, "A production image was not used in staging first"),
    ("FG602", "secret-literal", E, "A value looks like a secret"),
    ("FG603", "dummy-key-in-production", E, "A dummy API key in a production environment"),
    ("FG604", "argocd-reserved-key", E, "A key the Argo CD git generator overwrites"),
    ("FG605", "forbidden-flag", E, "An extra arg would run outside code or move the weights"),
    # 7xx: rendered manifests (validate --rendered)
    ("FG700", "render-failed", E, "kustomize cannot build a generated app"),
    ("FG701", "schema-violation", E, "A rendered object fails its CRD or Kubernetes schema"),
    ("FG702", "cel-violation", E, "A rendered object breaks a CRD validation rule (CEL)"),
    ("FG703", "missing-schema", E, "No schema is known for a rendered object's kind"),
    ("FG704", "dangling-backend", E, "A route's backend chain does not reach a predictor"),
    ("FG705", "served-name-mismatch", E, "A route's model differs from vLLM's served name"),
    ("FG706", "autoscaler-target", E, "A ScaledObject does not scale its model's predictor"),
    ("FG707", "metric-contract", E, "A query uses a metric or label vLLM does not export"),
    ("FG708", "monitor-target", E, "A PodMonitor misses the predictor pods or vLLM's port"),
    ("FG709", "dangling-policy", E, "A policy, credential or parent reference does not resolve"),
    ("FG710", "cache-source", E, "A LocalModelCache source is no prefix of a storageUri"),
    ("FG711", "trace-endpoint", E, "An OTLP endpoint differs from the environment's Phoenix"),
    ("FG712", "namespace-mismatch", E, "An object sits outside the namespaces its app may use"),
    ("FG713", "duplicate-object", E, "Two apps on one cluster render the same object"),
    ("FG714", "generated-out-of-date", E, "The committed generated files differ from the inputs"),
    (
        "FG715",
        "duplicate-list-entry",
        E,
        "A set or keyed list of a rendered object repeats an entry",
    ),
    ("FG716", "invalid-metadata", E, "A rendered object's name, labels or annotations are refused"),
    ("FG717", "invalid-default", E, "A value a schema default fills in fails validation"),
    (
        "FG718",
        "invalid-embedded-resource",
        E,
        "An embedded resource lacks apiVersion/kind or valid metadata",
    ),
    # 72x-73x: Argo CD as its controllers read the repository (validate --all, plan)
    ("FG720", "appset-template-error", E, "An ApplicationSet's generator or template fails"),
    ("FG721", "appset-not-expanded", W, "An ApplicationSet uses what fleetgen cannot expand"),
    ("FG722", "unknown-project", E, "An Application's AppProject is missing or comes later"),
    ("FG723", "destination-not-permitted", E, "The project does not permit the destination"),
    ("FG724", "kind-not-permitted", E, "The project does not permit a kind the app renders"),
    ("FG725", "refresh-path-missing", E, "A manifest-generate-paths entry does not exist"),
    ("FG726", "refresh-paths-incomplete", E, "manifest-generate-paths miss a file the build reads"),
    ("FG727", "namespace-missing", E, "A namespace does not exist before the wave that uses it"),
    ("FG728", "create-namespace-forbidden", W, "CreateNamespace where the project denies it"),
    ("FG729", "crd-after-use", E, "No earlier wave installs the CRD of an object"),
    ("FG730", "object-managed-twice", E, "Two Applications manage the same object"),
    ("FG731", "duplicate-application", E, "Two Applications share a name in one namespace"),
    ("FG732", "source-not-built", E, "An Application's path does not exist or does not build"),
    ("FG760", "llmisvc-gpu-mismatch", E, "The vLLM pod's GPUs differ from its parallelism"),
    ("FG761", "llmisvc-autoscaler-target", E, "A ScaledObject misses the workload KServe creates"),
    ("FG762", "dangling-pool", E, "A route or service names an InferencePool nothing creates"),
    ("FG763", "pool-selector", E, "An InferencePool's selector matches no pod KServe creates"),
    ("FG764", "preset-args", E, "Preset and container flags clash or are refused by vLLM"),
    ("FG765", "empty-backend-refs", E, "A route rule has no backendRefs"),
    ("FG766", "pool-other-namespace", E, "A route sends to a pool in another namespace"),
    ("FG767", "llmisvc-webhook-refusal", E, "KServe's webhook refuses the rendered parallelism"),
    ("FG768", "rendered-parallelism-ignored", E, "No preset passes a rendered parallelism field"),
    ("FG769", "multi-node-traffic-blocked", E, "A NetworkPolicy cuts a leader off its workers"),
    (
        "FG780",
        "bootstrap-repo-mismatch",
        W,
        "An environment reads another repo than the root syncs",
    ),
    (
        "FG781",
        "bootstrap-namespace-mismatch",
        W,
        "An environment's Argo CD namespace is not the root's",
    ),
    (
        "FG790",
        "crd-cel-cost",
        E,
        "A rendered CRD's validation rules are too expensive for the API server",
    ),
    # 9xx: the platform graph (wiring across components)
    ("FG901", "chart-pin-unknown", W, "A prerequisite chart version the bill of materials lacks"),
    (
        "FG902",
        "endpoint-service-missing",
        E,
        "A URL names a Service the pinned chart does not create",
    ),
    (
        "FG903",
        "endpoint-namespace-mismatch",
        E,
        "A URL or namespace misses where the chart is installed",
    ),
    (
        "FG904",
        "endpoint-port-mismatch",
        E,
        "A URL dials a port the chart's Service does not serve for it",
    ),
    (
        "FG905",
        "endpoint-scheme-mismatch",
        E,
        "A URL asks for TLS where the chart serves plain traffic",
    ),
    ("FG906", "otlp-protocol-port", E, "The OTLP protocol does not match the Phoenix port"),
    ("FG907", "otlp-http-path", E, "An OTLP/HTTP endpoint misses Phoenix's /v1/traces path"),
    (
        "FG908",
        "endpoint-bare-service",
        E,
        "A URL names a bare Service that other namespaces cannot resolve",
    ),
    (
        "FG909",
        "derived-endpoint-missing",
        E,
        "An endpoint fleetgen derives is not served by the pinned chart",
    ),
    (
        "FG910",
        "container-port-undeclared",
        E,
        "A process listens on a port its container does not declare",
    ),
    ("FG911", "probe-port", E, "A probe checks a port the process does not listen on"),
    (
        "FG912",
        "named-port-missing",
        E,
        "A probe, monitor, Service or policy names an undeclared port",
    ),
    (
        "FG913",
        "service-target-port",
        E,
        "A Service or pool sends traffic to a port nothing listens on",
    ),
    ("FG914", "metrics-path", E, "A PodMonitor scrapes vLLM on another path than /metrics"),
    (
        "FG915",
        "ingress-port",
        E,
        "A NetworkPolicy admits a port the selected pods do not listen on",
    ),
    ("FG916", "egress-blocked", E, "A pod's egress policies drop a connection it must open"),
    ("FG917", "client-port", E, "A URL dials a port its Service does not expose"),
    ("FG930", "selector-selects-nothing", E, "A NetworkPolicy or Service selector selects no pod"),
    ("FG931", "patch-target-missing", E, "An overlay patch's target is gone from its base"),
    ("FG932", "monitor-not-selected", E, "The installed Prometheus does not select a monitor"),
    ("FG933", "dashboard-not-loaded", E, "The Grafana sidecar does not load a dashboard"),
    ("FG940", "secret-store-mismatch", E, "An ExternalSecret reads another store than declared"),
    ("FG941", "secret-path-shared", E, "Two environments read one Vault path undeclared"),
    ("FG950", "storage-uri-other-model", E, "The storageUri holds another catalog model"),
    ("FG951", "cache-below-weights", E, "The local model cache is smaller than the weights"),
    ("FG952", "pool-label-mismatch", E, "A pool's node labels name another GPU than its gpu"),
    ("FG953", "parallelism-gpu-mismatch", E, "Parallelism flags want other GPUs than requested"),
    ("FG954", "cpu-kv-tier-exceeds-memory", E, "The CPU KV-cache tier does not fit the pod memory"),
    ("FG960", "cluster-server-twice", E, "Two clusters of an environment share a server URL"),
    ("FG961", "environments-share-cluster", E, "Two environments collide on one cluster"),
    ("FG962", "project-name-twice", E, "Two environments name the same Argo CD project"),
    ("FG963", "orphaned-app-directory", E, "An app directory under applicationsets/ has no owner"),
    ("FG970", "patch-lands-elsewhere", E, "An index-addressed patch no longer lands on its item"),
    ("FG971", "deployment-mode-unknown", E, "The KServe deployment mode is not one KServe knows"),
    (
        "FG972",
        "deployment-mode-no-deployment",
        E,
        "The deployment mode creates no predictor Deployment that KEDA and the Backend expect",
    ),
    ("FG973", "deployment-mode-legacy", W, "The deployment mode is a legacy name KServe rewrites"),
    ("FG974", "host-label-too-long", E, "KServe's predictor host label exceeds 63 characters"),
    # 8xx: change guard (validate --base)
    ("FG801", "deleted-without-retire", E, "An app disappears without being retired first"),
    ("FG802", "mass-deletion", E, "The number of apps drops by more than the allowed share"),
)

CODES: dict[str, Code] = {cid: Code(cid, slug, sev, title) for cid, slug, sev, title in _TABLE}


def doc(code_id: str) -> str:
    """The doc page of a code (What / Why / Example / How to fix)."""
    return resources.files(__package__).joinpath(f"{code_id}.md").read_text(encoding="utf-8")


def diag(
    code_id: str,
    message: str,
    at: Location,
    *,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    """A diagnostic with the code's default severity unless a rule overrides it."""
    return Diagnostic(code_id, severity or CODES[code_id].severity, message, at, hint)
