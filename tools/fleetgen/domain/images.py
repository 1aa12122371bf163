"""Image references: repository, tag and digest, as the descriptor schema allows them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        """Pinned by digest, or by a tag other than `latest`."""
        return self.digest is not None or (self.tag is not None and self.tag != "latest")


def parse_image(ref: str) -> ImageRef:
    """Split `repo[:port]/path[:tag][@sha256:...]` into its parts."""
    name, _, digest = ref.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        return ImageRef(name[:colon], name[colon + 1 :], digest or None)
    return ImageRef(name, None, digest or None)


def repository_allowed(repository: str, allowed: tuple[str, ...]) -> bool:
    """True when the repository equals an allowed entry or lies under it as a path."""
    return any(repository == a or repository.startswith(a.rstrip("/") + "/") for a in allowed)
