"""Argo CD as its controllers read the repository: the ApplicationSets expanded into
Applications with the pinned release's semantics, each Application's build, and the checks
an API server or a sync would otherwise fail on (FG720-FG749)."""
