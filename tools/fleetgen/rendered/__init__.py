"""Validation of what Argo CD will apply: render every app, check schemas and wiring."""
