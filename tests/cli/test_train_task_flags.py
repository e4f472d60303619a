"""`algolens train`: a flag or recipe of another task is refused in one line that names the flag,
the chosen task and the task it belongs to; nothing is created."""

from __future__ import annotations

import pytest

TOML_PF = """task = "pathfinding"
seeds = [0]
epochs = 1
[pathfinding]
nodes = 4
n_examples = 60
"""


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--task", "composition", "--nodes", "6"],
         "--nodes only applies to task 'pathfinding', not 'composition'"),
        (["--nodes", "6"], "--nodes only applies to task 'pathfinding', not 'composition' (the "
         "default)"),
        (["--group", "C5", "--recipe", "brinkmann"],
         "--group only applies to task 'composition', not 'pathfinding' (recipe 'brinkmann')"),
        (["--task", "pathfinding", "--group", "S5"],
         "--group only applies to task 'composition', not 'pathfinding'"),
        (["--task", "recursion", "--nodes", "6"],
         "--nodes only applies to task 'pathfinding', not 'recursion'"),
        (["--task", "recursion", "--function", "successor", "--train-frac", "0.3"],
         "--train-frac only applies to task 'composition', not 'recursion'"),
        (["--task", "pathfinding", "--max-size", "4"],
         "--max-size only applies to task 'recursion', not 'pathfinding'"),
        (["--function", "successor"], "--function only applies to task 'recursion'"),
        (["--task", "composition", "--recipe", "brinkmann"],
         "recipe 'brinkmann' is not a composition recipe"),
        (["--task", "recursion", "--function", "successor", "--recipe", "brinkmann-cpu"],
         "recipe 'brinkmann-cpu' is not a recursion recipe"),
    ],
    ids=["nodes-composition", "nodes-default", "group-brinkmann", "group-pathfinding",
         "nodes-recursion", "frac-recursion", "maxsize-pathfinding", "function-default",
         "brinkmann-composition", "brinkmann-recursion"],
)  # fmt: skip
def test_flag_of_another_task_is_refused(run_cli, tmp_path, args, fragment):
    store = tmp_path / "s"
    code, out, err = run_cli("train", *args, "--store", str(store))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
    assert not store.exists()


def test_flag_of_another_task_than_the_config_files_is_refused(run_cli, tmp_path):
    toml = tmp_path / "pf.toml"
    toml.write_text(TOML_PF)
    store = tmp_path / "s"
    code, out, err = run_cli("train", "--config", str(toml), "--group", "C5", "--store", str(store))
    assert code == 2 and err.count("\n") == 1
    assert "--group only applies to task 'composition', not 'pathfinding'" in err
    code, out, err = run_cli("train", "--config", str(toml), "--nodes", "5", "--store", str(store))
    assert code == 2 and "--nodes cannot be combined with --config" in err  # its own rule
    assert not store.exists()
