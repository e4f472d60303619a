"""One description of what a run learns, the same in `runs list`, the index page and the run
report; a path-finding run is never labelled with the unused default group."""

from __future__ import annotations

import json
import re

from algolens.train.describe import describe_run
from algolens.train.load import run_config
from tests.report.checks import table_rows


def test_describe_run_of_every_task():
    assert describe_run({"task": "pathfinding", "group": "S5", "pathfinding": {"nodes": 6}}) == (
        "pathfinding 6 nodes"
    )
    assert describe_run({"task": "recursion", "group": "S5", "function": "mirror"}) == (
        "recursion mirror"
    )
    assert describe_run({"group": "C5"}) == "composition C5"  # configs before the task field
    assert describe_run({"task": "pathfinding"}) == "pathfinding ? nodes"


def test_runs_list_index_and_report_describe_runs_alike(run_cli, tiny, monkeypatch):
    store = str(tiny.store.root)
    expected = {
        tiny.composition: describe_run(run_config(tiny.store, tiny.composition)),
        tiny.recursion: "recursion successor",
        tiny.pathfinding: "pathfinding 4 nodes",
    }
    assert expected[tiny.composition].startswith("composition ")
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli("runs", "list", "--store", store)
    assert code == 0, err
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ 2")}
    for run, what in expected.items():
        assert f"│ {what} " in lines[run], lines[run]
    assert "S5" not in lines[tiny.pathfinding] and "S5" not in lines[tiny.recursion]

    code, out, err = run_cli("report", "--index", "--store", store, "--json")
    assert code == 0, err
    text = (tiny.store.root / "index.html").read_text()
    rows = {r[0]: r for r in ([re.sub("<[^>]+>", "", c) for c in r] for r in table_rows(text))}
    for run, what in expected.items():
        assert rows[run][2] == what

    code, out, err = run_cli("report", tiny.pathfinding, "--store", store, "--json")
    assert code == 0, err
    page = open(json.loads(out)["report"]).read()
    assert f"<title>algolens: {expected[tiny.pathfinding]} transformer" in page
    assert not any(r[0] == "group" for r in table_rows(page))  # not in its config table either
