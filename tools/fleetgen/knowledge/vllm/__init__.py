"""vLLM release contracts: the extractor that reads a release artifact, and its data."""
