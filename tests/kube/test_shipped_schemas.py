"""The committed schemas/: a repeatable import of the upstream CRDs, with their provenance."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from fleetgen.kube.crd_schema import parse_schema_filename
from fleetgen.kube.schema_provenance import load_origins
from tests.conftest import REPO, RunCli, crds_dir

SHIPPED = REPO / "schemas"


def tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_committed_schemas_are_exactly_a_fresh_import(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = run_cli(
        [
            "schemas", "import", str(crds_dir()),
            "--origins", str(SHIPPED / "origins.yaml"), "--out", str(out),
        ]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    fresh = tree(out)
    shipped = {k: v for k, v in tree(SHIPPED).items() if k != "origins.yaml"}
    assert sorted(shipped) == sorted(fresh)
    changed = [name for name in fresh if fresh[name] != shipped[name]]
    assert changed == [], "re-import and commit: " + ", ".join(changed)


def test_provenance_names_every_schema_and_its_upstream_file() -> None:
    record = json.loads((SHIPPED / "provenance.json").read_text())
    origins = load_origins(SHIPPED / "origins.yaml")
    schema_files = {
        p.relative_to(SHIPPED).as_posix()
        for p in SHIPPED.rglob("*.json")
        if parse_schema_filename(p) is not None
    }
    listed = {s for source in record["sources"] for s in source["schemas"]}
    assert listed == schema_files
    assert {s["file"] for s in record["sources"]} == set(origins)
    for source in record["sources"]:
        upstream = source["upstream"]
        assert set(upstream) >= {"repository", "tag", "path"}, source["file"]
        assert re.fullmatch(r"v\d+\.\d+\.\d+", upstream["tag"]), upstream
        assert Path(upstream["path"]).name == Path(source["file"]).name
        assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
        assert re.fullmatch(r"[0-9a-f]{40}", source["gitBlob"])


def test_provenance_matches_the_crd_files_byte_for_byte() -> None:
    """sha256 and git blob of every source against the CRD files the tests are given; where
    that directory carries its own provenance table, the blob ids and tags agree with it."""
    crds = crds_dir()
    record = json.loads((SHIPPED / "provenance.json").read_text())
    table = (crds / "PROVENANCE.md").read_text() if (crds / "PROVENANCE.md").is_file() else ""
    for source in record["sources"]:
        data = (crds / source["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == source["sha256"], source["file"]
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        assert blob == source["gitBlob"], source["file"]
        if table:
            (row,) = [r for r in table.splitlines() if r.startswith(f"| `{source['file']}` |")]
            upstream = source["upstream"]
            assert f"`{upstream['path']}` @ {upstream['tag']}" in row
            assert source["gitBlob"] in row
