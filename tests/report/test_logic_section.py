"""The logic section shows the run's stored compile/verify figures."""

from __future__ import annotations

import json

import pytest

from algolens.analysis.store import HASH_KEY, analysis_path, content_hash
from algolens.logic.verify_run import run_logic
from algolens.report.html import HtmlReport
from algolens.report.logic import section
from algolens.store import RunStore
from algolens.train import make_config, start_run
from tests.report.checks import plotly_traces, table_rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("store"))
    cfg = make_config("fast", group="C4", seeds=[0], epochs=5,
                      model_args={"d_embed": 8, "d_mlp": 4})  # fmt: skip
    return store, start_run(cfg, store)["run_id"]


def test_no_analysis_no_section(run):
    store, run_id = run
    report = HtmlReport("t")
    assert section(report, store, run_id) is False
    assert report.render() == HtmlReport("t").render()


def test_section_shows_the_stored_figures(run):
    store, run_id = run
    data = run_logic(store, run_id, bits=4)
    report = HtmlReport("t")
    assert section(report, store, run_id) is True
    rows = table_rows(report.render())
    r = data["instances"][0]
    assert [
        "0",
        "16",
        f"{r['agreement']['q_vs_float']:.2%}",
        f"{r['agreement']['q_vs_task']:.2%}",
        f"{r['agreement']['float_vs_task']:.2%}",
    ] in rows
    assert any(row[:3] == ["0", "exhaustive", "16"] for row in rows)
    proofs = r["requant_proofs"]
    cell = f"{proofs['proven']}/{proofs['columns']} columns of {proofs['layer']}"
    assert [row[4] for row in rows if row[:2] == ["0", "exhaustive"]] == [cell]
    names = [row[0] for row in rows]
    assert all(layer["name"] in names for layer in r["layers"])
    assert not plotly_traces(report.render())  # no scaling study stored: no plot


def test_scaling_rows_are_plotted(run):
    store, run_id = run
    run_logic(store, run_id, bits=4)
    path = analysis_path(store, run_id, "logic")
    data = json.loads(path.read_text())
    data["scaling"] = [{"n": n, "gates": 10 * n * n, "depth": 7} for n in (3, 5, 7)]
    data[HASH_KEY] = content_hash(data)  # re-sealed, as a tamperer could
    path.write_text(json.dumps(data))
    report = HtmlReport("t")
    assert section(report, store, run_id) is True
    traces = plotly_traces(report.render())
    assert traces[0]["x"] == [3, 5, 7] and traces[0]["y"] == [90, 250, 490]
    assert traces[1]["y"] == [7, 7, 7]


def test_transformer_proofs_and_failures_are_shown(run):
    store, run_id = run
    run_logic(store, run_id, bits=4)
    path = analysis_path(store, run_id, "logic")
    data = json.loads(path.read_text())
    fail = "b0.p2.attn column 3: f(5) = 2 but the gates give 1"
    data["instances"][0]["requant_proofs"] = {
        "layer": "every requantisation node", "nodes": 9, "nodes_proven": 8, "columns": 40,
        "proven": 39, "first_failure": fail}  # fmt: skip
    data[HASH_KEY] = content_hash(data)  # re-sealed, as a tamperer could
    path.write_text(json.dumps(data))
    report = HtmlReport("t")
    assert section(report, store, run_id) is True
    cells = [row[4] for row in table_rows(report.render()) if row[:2] == ["0", "exhaustive"]]
    assert cells == [f"8/9 nodes (39/40 columns); first failure: {fail}"]
