"""Report section of a recursion run: accuracy by structural feature from the run summary, the
stored shortcut and failure analyses, nothing for composition runs or stale analyses."""

from __future__ import annotations

import json

import pytest

from algolens.analysis.store import HASH_KEY, content_hash
from algolens.report.html import HtmlReport
from algolens.report.recursion import section
from algolens.store import RunStore
from tests.report.checks import plotly_traces, table_rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.train.config import make_config
    from algolens.train.run import start_run
    from tests.tasks.test_recursion_training import tiny

    store = RunStore(tmp_path_factory.mktemp("rec_section") / "store")
    rec = start_run(tiny(epochs=2), store)["run_id"]
    comp = start_run(make_config("fast", group="S3", seeds=[0], epochs=2), store)["run_id"]
    return store, rec, comp


def _render(store, run_id):
    report = HtmlReport("t")
    added = section(report, store, run_id)
    return added, report.render()


def test_composition_run_gets_no_section(runs):
    store, _, comp = runs
    report = HtmlReport("t")
    before = report.render()
    assert section(report, store, comp) is False and report.render() == before


def test_accuracy_by_feature_comes_from_the_summary(runs):
    store, rec, _ = runs
    added, text = _render(store, rec)
    assert added and "Structural recursion: successor" in text
    assert "run `algolens analyze RUN --method shortcuts`" in text  # nothing stored yet
    assert "No stored failure analysis: run `algolens analyze RUN --method failures`" in text
    summary = json.loads((store.paths(rec).root / "summary.json").read_text())["splits"]
    rows = {r[0]: r for r in table_rows(text) if r and r[0] in summary}
    for name, s in summary.items():
        mean = sum(s["greedy_acc"]) / len(s["greedy_acc"])
        assert rows[name][1] == str(s["n"]) and rows[name][2] == f"{100 * mean:.1f} %"
    traces = plotly_traces(text)
    n_features = len(summary["test"]["greedy_by_feature"])
    assert sum(t["name"] == "test" for t in traces) == n_features  # one chart per feature
    groups = summary["rare"]["greedy_by_feature"]["trailing_ones"]
    rare = [t for t in traces if t["name"] == "rare" and t["x"] == list(groups)]
    assert rare, "no rare-split bars over trailing_ones"
    want = [sum(g["acc"]) / len(g["acc"]) for g in groups.values()]
    assert rare[0]["y"] == pytest.approx(want)
    assert rare[0]["customdata"] == [g["n"] for g in groups.values()]


def test_stored_analyses_are_shown(runs):
    from algolens.analysis.recursion.failures_run import run_failures
    from algolens.analysis.recursion.shortcuts import run_shortcuts

    store, rec, _ = runs
    sc = run_shortcuts(store, rec, n=30, n_attn=10)
    fl = run_failures(store, rec, inputs="ood", n=40)
    _, text = _render(store, rec)
    assert "No stored" not in text
    rows = table_rows(text)
    best = max(sc["instances"][0]["attention"], key=lambda r: r["mass"])
    assert [best["layer"], best["head"], best["answer_index"], best["rule"]] in [
        [int(r[0]), int(r[1]), int(r[2]), r[3]] for r in rows if len(r) == 7
    ]
    assert sc["instances"][0]["hypotheses"][0]["name"] in text
    for inst in fl["instances"]:
        rules = "; ".join(inst["rules"])
        row = next(r for r in rows if len(r) == 5 and r[1] == rules and r[0] == str(inst["seed"]))
        assert row[2] == f"{inst['fresh']['failures']} of {inst['fresh']['n']}"


def test_analyses_of_other_weights_are_not_shown(runs, tmp_path):
    import shutil

    from algolens.report.recursion import stored_analysis

    store, rec, _ = runs
    path = store.paths(rec).root / "analyses" / "shortcuts.json"
    if not path.exists():
        from algolens.analysis.recursion.shortcuts import run_shortcuts

        run_shortcuts(store, rec, n=30, n_attn=10)
    backup = tmp_path / "s.json"
    shutil.copy(path, backup)
    data = json.loads(path.read_text())
    data["source"]["weights"] = {"file": "other"}
    data[HASH_KEY] = content_hash(data)  # re-sealed: stale by its source, not tampered
    path.write_text(json.dumps(data))
    try:
        assert stored_analysis(store, rec, "shortcuts") is None
        _, text = _render(store, rec)
        assert "run `algolens analyze RUN --method shortcuts`" in text
    finally:
        shutil.copy(backup, path)
    assert stored_analysis(store, rec, "shortcuts") is not None
