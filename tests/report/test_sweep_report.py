"""`algolens report --sweep ID`: a sweep's configurations, distributions and universality, from
the runs the sweep driver tagged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from algolens.errors import StoreError
from algolens.report.sweep import resolve_sweep
from algolens.store import RunStore
from tests.report.checks import plotly_traces, table_rows


@pytest.fixture
def page(run_cli, tiny) -> tuple[Path, str]:
    """The sweep's page written by the CLI, the sweep named by a prefix of its id."""
    prefix = tiny.sweep[: len("sweep-") + 4]
    code, out, err = run_cli("report", "--sweep", prefix, "--store", str(tiny.store.root), "--json")
    assert code == 0, err
    path = Path(json.loads(out)["sweep"])
    return path, path.read_text()


def _plain(rows):
    return [[re.sub("<[^>]+>", "", c) for c in r] for r in rows]


def test_sweep_page_lists_each_configuration_with_its_point_and_figures(page, tiny):
    path, text = page
    assert path == tiny.store.root / "sweeps" / f"{tiny.sweep}.html"
    rows = {r[0]: r for r in _plain(table_rows(text))}
    summaries = [tiny.store.get(run).summary for run in tiny.sweep_runs]
    any_grok = any(s["n_grokked"] for s in summaries)
    assert ("No seed of this sweep grokked" in text) == (not any_grok)
    for run in tiny.sweep_runs:
        folder = tiny.store.paths(run).root
        point = json.loads((folder / "sweep.json").read_text())["point"]
        summary = json.loads((folder / "summary.json").read_text())
        acc = [s["test_acc"] for s in summary["seeds"]]
        row = rows[run]
        assert row[1] == json.dumps(point["train_frac"])  # the grid axis column
        assert row[2:5] == ["completed", "3", str(summary["n_grokked"])]
        assert row[6] == f"{sum(acc) / 3:.4g}" and row[7] == f"{min(acc):.4g}"
        label = f"train_frac={point['train_frac']}"
        boxes = [t for t in plotly_traces(text) if t.get("type") == "box" and t["name"] == label]
        groks = [s["grok_epoch"] for s in summary["seeds"] if s["grok_epoch"] is not None]
        # grokking epochs (their plot only when some seed grokked), then accuracies
        assert [b["y"] for b in boxes] == ([groks] if any_grok else []) + [acc]


def test_universality_counts_match_each_runs_stored_irreps(page, tiny):
    _, text = page
    rows = table_rows(text)
    per_run = []
    for run in tiny.sweep_runs:
        stored = json.loads((tiny.store.paths(run).root / "analyses" / "irreps.json").read_text())
        per_run.append([inst["key_irreps"] for inst in stored["instances"]])
    for label in ("trivial", "sign", "standard"):
        counts = [sum(label in k for k in keys) for keys in per_run]
        expected = [label, *(f"{c}/3" for c in counts), f"{sum(counts)}/6"]
        assert expected in rows


def test_index_links_the_sweep_page(page, tiny, run_cli):
    code, out, err = run_cli("report", "--index", "--store", str(tiny.store.root), "--json")
    assert code == 0, err
    text = Path(json.loads(out)["index"]).read_text()
    assert f'<a href="sweeps/{tiny.sweep}.html">{tiny.sweep}</a>' in text


def test_unknown_and_ambiguous_sweeps(tmp_path, run_cli):
    store = RunStore(tmp_path / "s")
    for sweep in ("sweep-ab1000000000", "sweep-ab2000000000", "../../x"):
        store.create("train", {}, sweep=sweep)
    assert resolve_sweep(store, "sweep-ab1") == "sweep-ab1000000000"
    with pytest.raises(StoreError, match="ambiguous: 2 sweeps match"):
        resolve_sweep(store, "sweep-ab")
    for sweep, words in (("sweep-zz", "no sweep 'sweep-zz'"), ("", "sweep id is empty"),
                         ("../../x", "no sweep"), (".", "no sweep")):  # fmt: skip
        code, _, err = run_cli("report", "--sweep", sweep, "--store", str(store.root))
        assert code == 2 and words in err and "\n" not in err.strip(), err
    assert not (store.root / "sweeps").exists() and not (tmp_path / "x.html").exists()


def test_configuration_labels_in_plots_are_escaped():
    from algolens.report.html import HtmlReport
    from algolens.report.sweep import _distributions
    from algolens.store.index import RunRecord

    seeds = [{"seed": 0, "grok_epoch": 7, "test_acc": 1.0}]
    record = RunRecord("r1", "completed", "train", {}, "t", "t", {"seeds": seeds})
    report = HtmlReport("t")
    _distributions(report, [record], {"r1": "group=<b>x</b>.json"})
    names = {t["name"] for t in plotly_traces(report.render())}
    assert names == {"group=&lt;b&gt;x&lt;/b&gt;.json"}  # plotly shows entities as text
