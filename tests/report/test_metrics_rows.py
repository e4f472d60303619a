"""A tampered or torn ``metrics.jsonl`` never breaks a report: rows that lack keys are gaps,
lines that are not JSON objects are skipped with a note (issue 18)."""

from __future__ import annotations

import json

from algolens.report.common import read_metrics_counted, training_curves
from algolens.report.run import general_report
from algolens.store import RunStore
from algolens.train import make_config

GOOD = {"epoch": 10, "train_acc": [0.5], "test_acc": [0.25], "train_loss": [1.0],
        "test_loss": [2.0]}  # fmt: skip


def _lines() -> list[str]:
    return [
        json.dumps(GOOD),
        json.dumps({"epoch": 20, "test_acc": [0.5], "test_loss": [1.5]}),  # no train_acc/loss
        "{not json",
        json.dumps([1, 2]),  # JSON, not an object
        json.dumps({"train_acc": [1.0]}),  # no epoch
        json.dumps(
            {
                "epoch": 30,
                "train_acc": ["high"],
                "test_acc": [],
                "train_loss": [0.1],
                "test_loss": [0.2],
            }
        ),  # fmt: skip
        json.dumps({**GOOD, "epoch": 40}),
    ]


def test_rows_lacking_keys_are_gaps_and_bad_lines_are_counted(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(_lines()) + "\n")
    rows, skipped = read_metrics_counted(path)
    assert skipped == 2 and len(rows) == 5
    fig = training_curves([r for r in rows if "epoch" in r], [7], {7: 20})
    train_acc = next(t for t in fig.data if t.name == "seed 7 train" and t.yaxis == "y")
    assert list(train_acc.y) == [0.5, None, None, 0.5]


def test_a_report_of_a_tampered_metrics_file_is_written_with_a_note(tmp_path):
    store = RunStore(tmp_path)
    config = make_config("fast", group="S3", seeds=[7]).to_dict()
    run_id = store.create("train", config)
    paths = store.paths(run_id)
    paths.metrics.write_text("\n".join(_lines()) + "\n")
    store.set_summary(run_id, {"seeds": [{"grok_epoch": 20}, "junk"]}, status="interrupted")
    html = general_report(store, run_id).read_text()
    assert "2 line(s) of metrics.jsonl are not JSON objects and were skipped" in html
