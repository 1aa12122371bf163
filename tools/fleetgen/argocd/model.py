"""Applications and AppProjects as Argo CD sees them, each knowing where it is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetgen.argocd.documents import Doc
from fleetgen.core.diagnostics import Location

__all__ = ["BOOTSTRAP_WAVE", "App", "Project", "wave_of"]

WAVE = "argocd.argoproj.io/sync-wave"
REFRESH_PATHS = "argocd.argoproj.io/manifest-generate-paths"
# Objects applied by hand before the root Application syncs anything.
BOOTSTRAP_WAVE = float("-inf")


def wave_of(data: dict[str, Any]) -> int:
    value = ((data.get("metadata") or {}).get("annotations") or {}).get(WAVE, "0")
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class App:
    """One Application: written in a file, or produced by an ApplicationSet's template."""

    data: dict[str, Any]
    doc: Doc  # the Application's document, or its ApplicationSet's
    prefix: tuple[str | int, ...]  # () for an Application, ("spec", "template") when generated
    wave: float  # its place in the root sync (an ApplicationSet's apps: the set's wave)
    wave_at: Location
    generated_by: str | None = None  # the ApplicationSet's name
    params_file: str | None = None  # the generator file its parameters came from

    def at(self, *parts: str | int) -> Location:
        return self.doc.at(*self.prefix, *parts)

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.data.get("metadata") or {}).get("namespace") or "")

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def project(self) -> str:
        return str(self.spec.get("project") or "")

    @property
    def destination(self) -> dict[str, Any]:
        dest = self.spec.get("destination")
        return dest if isinstance(dest, dict) else {}

    @property
    def server(self) -> str:
        return str(self.destination.get("server") or self.destination.get("name") or "")

    @property
    def dest_namespace(self) -> str:
        return str(self.destination.get("namespace") or "")

    @property
    def sources(self) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
        """(path of the source in the spec, source) for ``source`` or each of ``sources``."""
        if isinstance(self.spec.get("sources"), list):
            return [
                (("spec", "sources", i), s)
                for i, s in enumerate(self.spec["sources"])
                if isinstance(s, dict)
            ]
        source = self.spec.get("source")
        return [(("spec", "source"), source)] if isinstance(source, dict) else []

    @property
    def sync_options(self) -> list[str]:
        policy = self.spec.get("syncPolicy") or {}
        return [str(o) for o in (policy.get("syncOptions") or [])]

    @property
    def annotations(self) -> dict[str, str]:
        found = (self.data.get("metadata") or {}).get("annotations") or {}
        return {str(k): str(v) for k, v in found.items()}

    @property
    def label(self) -> str:
        return f"Application {self.name}" + (
            f" (from ApplicationSet {self.generated_by})" if self.generated_by else ""
        )


@dataclass(frozen=True, slots=True)
class Project:
    doc: Doc
    wave: float

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def namespace(self) -> str:
        return self.doc.namespace

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.doc.data.get("spec")
        return spec if isinstance(spec, dict) else {}


@dataclass(slots=True)
class RenderedObject:
    """One object an Application's build yields, with its effective namespace."""

    group: str
    kind: str
    name: str
    namespace: str | None  # None: cluster-scoped
    wave: int  # its sync-wave inside the Application
    origin: Location
    doc: dict[str, Any] = field(repr=False)


@dataclass(slots=True)
class Build:
    objects: list[RenderedObject] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)  # repository files the build reads
    error: str | None = None
