"""Rendering: Fleet -> an in-memory file plan of overlays and Argo CD objects (pure)."""
