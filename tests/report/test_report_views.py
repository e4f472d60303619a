"""The report's analysis views: stored analyses rendered (not recomputed), progress measures with
the grokking epoch marked, and universality over seeds (with the paper's tallies for S5 MLPs)."""

from __future__ import annotations

import json
import re

import pytest

from algolens.analysis.store import HASH_KEY, content_hash
from algolens.report.html import HtmlReport
from algolens.report.progress_view import progress_section
from algolens.report.universality_view import universality_section
from algolens.store import RunStore
from algolens.train import make_config, start_run
from tests.report.checks import plotly_traces, table_rows

GROK = {0: 17, 1: None, 2: 30}
"""Grokking epochs written into the run's summary by hand (a 40-epoch S3 run does not grok)."""


@pytest.fixture
def run(tmp_path):
    """A 3-seed S3 MLP trained 40 epochs, its summary's grokking epochs set to :data:`GROK`."""
    store = RunStore(tmp_path / "store")
    cfg = make_config(
        "fast", group="S3", seeds=[0, 1, 2], epochs=40, train_frac=0.5, early_stop=False,
        log_checkpoints=5, checkpoint_every=20, model_args={"d_embed": 16, "d_mlp": 16},
    )  # fmt: skip
    summary = start_run(cfg, store)
    for s in summary["seeds"]:
        s["grok_epoch"] = GROK[s["seed"]]
    store.set_summary(summary["run_id"], summary)
    return store, summary["run_id"]


def _report(store, run_id):
    from algolens.cli.report import write_run_report

    path, analyses = write_run_report(store, run_id)
    return path.read_text(), analyses


def test_stored_analysis_is_rendered_not_recomputed(run):
    store, run_id = run
    folder = store.paths(run_id).root
    text, first = _report(store, run_id)
    stored = folder / "analyses" / "irreps.json"
    assert stored.is_file()  # missing analysis computed and stored
    data = json.loads(stored.read_text())
    assert [a.key for a in first] == [d["key_irreps"] for d in data["instances"]]
    data["instances"][0]["logit_fve"] = 0.123456  # edited by hand: only the file knows it
    data["instances"][0]["key_irreps"] = ["sign"]
    data["instances"][1]["key_irreps"] = ["sign", "standard"]
    data["instances"][2]["key_irreps"] = ["standard"]
    data[HASH_KEY] = content_hash(data)  # re-sealed, as a tamperer could
    stored.write_text(json.dumps(data))
    text, again = _report(store, run_id)
    assert again[0].logit_fve == 0.123456 and again[0].key == ["sign"]
    rows = table_rows(text)
    irreps_rows = [r for r in rows if len(r) == 11]  # the per-seed irreps table
    assert irreps_rows[0][:3] == ["0", "sign", "0.1235"]
    assert ["sign", "2", "67%"] in rows and ["standard", "2", "67%"] in rows
    assert ["trivial", "0", "0%"] in rows
    assert ["sign, standard", "1"] in rows and ["standard", "1"] in rows


def test_progress_table_rows_are_the_checkpoints_and_grok_epochs_are_marked(run):
    store, run_id = run
    folder = store.paths(run_id).root
    text, _ = _report(store, run_id)
    epochs = sorted(int(re.findall(r"\d+", p.name)[0]) for p in (folder / "checkpoints").iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    traces = plotly_traces(text)
    for k, s in enumerate(summary["seeds"]):
        progress = json.loads((folder / "analyses" / f"irreps-progress-{k}.json").read_text())
        assert progress["epochs"] == epochs
        assert f"Seed {s['seed']} (instance {k}) over training" in text
        g = GROK[s["seed"]]
        assert progress["grok_epoch"] == g
        seed_traces = [t for t in traces if t.get("name") == f"seed {s['seed']} grok"]
        assert [t["x"] for t in seed_traces] == ([] if g is None else [[g, g]])
    assert "grokking epoch 17." in text and "grokking epoch 30." in text
    assert text.count("did not grok.") == 1
    grok_lines = [t["x"] for t in traces if t.get("name") == "grok epoch"]
    assert grok_lines == [[17, 17]] * 3 + [[30, 30]] * 3  # one per panel of seeds 0 and 2
    rows = [r for r in table_rows(text) if len(r) == 10]  # epoch, 7 measures, sign, standard
    assert [int(r[0]) for r in rows] == epochs * len(summary["seeds"])
    restricted = [t for t in traces if t.get("name") == "restricted loss"]
    series = json.loads((folder / "analyses" / "irreps-progress-0.json").read_text())["series"]
    assert restricted[0]["y"] == pytest.approx([r["losses"]["restricted_loss"] for r in series])


def _progress(grok):
    series = [
        {"epoch": e, "similarity": {"trivial": 0.0, "sign": s, "standard": 0.01},
         "losses": {"train_loss": 1.0, "test_loss": 2.0, "restricted_loss": 0.5,
                    "excluded_loss": 3.0},
         "sum_sq_weights": 10.0 + e, "logit_fve": s * s,
         "key_irreps": ["sign"] if s > 0.005 else []}
        for e, s in ((0, 0.0), (10, 0.02), (100, 0.3))
    ]  # fmt: skip
    measures = {"learned_at": {"trivial": None, "sign": 100, "standard": None},
                "learning_order": ["sign"], "memorised": 10, "circuit": 100, "generalised": 100,
                "peak_weights": 100, "grok_epoch": grok}  # fmt: skip
    return {"instance": 0, "seed": 7, "series": series, "measures": measures, "grok_epoch": grok}


def test_progress_section_marks_the_grok_epoch_only_when_there_is_one():
    report = HtmlReport("t")
    progress_section(report, _progress(60))
    text = report.render()
    lines = [t for t in plotly_traces(text) if t.get("name") == "grok epoch"]
    assert [t["x"] for t in lines] == [[60, 60]] * 3
    assert "Learning order (similarity &gt; 0.05): sign @100." in text  # html-escaped
    assert "grokking epoch 60." in text
    rows = table_rows(text)
    assert [r[0] for r in rows] == ["0", "10", "100"] and rows[2][7] == "sign"
    report = HtmlReport("t")
    progress_section(report, _progress(None))
    text = report.render()
    assert "did not grok." in text
    assert not [t for t in plotly_traces(text) if t.get("name") == "grok epoch"]


def _inst(keys):
    return {"similarity": {"trivial": 0.0, "sign": 0.1, "standard": 0.2, "(3,1,1)": 0.0},
            "key_irreps": keys, "logit_fve": 0.5, "weight_fve": {"W_U": 0.9}}  # fmt: skip


def test_universality_view_counts_key_sets_and_shows_the_paper_only_for_s5_mlp():
    instances = [_inst(["sign", "standard"]), _inst(["sign", "standard"]), _inst(["standard"])]
    report = HtmlReport("t")
    universality_section(report, instances, group="S5", model="mlp")
    text = report.render()
    rows = table_rows(text)
    assert ["sign", "2", "67%", "49/50 (98%)"] in rows
    assert ["standard", "3", "100%", "49/50 (98%)"] in rows
    assert ["(3,1,1)", "0", "0%", "0/50 (0%)"] in rows
    assert ["trivial", "0", "0%", "-"] in rows  # not in the paper's tallies
    assert ["sign, standard", "2"] in rows and ["standard", "1"] in rows
    assert "Number of key irreps per seed: 1 irreps: 1, 2 irreps: 2." in text
    assert "Paper: 9 distinct sets in 50 seeds" in text
    bars = [t for t in plotly_traces(text) if t.get("type") == "bar"]
    assert [t["name"] for t in bars] == ["this run", "paper"]
    report = HtmlReport("t")
    universality_section(report, instances, group="S5", model="transformer")
    text = report.render()
    assert "paper (50 seeds)" not in text and "Paper:" not in text
