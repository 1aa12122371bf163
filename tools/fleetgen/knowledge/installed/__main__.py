"""python -m fleetgen.knowledge.installed CHART_DIR --repo R --ref TAG --path P [--version V]
[--name N]
[--curated FILE] > tools/fleetgen/knowledge/installed/data/<chart>-<version>.json"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fleetgen.knowledge.installed.extract import extract

parser = argparse.ArgumentParser(prog="python -m fleetgen.knowledge.installed")
parser.add_argument("chart_dir", type=Path)
parser.add_argument("--repo", required=True, help="upstream repository, owner/name")
parser.add_argument("--ref", required=True, help="tag or commit the directory was read at")
parser.add_argument("--path", required=True, help="the chart's directory in that repository")
parser.add_argument("--version", help="the published chart version, when Chart.yaml differs")
parser.add_argument("--name", help="the published chart name, when Chart.yaml differs")
parser.add_argument("--curated", type=Path, help="JSON of curated facts, each with its reason")
args = parser.parse_args()
curated = json.loads(args.curated.read_text(encoding="utf-8")) if args.curated else None
data = extract(
    args.chart_dir,
    repo=args.repo,
    ref=args.ref,
    path=args.path,
    version=args.version,
    name=args.name,
    curated=curated,
)
json.dump(data, sys.stdout, indent=2)
sys.stdout.write("\n")
