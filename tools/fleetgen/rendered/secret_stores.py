"""FG940: an ExternalSecret reads the store and path its environment declares.

With `apiKeys.source: vault` the environment names a ClusterSecretStore (`apiKeys.vault.store`)
and a Vault path. The platform layer's ExternalSecret must reference exactly that store, as a
ClusterSecretStore (a namespaced SecretStore of that name does not exist in the model
namespace), and extract that path: otherwise External Secrets reports the store missing, the
gateway's API-key Secret is never written, and every request is refused with 401.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.rendered.linker import LinkContext

__all__ = ["check_secret_stores"]

STORE_KIND = "ClusterSecretStore"  # the kind the environment schema's vault.store names


def check_secret_stores(ctx: LinkContext) -> Iterator[Diagnostic]:
    keys = ctx.env.api_keys
    if keys.source != "vault" or not keys.vault_store:
        return
    for es in ctx.graph.of_kind("ExternalSecret"):
        spec = es.doc.get("spec") or {}
        ref = spec.get("secretStoreRef")
        if not isinstance(ref, dict):
            continue  # a generator-backed secret (dummy keys) reads no store
        kind, name = str(ref.get("kind") or "SecretStore"), str(ref.get("name") or "")
        edge = f"ExternalSecret {es.namespace}/{es.name}"
        if kind != STORE_KIND:
            yield diag(
                "FG940",
                f"{edge}: secretStoreRef kind {kind}, but the environment's store "
                f"{keys.vault_store!r} is a {STORE_KIND}: External Secrets looks for a "
                f"{kind} in {es.namespace} and writes no Secret",
                ctx.where.locate(es, "/spec/secretStoreRef/kind"),
                hint=f"reference kind: {STORE_KIND}",
            )
        if name != keys.vault_store:
            yield diag(
                "FG940",
                f"{edge}: secretStoreRef names store {name!r}, not the environment's "
                f"{keys.vault_store!r}",
                ctx.where.locate(es, "/spec/secretStoreRef/name"),
                hint="the store comes from apiKeys.vault.store",
            )
        for i, entry in enumerate(spec.get("dataFrom") or []):
            key = ((entry or {}).get("extract") or {}).get("key")
            if key is not None and str(key).strip("/") != (keys.vault_path or "").strip("/"):
                yield diag(
                    "FG940",
                    f"{edge}: extracts Vault path {key!r}, not the environment's "
                    f"{keys.vault_path!r}",
                    ctx.where.locate(es, f"/spec/dataFrom/{i}/extract/key"),
                    hint="the path comes from apiKeys.vault.path",
                )
