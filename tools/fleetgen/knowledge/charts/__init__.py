"""Facts about the prerequisite Helm charts fleetgen installs, derived from the charts' own files."""
