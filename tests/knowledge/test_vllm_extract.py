"""The vLLM contract extractor on small release archives the tests build themselves.

Both generations of vLLM's CLI set-up are covered: explicit ``add_argument`` calls (0.8) and
options derived from config dataclasses through ``get_kwargs`` (0.10 on), from an sdist and
from a wheel. Nothing of the archive is imported.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from fleetgen.core.errors import FleetgenError
from fleetgen.knowledge.vllm.extract import read_release
from fleetgen.knowledge.vllm.importer import import_releases
from fleetgen.knowledge.vllm.store import load_releases
from tests.knowledge.vllm_archives import new_sources, old_sources, write_sdist, write_wheel

TODAY = datetime.date(2026, 1, 2)


def test_old_style_sdist(tmp_path: Path) -> None:
    document = read_release(write_sdist(tmp_path, "0.8.9", old_sources()), TODAY)
    assert document["version"] == "0.8.9"
    flags = document["flags"]
    assert set(flags) == {
        "--host",
        "--port",
        "--model",
        "--tensor-parallel-size",
        "--enable-prefix-caching",
        "--disable-log-stats",
        "--disable-log-requests",
        "--internal-only",
    }
    assert flags["--enable-prefix-caching"] == {"negatable": True}  # BooleanOptionalAction
    assert flags["--disable-log-stats"] == {}  # store_true: no --no- form
    assert flags["--internal-only"] == {"hidden": True}
    assert flags["--disable-log-requests"] == {"deprecated": True, "removal": "0.10.0"}
    assert document["aliases"] == {"-tp": "--tensor-parallel-size"}
    reasons = document["metrics"]["vllm:request_success"]["values"]["finished_reason"]
    assert reasons == ["abort", "length", "stop"]
    assert document["kvConnectors"] == ["NixlConnector"]


def test_new_style_wheel(tmp_path: Path) -> None:
    document = read_release(write_wheel(tmp_path, "0.20.0", new_sources()), TODAY)
    flags = document["flags"]
    # The FrontendArgs loop gives one option per field, minus the one it deletes.
    assert {"--host", "--port", "--disable-uvicorn-access-log", "--enable-auto-tool-choice"} <= set(
        flags
    )
    assert "--lora-modules" not in flags
    # bool fields of config dataclasses become --x/--no-x pairs; others do not.
    assert flags["--enforce-eager"] == {"negatable": True}
    assert flags["--enable-prefix-caching"] == {"negatable": True}  # **{**kwargs[...], ...}
    assert flags["--disable-uvicorn-access-log"] == {"negatable": True}
    assert flags["--port"] == {} and flags["--headless"] == {}
    assert flags["--served-model-alias"] == {"deprecated": True, "removal": "0.40.0"}
    assert document["aliases"] == {"-asc": "--api-server-count"}
    assert document["kvConnectors"] == ["LMCacheConnectorV1", "NixlConnector"]


def test_metrics_types_labels_values_hidden(tmp_path: Path) -> None:
    metrics = read_release(write_wheel(tmp_path, "0.20.0", new_sources()), TODAY)["metrics"]
    assert set(metrics) == {
        "vllm:num_requests_waiting",
        "vllm:num_requests_waiting_by_reason",
        "vllm:gpu_cache_usage_perc",
        "vllm:request_success",
        "vllm:time_to_first_token_seconds",
    }
    assert metrics["vllm:num_requests_waiting"]["type"] == "gauge"
    assert metrics["vllm:request_success"]["type"] == "counter"
    assert metrics["vllm:time_to_first_token_seconds"]["type"] == "histogram"
    assert metrics["vllm:num_requests_waiting"]["labels"] == ["engine", "model_name"]
    by_reason = metrics["vllm:num_requests_waiting_by_reason"]
    assert by_reason["values"] == {"reason": ["capacity", "deferred"]}  # a module constant
    success = metrics["vllm:request_success"]["values"]["finished_reason"]
    assert success == ["abort", "error", "length", "stop"]  # str() of the IntEnum members
    old = metrics["vllm:gpu_cache_usage_perc"]
    assert old["hidden"] and old["deprecated"] and old["replacement"] == "vllm:kv_cache_usage_perc"


def test_provenance_and_encoding(tmp_path: Path) -> None:
    archive = write_sdist(tmp_path, "0.8.9", old_sources())
    out = tmp_path / "out"
    result = import_releases([archive], out, TODAY)
    (written,) = result.written
    document = json.loads(written.read_text())
    assert document["provenance"]["artifact"] == "vllm-0.8.9.tar.gz"
    assert document["provenance"]["extracted"] == "2026-01-02"
    assert document["provenance"]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_rerun_is_byte_stable_and_an_unchanged_patch_is_a_reference(tmp_path: Path) -> None:
    first = write_sdist(tmp_path, "0.20.0", new_sources())
    patch = write_wheel(tmp_path, "0.20.1", new_sources())
    out = tmp_path / "repo" / "runtime" / "vllm"
    import_releases([patch, first], out, TODAY)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = import_releases([first, patch], out, datetime.date(2027, 5, 5))
    assert again.written == () and len(again.unchanged) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # dates kept
    reference = json.loads((out / "0.20.1.json").read_text())
    assert reference["sameAs"] == "0.20.0" and "flags" not in reference
    assert reference["provenance"]["artifact"].startswith("vllm-0.20.1-")
    # The reader gives the patch the facts of the release it refers to, under its own name.
    releases = {r.version: r for r in load_releases(tmp_path / "repo").values()}
    assert releases["0.20.1"].document["flags"] == releases["0.20.0"].document["flags"]


def test_changed_patch_gets_its_own_facts(tmp_path: Path) -> None:
    changed = new_sources()
    changed["vllm/engine/arg_utils.py"] = changed["vllm/engine/arg_utils.py"].replace(
        '"--disable-log-stats"', '"--disable-log-stats-v2"'
    )
    out = tmp_path / "out"
    import_releases(
        [write_sdist(tmp_path, "0.20.0", new_sources()), write_wheel(tmp_path, "0.20.1", changed)],
        out,
        TODAY,
    )
    patch = json.loads((out / "0.20.1.json").read_text())
    assert "sameAs" not in patch and "--disable-log-stats-v2" in patch["flags"]


@pytest.mark.parametrize("content", [b"not an archive", b""])
def test_not_an_archive(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "vllm-1.0.0.whl"
    bad.write_bytes(content)
    with pytest.raises(FleetgenError, match="not a wheel or sdist"):
        read_release(bad)


def test_archive_without_vllm_sources(tmp_path: Path) -> None:
    path = tmp_path / "other-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.addfile(tarfile.TarInfo("other-1.0/README"))
    with pytest.raises(FleetgenError, match="no vllm/ Python sources"):
        read_release(path)


def test_nothing_of_the_release_runs(tmp_path: Path) -> None:
    sources = new_sources()
    marker = tmp_path / "ran"
    sources["vllm/engine/arg_utils.py"] = (
        f"open({str(marker)!r}, 'w').write('x')\n" + sources["vllm/engine/arg_utils.py"]
    )
    read_release(write_wheel(tmp_path, "0.20.0", sources), TODAY)
    assert not marker.exists()
