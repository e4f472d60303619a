"""The run report: a tiny real training run, analysed and written as one HTML file."""

from __future__ import annotations

import json
from pathlib import Path

from algolens.store import RunStore
from algolens.train import make_config, start_run
from tests.report.checks import assert_report_reflects_run


def test_report_of_a_tiny_run(tmp_path, run_cli):
    store = RunStore(tmp_path / "store")
    cfg = make_config("fast", group="S3", seeds=[0, 1], epochs=30, train_frac=0.5)
    summary = start_run(cfg, store)
    code, out, err = run_cli(
        "report", summary["run_id"], "--store", str(tmp_path / "store"), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert len(data["seeds"]) == 2
    assert set(data["seeds"][0]["similarity"]) == {"trivial", "sign", "standard"}
    report = Path(data["report"])
    assert report.parent == store.paths(summary["run_id"]).root
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and "Character similarity" in text
    keys = {seed: a["key_irreps"] for seed, a in zip(cfg.seeds, data["seeds"])}
    assert_report_reflects_run(report, report.parent, keys)


def test_report_unknown_run_is_exit_2(tmp_path, run_cli):
    code, _, err = run_cli("report", "nope", "--store", str(tmp_path / "s"))
    assert code == 2 and err.startswith("error:")
