"""The path-finding report section, from a tiny run's stored summary and mechanism analysis."""

from __future__ import annotations

import pytest

from algolens.report.html import HtmlReport
from algolens.report.pathfinding import section
from algolens.store import RunStore
from tests.train.test_pathfinding_training import tiny


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from algolens.train.run import start_run

    store = RunStore(tmp_path_factory.mktemp("rep") / "s")
    return store, start_run(tiny(epochs=1, seeds=[0]), store)["run_id"]


def test_section_without_and_with_the_mechanism_analysis(run):
    from algolens.analysis.pathfinding.mechanism_run import run_mechanism

    store, run_id = run
    page = HtmlReport("t")
    assert section(page, store, run_id) is True
    html = page.render()
    assert "Path-finding on 4-node trees" in html and "path length" in html
    assert "--method mechanism" in html and "circuits-vis" not in html
    run_mechanism(store, run_id)
    page = HtmlReport("t")
    assert section(page, store, run_id) is True
    html = page.render()
    for text in ("Mechanism of seed 0", "edge concatenation", "tuned-lens accuracy",
                 "loss recovered", "circuits-vis", "AttentionPatterns", "Sub-goal registers",
                 "sub-goal registers:", "ancestor level"):  # fmt: skip
        assert text in html, text


def test_no_section_for_other_runs(tmp_path):
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "c")
    run_id = start_run(make_config("fast", group="C3", epochs=1), store)["run_id"]
    page = HtmlReport("t")
    assert section(page, store, run_id) is False and section(page, store, "nope") is False
    assert "Path-finding" not in page.render()
