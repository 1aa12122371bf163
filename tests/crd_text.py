"""Small test CRDs as YAML text: one namespaced kind in example.com, schema given by the test."""

from __future__ import annotations

import textwrap

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
