"""fleetgen: validate and generate a GitOps fleet of LLM deployments."""

__version__ = "0.1.0"
