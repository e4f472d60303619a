"""Tampered or unusual stores: stored analyses are hash- and schema-checked on read, and the run's
config.json is validated on every read and checked against its weights (issue 18)."""

from __future__ import annotations

import json
import shutil

import pytest

from algolens.analysis.runs import run_irreps
from algolens.analysis.store import HASH_KEY, analysis_path, cached, content_hash
from algolens.errors import StoreError
from algolens.store import RunStore
from algolens.train import make_config, start_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store with a 2-seed S3 MLP run whose irreps analysis is stored."""
    root = tmp_path_factory.mktemp("store")
    store = RunStore(root)
    cfg = make_config("fast", group="S3", seeds=[0, 1], epochs=20, train_frac=0.5)
    run_id = start_run(cfg, store)["run_id"]
    run_irreps(store, run_id)
    return root, run_id


@pytest.fixture
def copy(trained, tmp_path):
    """A private copy of the trained store (tests tamper with it)."""
    root, run_id = trained
    shutil.copytree(root, tmp_path / "s")
    return tmp_path / "s", run_id


def _irreps_file(root, run_id):
    return analysis_path(RunStore(root), run_id, "irreps")


def _edit(path, change, *, rehash: bool):
    data = json.loads(path.read_text())
    change(data)
    if rehash:
        data[HASH_KEY] = content_hash(data)
    path.write_text(json.dumps(data))


def one_line_exit_2(result, *needles):
    code, out, err = result
    assert code == 2, (out, err)
    assert err.startswith("error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_a_forged_number_is_refused_and_force_recomputes(copy, run_cli):
    root, run_id = copy
    path = _irreps_file(root, run_id)
    true_fve = json.loads(path.read_text())["instances"][0]["logit_fve"]
    _edit(path, lambda d: d["instances"][0].update(logit_fve=0.999), rehash=False)
    args = ("analyze", run_id, "--store", str(root), "--json")
    one_line_exit_2(run_cli(*args), "irreps.json", "content hash", "--force")
    code, out, err = run_cli(*args, "--force")
    assert code == 0, err
    assert json.loads(out)["instances"][0]["logit_fve"] == true_fve
    assert run_irreps(RunStore(root), run_id)["reused"] is True  # the recomputed file verifies


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda d: d["instances"][0].update(logit_fve="0.99"), "logit_fve"),
        (lambda d: d["instances"][1].update(key_irreps=["bogus"]), "not an irrep"),
        (lambda d: d["instances"][0]["similarity"].update(bogus=0.5), "not an irrep"),
        (lambda d: d.update(instances="many"), "instances"),
    ],
)
def test_a_rehashed_file_of_the_wrong_shape_is_refused_in_one_line(copy, run_cli, change, needle):
    root, run_id = copy
    path = _irreps_file(root, run_id)
    _edit(path, change, rehash=True)
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(root)), needle, "--force")
    one_line_exit_2(run_cli("report", run_id, "--store", str(root)), needle, "--force")


def test_a_non_json_analysis_is_refused(copy):
    root, run_id = copy
    _irreps_file(root, run_id).write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON.*--force"):
        run_irreps(RunStore(root), run_id)


def test_an_analysis_written_before_hashes_is_stale_not_an_error(copy):
    root, run_id = copy
    path = _irreps_file(root, run_id)
    _edit(path, lambda d: d.pop(HASH_KEY), rehash=False)
    again = run_irreps(RunStore(root), run_id)
    assert again["reused"] is False and HASH_KEY in json.loads(path.read_text())


def test_an_analysis_of_another_config_is_stale(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", make_config("fast", group="S3", seeds=[0]).to_dict())
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    cached(store, run_id, "cosets", compute, source="w")
    assert cached(store, run_id, "cosets", compute, source="w")["reused"] is True
    config = store.paths(run_id).config
    config.write_text(json.dumps({**json.loads(config.read_text()), "train_frac": 0.3}))
    assert cached(store, run_id, "cosets", compute, source="w")["reused"] is False
    assert len(calls) == 2


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"seeds": [0, 1, 2]}, "3 seed(s) but its weights"),
        ({"seeds": []}, "seeds"),
        ({"train_frac": 0.4}, "config.json was edited"),
        ({"model_args": {"d_embed": 8}}, "config.json was edited"),
        ({"lr": "fast"}, "lr"),
    ],
)
def test_an_edited_config_is_refused_on_every_read(copy, run_cli, change, needle):
    root, run_id = copy
    config = RunStore(root).paths(run_id).config
    config.write_text(json.dumps({**json.loads(config.read_text()), **change}))
    for args in (("analyze", run_id), ("predict", run_id, "0 1"), ("report", run_id)):
        one_line_exit_2(run_cli(*args, "--store", str(root)), needle)


def test_the_store_index_marks_a_tampered_analysis_instead_of_failing(copy, run_cli):
    root, run_id = copy
    _edit(_irreps_file(root, run_id), lambda d: d["instances"][0].update(logit_fve=1), rehash=False)
    code, out, err = run_cli("report", "--index", "--store", str(root))
    assert code == 0, err
    assert "refused" in (root / "index.html").read_text()
