"""`fleetgen capacity`, `fleetgen fit` and `fleetgen catalog` on the example fleet."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, RunCli


def test_capacity_ledger_sums_placements(run_cli: RunCli) -> None:
    result = run_cli(["capacity", "--format", "json", "--root", str(REPO)])
    assert result.returncode == 0, result.stderr
    pools = {
        (p["environment"], p["cluster"], p["pool"]): p for p in json.loads(result.stdout)["pools"]
    }
    # prod-a/h100: llama-8b 2..6 replicas x 1 GPU plus llama-70b-fp8 2..6 x 4 GPUs.
    prod_a = pools[("prod", "prod-a", "h100")]
    assert (prod_a["capacity"], prod_a["minGpus"], prod_a["maxGpus"]) == (48, 10, 30)
    assert prod_a["models"] == ["llama-3-1-70b-instruct-fp8", "llama-3-1-8b-instruct"]
    # Mixtral runs on the H200 pools only; staging-a has none (its override picks h100).
    assert pools[("prod", "prod-a", "h200")]["models"] == ["mixtral-8x7b-instruct"]
    assert pools[("prod", "prod-b", "h200")]["models"] == ["mixtral-8x7b-instruct"]
    assert ("staging", "staging-a", "h200") not in pools


def test_capacity_text_and_env_filter(run_cli: RunCli) -> None:
    result = run_cli(["capacity", "--env", "dev", "--root", str(REPO)])
    assert result.returncode == 0
    pools_table = result.stdout.split("\n\n")[0].splitlines()
    assert pools_table[0].split()[:3] == ["ENVIRONMENT", "CLUSTER", "POOL"]
    assert {line.split()[0] for line in pools_table[1:]} == {"dev"}
    unknown = run_cli(["capacity", "--env", "qa", "--root", str(REPO)])
    assert unknown.returncode == 2
    assert "unknown environment 'qa'" in unknown.stderr


def test_capacity_flags_an_overcommitted_pool(example_repo: Path, run_cli: RunCli) -> None:
    env = example_repo / "environments" / "prod" / "environment.yaml"
    env.write_text(env.read_text().replace("          nodes: 6\n", "          nodes: 1\n", 1))
    result = run_cli(["capacity", "--env", "prod"], cwd=example_repo)
    assert result.returncode == 0
    row = next(
        line for line in result.stdout.splitlines() if line.split()[:2] == ["prod", "prod-a"]
    )
    assert "OVER by 2" in row  # 10 GPUs at minimum scale on 8
    validate = run_cli(["validate", "--format", "json"], cwd=example_repo)
    assert validate.returncode == 1
    # prod-a cannot hold its own minimum, let alone prod-b's when prod-b is lost.
    assert {d["code"] for d in json.loads(validate.stdout)} == {"FG406", "FG431"}


def test_fit_reports_the_memory_breakdown(run_cli: RunCli) -> None:
    result = run_cli(["fit", "llama-3-1-8b-instruct", "--env", "prod", "--root", str(REPO)])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "llama-3-1-8b-instruct in prod on pool h100" in out
    assert "KV cache per token     128 KiB (128 KiB per GPU)" in out
    assert "verdict                fits" in out
    missing = run_cli(["fit", "no-such-model", "--root", str(REPO)])
    assert missing.returncode == 2


def test_fit_70b_bf16_needs_tp4_on_h100(example_repo: Path, run_cli: RunCli) -> None:
    """stack.md §2: Llama-3.1-70B in bf16 does not fit at TP=2 on 80 GB, and does at TP=4."""
    path = example_repo / "fleet" / "llama-3-1-70b-instruct-fp8.yaml"
    text = (
        path.read_text()
        .replace("    quantization: fp8\n", "")
        .replace("    kvCacheDtype: fp8\n", "")
    )
    for tp, verdict, exit_code in ((2, "DOES NOT FIT", 1), (4, "fits", 0)):
        path.write_text(
            text.replace("tensorParallel: 4", f"tensorParallel: {tp}").replace(
                "gpusPerReplica: 4", f"gpusPerReplica: {tp}"
            )
        )
        result = run_cli(["fit", "llama-3-1-70b-instruct-fp8", "--env", "prod"], cwd=example_repo)
        assert result.returncode == 0
        assert "KV cache per token     320 KiB" in result.stdout
        assert f"verdict                {verdict}" in result.stdout
        validate = run_cli(["validate", "--format", "json"], cwd=example_repo)
        assert validate.returncode == exit_code, validate.stdout
        if exit_code:
            assert "FG404" in {d["code"] for d in json.loads(validate.stdout)}


def test_catalog_lists_models_and_gpus(run_cli: RunCli) -> None:
    result = run_cli(["catalog"])
    assert result.returncode == 0
    for name in (
        "llama-3.1-405b-instruct",
        "deepseek-r1",
        "gpt-oss-120b",
        "H200-141GB",
        "MI300X-192GB",
    ):
        assert name in result.stdout


def test_capacity_shows_costs_and_every_cluster_loss(run_cli: RunCli) -> None:
    result = run_cli(["capacity", "--env", "prod", "--format", "json", "--root", str(REPO)])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    costs = {c["team"]: c for c in data["costs"]}
    # search: llama-70b 2 clusters x 2..6 x 4 GPUs + llama-8b 2 x 2..6 x 1, at $2.50 x 730 h.
    assert (costs["search"]["minGpus"], costs["search"]["maxGpus"]) == (20, 60)
    assert costs["search"]["monthlyCostAtMax"] == 60 * 2.5 * 730
    assert costs["search"]["monthlyBudget"] == 120000
    assert costs["*"]["monthlyCostAtMin"] == 20 * 2.5 * 730 + 4 * 3.5 * 730
    losses = {tuple(loss["lost"]): loss for loss in data["losses"]}
    assert set(losses) == {("prod-a",), ("prod-b",)}
    assert all(loss["survives"] for loss in losses.values())
    # Peak demand after losing prod-a: 60 GPUs on prod-b/h100's 32.
    [peak] = losses[("prod-a",)]["shortAtMax"]
    assert (peak["pools"], peak["needGpus"], peak["capacity"], peak["missingGpus"]) == (
        ["prod-b/h100"],
        60,
        32,
        28,
    )
    text = run_cli(["capacity", "--env", "prod", "--root", str(REPO)]).stdout
    rows = [line.split() for line in text.splitlines()]
    assert ["prod", "search", "20", "60", "$36,500", "$109,500", "$120,000", "ok"] in rows
    assert ["prod", "prod-a", "ok", "prod-b/h100", "28", "short"] in rows


def test_capacity_names_a_model_a_loss_strands(example_repo: Path, run_cli: RunCli) -> None:
    desc = example_repo / "fleet" / "mixtral-8x7b-instruct.yaml"
    desc.write_text(desc.read_text().replace("clusters: [prod-a, prod-b]", "clusters: [prod-b]"))
    text = run_cli(["capacity", "--env", "prod"], cwd=example_repo).stdout
    losses = text.split("\n\n")[-1].splitlines()
    assert losses[0].split() == ["ENVIRONMENT", "LOST", "AT", "MIN", "AT", "MAX"]
    assert losses[2].split()[:4] == ["prod", "prod-b", "mixtral-8x7b-instruct", "stranded"]
    # The pre-commit path (only this file, the others as footprints) reports it here too.
    hook = run_cli(["validate", "fleet/mixtral-8x7b-instruct.yaml"], cwd=example_repo)
    assert hook.returncode == 1
    assert (
        "fleet/mixtral-8x7b-instruct.yaml:40:17: error FG430 losing cluster prod-b leaves model "
        "mixtral-8x7b-instruct with no replica: it runs only on prod-b" in hook.stdout
    )
