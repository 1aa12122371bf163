"""Kubernetes manifest handling: strict schema validation, YAML loading, kustomize."""
