"""FG507-FG509 image policy, FG601 promotion, FG602 secrets, FG603 dummy keys, and FG107
for storage URIs that escape their location."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fleetgen.codes import diag
from fleetgen.core.diagnostics import Diagnostic, Location, Severity
from fleetgen.core.positions import PathPart
from fleetgen.domain.images import parse_image, repository_allowed
from fleetgen.domain.model import Source
from fleetgen.domain.placement import Placement
from fleetgen.loading.fleet import Fleet, focused_placements, placements

# Shapes of credentials that must never sit in a descriptor (they would land in Git and in
# generated manifests).
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("OpenAI-style API key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("credentials in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
    ("password or token flag", re.compile(r"^--[a-z-]*(api-key|token|password|secret)=.+")),
)


def image_location(p: Placement) -> Location:
    if p.override.image:
        return p.descriptor.source.at("spec", "environments", p.environment.name, "image")
    return p.descriptor.source.at("spec", "runtime", "image")


def check_images(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG507 pinned, FG508 digest in production, FG509 allowed repositories."""
    for p in focused_placements(fleet):
        ref, env = parse_image(p.image), p.environment
        where = image_location(p)
        if not ref.pinned:
            yield diag(
                "FG507",
                f"image {p.image!r} is not pinned",
                where,
                hint="use a version tag such as :v0.11.2, or a @sha256 digest",
            )
        elif env.production and ref.digest is None:
            yield diag(
                "FG508",
                f"{env.name} runs {p.image!r} by tag; a tag can be moved",
                where,
                hint="pin by digest too: image:tag@sha256:...",
            )
        allowed = env.allowed_repositories
        if allowed is not None and not repository_allowed(ref.repository, allowed):
            yield diag(
                "FG509",
                f"repository {ref.repository!r} is not allowed in {env.name}",
                where,
                hint=f"allowed: {', '.join(allowed)}",
            )


def check_promotion(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG601: what runs in production ran in staging first (per environment policy)."""
    staged = fleet.footprints().staged
    for p in placements(fleet):
        if not p.environment.production or p.environment.promotion == "off":
            continue
        if not fleet.in_focus(p.descriptor.source.path):
            continue
        if p.image in staged.get(p.descriptor.name, ()):
            continue
        severity = Severity.ERROR if p.environment.promotion == "error" else Severity.WARNING
        yield diag(
            "FG601",
            f"{p.environment.name} would run {p.image!r}, which no staging environment runs "
            f"for {p.descriptor.name!r}",
            image_location(p),
            hint="deploy the image to staging first (per-environment image overrides)",
            severity=severity,
        )


def _strings(value: Any, path: tuple[PathPart, ...]) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _secrets_in(source: Source) -> Iterator[Diagnostic]:
    for path, text in _strings(source.data, ()):
        for label, pattern in SECRET_PATTERNS:
            if pattern.search(text):
                yield diag(
                    "FG602",
                    f"this value looks like a {label}",
                    source.at(*path),
                    hint="keep secrets in Vault or a Secret; reference them, never inline them",
                )
                break


def check_secrets(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG602 literal secrets in any descriptor or environment value; FG603 dummy keys."""
    for desc in fleet.focused():
        yield from _secrets_in(desc.source)
    for env in fleet.environments.values():
        yield from _secrets_in(env.source)
        if env.production and env.api_keys.source == "dummy":
            yield diag(
                "FG603",
                f"environment {env.name!r} is production but uses a dummy API key",
                env.source.at("spec", "apiKeys", "source"),
                hint="use source: vault (External Secrets) or source: secret",
            )


# A PersistentVolumeClaim name is a DNS-1123 subdomain.
_CLAIM = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def storage_uri_problem(uri: str) -> tuple[str, str] | None:
    """What is wrong with a schema-valid storageUri (message, hint), or None.

    The schema fixes the scheme and the characters; a pattern cannot also say "no `..`
    segment" readably, and a claim name has rules of its own.
    """
    scheme, _, rest = uri.partition("://")
    segments = rest.split("/")
    if ".." in segments:
        return (
            "storageUri has a '..' path segment: it would reach outside the model's location",
            "write the path to the model without '..'",
        )
    if scheme == "pvc":
        claim = segments[0]
        if len(claim) > 253 or not _CLAIM.fullmatch(claim):
            return (
                f"{claim!r} is not a PersistentVolumeClaim name",
                "pvc://<claim>/<path>: the claim is lowercase letters, digits, '-' and '.' "
                "(a DNS-1123 subdomain)",
            )
    return None


def check_storage_uris(fleet: Fleet) -> Iterator[Diagnostic]:
    """FG107 for a storageUri that the schema's pattern lets through but KServe must not get."""
    for desc in fleet.focused():
        found = storage_uri_problem(desc.model.storage_uri)
        if found is not None:
            message, hint = found
            yield diag("FG107", message, desc.source.at("spec", "model", "storageUri"), hint=hint)
