"""Facts about KServe's LLMInferenceService: its well-known presets (derived data) and what its
controller creates (curated, each with where it was read)."""
