"""FG941: two environments read one Vault path only when they say so.

The API keys of an environment come from `apiKeys.vault.path` through its ClusterSecretStore.
A staging environment that points at production's path (a copied environment file, a path
typed from memory) mirrors the production keys into the staging cluster, where more people can
read Secrets: the keys leak without anything failing. Sharing on purpose is declared with
`apiKeys.vault.sharedWith` on either side.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic
from fleetgen.domain.environment import Environment
from fleetgen.loading.fleet import Fleet

__all__ = ["check_shared_paths"]

# The tier whose keys matter more: the message says whose keys leak where.
_RANK = {"prod": 2, "staging": 1, "dev": 0}


def _key(env: Environment) -> tuple[str, str] | None:
    keys = env.api_keys
    if keys.source != "vault" or not keys.vault_store or not keys.vault_path:
        return None
    return keys.vault_store, keys.vault_path.strip("/")


def _declared(a: Environment, b: Environment) -> bool:
    return b.name in a.api_keys.vault_shared_with or a.name in b.api_keys.vault_shared_with


def check_shared_paths(fleet: Fleet) -> Iterator[Diagnostic]:
    envs = sorted(fleet.environments.values(), key=lambda e: e.name)
    for i, a in enumerate(envs):
        for b in envs[i + 1 :]:
            key = _key(a)
            if key is None or key != _key(b) or _declared(a, b):
                continue
            owner, reader = (a, b) if _RANK.get(a.tier, 0) >= _RANK.get(b.tier, 0) else (b, a)
            # Either file may hold the mistake: say it in both.
            for env, other in ((reader, owner), (owner, reader)):
                yield diag(
                    "FG941",
                    f"environment {env.name} reads Vault path {key[1]!r} of store {key[0]!r}, "
                    f"as environment {other.name} does: {owner.name}'s API keys would be "
                    f"readable in {reader.name}'s clusters",
                    env.source.at("spec", "apiKeys", "vault", "path"),
                    hint=f"give each environment its own path, or declare the sharing with "
                    f"apiKeys.vault.sharedWith: [{other.name}]",
                )
