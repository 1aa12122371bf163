"""python -m fleetgen.knowledge.cluster_api CRD_FILES_OR_DIRS... > data/scopes.json"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fleetgen.knowledge.cluster_api import derive_scopes

json.dump(derive_scopes(Path(a) for a in sys.argv[1:]), sys.stdout, indent=2)
sys.stdout.write("\n")
