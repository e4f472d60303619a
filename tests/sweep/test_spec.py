"""Sweep files: planning against hand-built configs, the sweep id, and every kind of bad file."""

from __future__ import annotations

import sys

import pytest

from algolens.errors import ConfigError, SpecError
from algolens.groups import parse_group
from algolens.sweep import load_sweep, sweep_id_of
from algolens.train.config import make_config
from algolens.train.run_group import pin_group

from .conftest import sweep_text, write


def test_grid_is_the_cartesian_product_in_file_order(tmp_path):
    path = write(tmp_path, """
[base]
recipe = "paper"
seeds = "3-5"
epochs = 7
[grid]
group = ["C5", "S3"]
train_frac = [0.3, 0.5, 0.7]
[grid.model_args]
d_mlp = [8, 16]
""")  # fmt: skip
    plan = load_sweep(path)
    assert len(plan.configurations) == 2 * 3 * 2
    points = [c.point for c in plan.configurations]
    assert points[0] == {"group": "C5", "train_frac": 0.3, "model_args.d_mlp": 8}
    assert points[1] == {"group": "C5", "train_frac": 0.3, "model_args.d_mlp": 16}
    assert points[-1] == {"group": "S3", "train_frac": 0.7, "model_args.d_mlp": 16}
    for conf in plan.configurations:  # each equals the config built by hand, group pinned
        p = conf.point
        want = make_config(
            "paper", seeds=[3, 4, 5], epochs=7, group=p["group"], train_frac=p["train_frac"],
            model_args={"d_mlp": p["model_args.d_mlp"]},
        )  # fmt: skip
        assert conf.config == pin_group(want, parse_group(p["group"]))
        assert conf.config.lr == 1e-3  # the paper recipe's defaults under the file's fields


def test_recipe_defaults_to_fast_and_can_be_a_grid_axis(tmp_path):
    plan = load_sweep(write(tmp_path, '[grid]\nrecipe = ["fast", "paper"]\n'))
    assert [c.config.recipe for c in plan.configurations] == ["fast", "paper"]
    assert [c.config.lr for c in plan.configurations] == [2.5e-2, 1e-3]
    plan = load_sweep(write(tmp_path, '[grid]\ngroup = ["C5"]\n', "b.toml"))
    assert plan.configurations[0].config.recipe == "fast"


def test_sweep_id_depends_on_content_only(tmp_path):
    a = load_sweep(write(tmp_path, sweep_text(), "a.toml")).sweep_id
    base = sweep_text().split("[grid]")[0]
    reordered = "# another comment\n[grid]\ngroup = ['C5', 'S3']\n" + base
    b = load_sweep(write(tmp_path, reordered, "b.toml")).sweep_id
    c = load_sweep(write(tmp_path, sweep_text(epochs=61), "c.toml")).sweep_id
    assert a == b != c and a.startswith("sweep-") and len(a) == len("sweep-") + 12
    assert sweep_id_of({"grid": {"group": ["C5", "S3"]}}) != sweep_id_of(
        {"grid": {"group": ["S3", "C5"]}}
    )  # order of a grid list is the order of the runs: another sweep


BAD_FILES = {
    "unknown-table": ("[grid]\ngroup = ['C5']\n[extra]\nx = 1\n", "exactly the tables"),
    "no-grid": ("[base]\nepochs = 5\n", "grid: Field required"),
    "empty-grid": ("[grid]\n", "[grid] is empty"),
    "empty-list": ("[grid]\ngroup = []\n", "non-empty list"),
    "not-a-list": ("[grid]\ngroup = 'C5'\n", "non-empty list"),
    "repeated-value": ("[grid]\ngroup = ['C5', 'C5']\n", "repeats a value"),
    "unknown-base-key": ("[base]\nlrr = 1\n[grid]\ngroup = ['C5']\n", "'lrr' is not a train"),
    "unknown-grid-key": ("[grid]\nlrr = [1]\n", "[grid] 'lrr' is not a train"),
    "pinned-hash": ("[base]\ngroup_sha256 = 'ab'\n[grid]\ngroup = ['C5']\n", "group_sha256"),
    "both-tables": ("[base]\ngroup = 'C5'\n[grid]\ngroup = ['S3']\n", "in both [base] and"),
    "both-model-args": (
        "[base]\nmodel_args = {d_mlp = 8}\n[grid.model_args]\nd_mlp = [8, 16]\n",
        "both [base]",
    ),
    "bad-value": ("[grid]\nlr = [1e-3, -1.0]\n", "configuration 1 (lr=-1.0): invalid training"),
    "bad-model-arg": ("[grid.model_args]\nd_mlpp = [8]\n", "unknown field(s) d_mlpp"),
    "bad-seeds": ("[base]\nseeds = '5-1'\n[grid]\ngroup = ['C5']\n", "cannot read seeds"),
    "same-config": (
        "[base]\nlr = 0.01\n[grid]\nrecipe = ['fast', 'paper']\nweight_decay = [1.0]\n"
        "beta2 = [0.9]\nloss_dtype = ['float32']\nepochs = [5]\neval_every = [5]\n"
        "checkpoint_every = [5]\ngrok_threshold = [0.99]\nbeta1 = [0.9]\n",
        "the same train config as configuration 0",
    ),
    "one-group-spelled-twice": (
        "[grid]\ngroup = ['C7', 'C007']\n",
        "configuration 1 (group=C007) is the same train config as configuration 0",
    ),
    "recursion": (
        "[base]\ntask = 'recursion'\nfunction = 'successor'\n[grid]\nlr = [0.01]\n",
        "sweeps train composition runs",
    ),  # fmt: skip
    "not-toml": ("[grid\n", "not valid TOML"),
}


@pytest.mark.parametrize("text, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_sweep_file_is_one_config_error(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_sweep(write(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_group_names_the_configuration(tmp_path):
    with pytest.raises(SpecError, match=r"configuration 1 \(group=Q99\)") as info:
        load_sweep(write(tmp_path, "[grid]\ngroup = ['C5', 'Q99']\n"))
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_sweep(tmp_path / "none.toml")


@pytest.mark.parametrize(
    "text",
    ["[grid]\nlrr = [1]\n", "[grid]\n", "[grid]\ngroup = ['C5', 'Q99']\n"],
    ids=["unknown-key", "empty-grid", "unknown-group"],
)
def test_cli_bad_file_one_line_exit_2_nothing_created(tmp_path, run_cli, text):
    path = write(tmp_path, text)
    store = tmp_path / "store"
    code, out, err = run_cli("sweep", str(path), "--store", str(store))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not store.exists()


def test_cli_plan_lists_configurations_and_creates_nothing(tmp_path, run_cli):
    import json

    store = tmp_path / "store"
    code, out, _ = run_cli("sweep", str(write(tmp_path, sweep_text())), "--plan", "--json",
                           "--store", str(store))  # fmt: skip
    assert code == 0 and not store.exists()
    data = json.loads(out)
    assert [c["point"] for c in data["configurations"]] == [{"group": "C5"}, {"group": "S3"}]
    assert data["configurations"][1]["config"]["seeds"] == [0, 1]


def test_cli_options_of_the_other_executor_are_refused(tmp_path, run_cli):
    path = write(tmp_path, sweep_text())
    code, _, err = run_cli("sweep", str(path), "--executor", "ray", "--workers", "2")
    assert code == 2 and "--workers do not apply to --executor ray" in err
    code, _, err = run_cli("sweep", str(path), "--executor", "dask")
    assert code == 2 and "unknown executor 'dask'" in err


def test_cli_ray_missing_one_line_exit_2_nothing_created(tmp_path, run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    store = tmp_path / "store"
    code, out, err = run_cli("sweep", str(write(tmp_path, sweep_text())), "--executor", "ray",
                             "--store", str(store))  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--executor ray needs Ray" in err and not store.exists()


def test_grid_over_seed_sets(tmp_path):
    plan = load_sweep(write(tmp_path, '[grid]\nseeds = ["0-1", [5, 7]]\ngroup = ["C5"]\n'))
    assert [c.config.seeds for c in plan.configurations] == [[0, 1], [5, 7]]


def test_sweep_id_depends_on_the_table_a_relative_path_points_to(tmp_path, monkeypatch):
    from algolens.groups import export_table

    ids = {}
    for folder, group in (("a", "C4"), ("b", "C2xC2"), ("c", "C4")):
        (tmp_path / folder).mkdir()
        export_table(parse_group(group), tmp_path / folder / "g.json")
        write(tmp_path / folder, '[grid]\ngroup = ["g.json"]\n')
        monkeypatch.chdir(tmp_path / folder)
        ids[folder] = load_sweep("sweep.toml").sweep_id
    assert ids["a"] != ids["b"]  # same file, same relative path, another table
    assert ids["a"] == ids["c"]  # same file and same table: the same sweep (resumable)
