"""Shared Kubernetes test fixtures: small example CRDs as YAML text, and sample manifests."""

from __future__ import annotations

import textwrap
from typing import Any

_HEADER = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.example.com}}
spec:
  group: example.com
  names: {{kind: {kind}, plural: {plural}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
"""
_STANDARD = """\
properties:
  apiVersion: {type: string}
  kind: {type: string}
  metadata: {type: object}
"""


def crd_text(
    kind: str, plural: str, properties: str, *, validations: str = "", more_versions: str = ""
) -> str:
    """A CRD whose served v1 schema is an object with apiVersion, kind, metadata and
    `properties` (YAML under `properties:`), with object-level CEL `validations` (YAML list
    items) and further `versions` entries (YAML list items) appended."""
    schema = "type: object\n"
    if validations:
        schema += "x-kubernetes-validations:\n" + textwrap.dedent(validations)
    schema += _STANDARD + textwrap.indent(textwrap.dedent(properties), "  ")
    text = _HEADER.format(kind=kind, plural=plural) + textwrap.indent(schema, " " * 8)
    return text + textwrap.indent(textwrap.dedent(more_versions), "  ")


# A valid KEDA ScaledObject (the real CRD is in the upstream CRD directory).
SCALED_OBJECT: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "m", "namespace": "llm"},
    "spec": {
        "scaleTargetRef": {"name": "m-predictor"},
        "minReplicaCount": 1,
        "maxReplicaCount": 4,
        "triggers": [{"type": "prometheus", "metadata": {"query": "up", "threshold": "5"}}],
    },
}
