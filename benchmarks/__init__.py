"""fleetgen's benchmarks: ``run.py`` is the command, ``metrics/`` holds one module per metric."""
