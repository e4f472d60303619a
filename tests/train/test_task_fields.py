"""Fields and recipes of another task are refused, never ignored or allowed to switch the task
(make_config, TOML files and sweep files share the one check of algolens.tasks.fields)."""

from __future__ import annotations

import pytest

from algolens.errors import ConfigError
from algolens.sweep.spec import load_sweep
from algolens.tasks.fields import TASK_FIELDS, check_task_fields, foreign_fields, tasks_of
from algolens.train.config import load_toml_config, make_config, resolve_task, validate_config


@pytest.mark.parametrize(
    "recipe, overrides, fragment",
    [
        (None, {"task": "composition", "pathfinding": {"nodes": 6}},
         "pathfinding only applies to task 'pathfinding', not 'composition'"),
        ("fast", {"pathfinding": {"nodes": 6}},
         "pathfinding only applies to task 'pathfinding', not 'composition' (the default)"),
        ("brinkmann", {"group": "C5"},
         "group only applies to task 'composition', not 'pathfinding' (recipe 'brinkmann')"),
        (None, {"task": "pathfinding", "group": "S5"},
         "group only applies to task 'composition', not 'pathfinding'"),
        (None, {"task": "recursion", "function": "successor", "pathfinding": {"nodes": 6}},
         "pathfinding only applies to task 'pathfinding', not 'recursion'"),
        (None, {"task": "recursion", "function": "successor", "train_frac": 0.3},
         "train_frac only applies to task 'composition', not 'recursion'"),
        (None, {"task": "composition", "dataset_sha256": "0" * 64},
         "dataset_sha256 only applies to task 'recursion' or 'pathfinding'"),
    ],
    ids=["pf-in-composition", "pf-by-default", "group-in-brinkmann", "group-in-pf",
         "pf-in-recursion", "frac-in-recursion", "dataset-in-composition"],
)  # fmt: skip
def test_a_field_of_another_task_is_refused(recipe, overrides, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        make_config(recipe, **overrides)


def test_a_recipe_of_one_task_implies_it_and_never_switches_a_given_task():
    cfg = make_config("brinkmann")  # documented: brinkmann alone means task pathfinding
    assert cfg.task == "pathfinding" and cfg.pathfinding.nodes == 16
    assert resolve_task(None, "fast") == ("composition", " (the default)")
    for task in ("composition", "recursion"):
        with pytest.raises(ConfigError, match=f"'brinkmann' is not a {task} recipe"):
            make_config("brinkmann", task=task, function="successor")
    with pytest.raises(ConfigError, match="'paper' is not a pathfinding recipe.*brinkmann"):
        make_config("paper", task="pathfinding")
    assert make_config("fast", task="recursion", function="successor").task == "recursion"


def test_toml_files_go_through_the_same_check(tmp_path):
    path = tmp_path / "pf.toml"
    path.write_text('task = "pathfinding"\ngroup = "C5"\n[pathfinding]\nnodes = 4\n')
    with pytest.raises(ConfigError, match="group only applies to task 'composition'"):
        load_toml_config(path)
    path.write_text('recipe = "brinkmann-cpu"\ntask = "composition"\n')
    with pytest.raises(ConfigError, match="not a composition recipe"):
        load_toml_config(path)


def test_sweep_files_go_through_the_same_check(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('[base]\ntask = "recursion"\nfunction = "successor"\n[grid]\ngroup = ["C5"]\n')
    with pytest.raises(ConfigError, match="group only applies to task 'composition'"):
        load_sweep(path)


def test_stored_configs_with_the_default_group_still_load():
    # every path-finding config.json written so far carries the unused default group "S5"
    stored = make_config("brinkmann").to_dict()
    assert stored["group"] == "S5"
    assert validate_config(stored).task == "pathfinding"


def test_the_table_is_the_single_source():
    assert tasks_of("nodes") == () and tasks_of("lr") == ()
    assert set(tasks_of("dataset_sha256")) == {"recursion", "pathfinding"}
    assert foreign_fields("pathfinding") == {"group", "group_sha256", "train_frac", "function",
                                             "recursion"}  # fmt: skip
    for task, fields in TASK_FIELDS.items():
        check_task_fields(task, {f: f for f in fields})  # its own fields pass
    check_task_fields("no-such-task", {"group": "group"})  # left to the config's validation
