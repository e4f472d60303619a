"""The index's sweep column: tagging, filtering, old indexes without it, and reindex."""

from __future__ import annotations

import json
import sqlite3

from algolens.fileio import write_json_atomic
from algolens.store import RunStore, reindex

OLD_SCHEMA = """
CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, kind TEXT NOT NULL,
  config TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '{}')
"""
SA, SB = "sweep-aaaaaaaaaaaa", "sweep-bbbbbbbbbbbb"
OLD = "20000101-000000-000000"


def _tagged(store: RunStore, sweep: str) -> str:
    return store.create(
        "train", {"lr": 1}, sweep=sweep,
        prepare=lambda folder: write_json_atomic(folder / "sweep.json", {"sweep": sweep}),
    )  # fmt: skip


def test_list_filters_by_sweep(tmp_path):
    store = RunStore(tmp_path)
    a = _tagged(store, SA)
    plain = store.create("train", {})
    b = _tagged(store, SB)
    assert [r.id for r in store.list(sweep=SA)] == [a]
    assert [r.id for r in store.list(sweep=SB)] == [b]
    assert [r.id for r in store.list()] == [a, plain, b]
    assert store.get(plain).sweep is None and store.get(a).sweep == SA
    store.set_status(a, "completed")
    assert store.list("completed", SB) == [] and store.list("created", SB)[0].id == b


def test_old_index_reads_without_sweeps_and_gains_the_column_on_write(tmp_path):
    con = sqlite3.connect(tmp_path / "index.sqlite")
    con.execute(OLD_SCHEMA)
    con.execute(
        "INSERT INTO runs VALUES (?, 'completed', 'train', '{}', '2000', '2000', '{}')", (OLD,)
    )
    con.commit()
    con.close()
    store = RunStore(tmp_path)
    assert store.get(OLD).sweep is None and store.list(sweep=SA) == []
    new = _tagged(store, SA)  # the first write adds the column
    assert [r.id for r in store.list(sweep=SA)] == [new]
    assert [r.sweep for r in store.list()] == [None, SA]


def test_reindex_recovers_the_tag_from_sweep_json(tmp_path):
    store = RunStore(tmp_path)
    a = _tagged(store, SA)
    plain = store.create("train", {})
    store.index.path.unlink()
    result = reindex(store)
    assert sorted(result.recovered) == sorted([a, plain])
    assert [r.id for r in store.list(sweep=SA)] == [a]
    assert json.loads(store.paths(a).sweep.read_text()) == {"sweep": SA}


def test_cli_runs_list_sweep(tmp_path, run_cli):
    store = RunStore(tmp_path)
    a = _tagged(store, SA)
    store.create("train", {})
    _tagged(store, SB)
    for sweep in (SA, "sweep-a"):  # an id or a unique prefix, as for `report --sweep`
        code, out, err = run_cli(
            "runs", "list", "--sweep", sweep, "--json", "--store", str(tmp_path)
        )
        assert code == 0 and [r["id"] for r in json.loads(out)] == [a], err
    for sweep, words in (("sweep-z", "no sweep 'sweep-z'"), ("", "sweep id is empty"),
                         ("sweep-", "2 sweeps match")):  # fmt: skip
        code, out, err = run_cli("runs", "list", "--sweep", sweep, "--store", str(tmp_path))
        assert code == 2 and out == "" and words in err and err.count("\n") == 1, err


def test_cli_runs_show_names_the_sweep(tmp_path, run_cli):
    store = RunStore(tmp_path)
    a = _tagged(store, SA)
    plain = store.create("train", {})
    code, out, _ = run_cli("runs", "show", a, "--store", str(tmp_path))
    assert code == 0 and f"sweep    {SA}" in out
    code, out, _ = run_cli("runs", "show", plain, "--store", str(tmp_path))
    assert code == 0 and "sweep " not in out
