"""`algolens runs`: missing stores, id prefixes, statuses, declined removal, reindex."""

from __future__ import annotations

import io
import json
import sys

import pytest

from algolens.store import RunStore


@pytest.fixture
def store(tmp_path) -> RunStore:
    """A store with two runs (no training: the runs' folders and rows only)."""
    store = RunStore(tmp_path / "store")
    store.create("train", {"group": "C5", "seeds": [0]})
    store.create("train", {"group": "S3", "seeds": [0, 1]})
    return store


def _ids(run_cli, root) -> list[str]:
    code, out, err = run_cli("runs", "list", "--store", str(root), "--json")
    assert code == 0, err
    return [r["id"] for r in json.loads(out)]


def test_list_of_a_missing_store_creates_nothing(run_cli, tmp_path):
    root = tmp_path / "nowhere"
    code, out, err = run_cli("runs", "list", "--store", str(root))
    assert code == 0 and "no runs" in out and err == ""
    assert _ids(run_cli, root) == []
    code, _, err = run_cli("runs", "show", "2026", "--store", str(root))
    assert code == 2 and "no run" in err
    assert not root.exists()


def test_list_with_unknown_status_is_refused(run_cli, store):
    code, out, err = run_cli("runs", "list", "--status", "bogus", "--store", str(store.root))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'bogus'" in err and "created, running, completed, failed, interrupted" in err


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["runs", "rm", "", "--yes"], id="rm"),
        pytest.param(["runs", "show", ""], id="show"),
        pytest.param(["train", "--resume", ""], id="resume"),
        pytest.param(["report", ""], id="report"),
    ],
)
def test_empty_id_matches_nothing(run_cli, store, args):
    before = _ids(run_cli, store.root)
    code, _, err = run_cli(*args, "--store", str(store.root))
    assert code == 2 and "empty" in err and err.count("\n") == 1
    assert _ids(run_cli, store.root) == before


def test_ids_are_case_sensitive(run_cli, store):
    run_id = store.list()[0].id
    upper = run_id[:-3] + run_id[-3:].upper()
    if upper == run_id:  # the random digits happened to be 0-9 only
        upper = run_id[:-1] + "X"
    code, _, err = run_cli("runs", "rm", upper, "--yes", "--store", str(store.root))
    assert code == 2 and "no run" in err
    assert run_id in _ids(run_cli, store.root)


@pytest.mark.parametrize("answer", ["n\n", ""], ids=["no", "end-of-input"])
def test_declined_rm_deletes_nothing(run_cli, store, monkeypatch, answer):
    run_id = store.list()[0].id
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    code, _, err = run_cli("runs", "rm", run_id, "--store", str(store.root))
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == f"kept run {run_id}: nothing was deleted"
    assert run_id in _ids(run_cli, store.root) and store.paths(run_id).root.is_dir()


def test_corrupt_index_then_reindex(run_cli, store):
    ids = _ids(run_cli, store.root)
    store.index.path.write_bytes(b"not sqlite" * 300)
    code, _, err = run_cli("runs", "list", "--store", str(store.root))
    assert code == 2 and err.count("\n") == 1
    assert f"algolens runs reindex --store {store.root}" in err
    code, out, err = run_cli("runs", "reindex", "--store", str(store.root), "--json")
    assert code == 0, err
    assert sorted(json.loads(out)["recovered"]) == sorted(ids)
    assert sorted(_ids(run_cli, store.root)) == sorted(ids)  # same second: ordered by id
    code, out, _ = run_cli("runs", "reindex", "--store", str(store.root))
    assert code == 0 and "2 kept from the old index, 0 recovered" in " ".join(out.split())


def test_list_names_what_each_run_learns(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    store = RunStore(tmp_path / "s")
    store.create("train", {"group": "C5", "seeds": [0]})
    store.create(
        "train", {"task": "recursion", "function": "successor", "group": "S5", "seeds": [0]}
    )
    code, out, err = run_cli("runs", "list", "--store", str(store.root))
    assert code == 0, err
    assert "recursion successor" in out and "C5" in out
    assert "S5" not in out  # a recursion run's unused default group is not shown
