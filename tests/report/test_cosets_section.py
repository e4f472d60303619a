"""The coset section shows the run's own coset figures (tiny stored runs)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from algolens.analysis.runs import run_coset_method
from algolens.report.cosets import section
from algolens.report.html import HtmlReport
from algolens.store import RunStore
from algolens.train import make_config, start_run
from tests.report.checks import plotly_traces, table_rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("store"))
    mlp = make_config("fast", group="S4", seeds=[0, 1], epochs=5,
                      model_args={"d_embed": 16, "d_mlp": 8})  # fmt: skip
    tf = make_config("fast", group="S3", model="transformer", seeds=[0], epochs=2)
    return store, start_run(mlp, store)["run_id"], start_run(tf, store)["run_id"]


def test_no_stored_analyses_no_section(runs):
    store, run_id, tf_id = runs
    shutil.rmtree(store.paths(run_id).root / "analyses", ignore_errors=True)  # in any test order
    for run in (run_id, tf_id):  # MLP not analysed; transformer never has coset analyses
        report = HtmlReport("t")
        assert section(report, store, run) is False
        assert report.render() == HtmlReport("t").render()


def test_section_shows_the_runs_figures(runs):
    store, run_id, _ = runs
    for method in ("cosets", "interventions"):
        run_coset_method(store, run_id, method)
    assert section(HtmlReport("t"), store, run_id) is False  # verdict still missing
    run_coset_method(store, run_id, "verdict")
    report = HtmlReport("t")
    assert section(report, store, run_id) is True
    text = report.render()
    cosets = run_coset_method(store, run_id, "cosets")["instances"]
    traces = plotly_traces(text)
    left = [max(n["left"]["c"], 1e-16) for inst in cosets for n in inst["neurons"]]
    np.testing.assert_allclose(traces[0]["x"], np.log10(left))
    rows = table_rows(text)
    mean = run_coset_method(store, run_id, "interventions")["mean"]
    by_name = {r[0]: r for r in rows}
    for m in mean:
        assert by_name[m["intervention"]][1] == f"{m['accuracy']:.2%}"
    seeds = [r for r in rows if r[0] in ("0", "1") and len(r) == 11]  # verdict rows
    assert len(seeds) == 2
    assert "Joint verdict" in text
