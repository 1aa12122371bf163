"""Reading repository inputs: discover files, parse YAML with positions, check schemas."""
