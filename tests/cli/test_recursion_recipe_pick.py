"""``algolens train --task recursion`` without ``--recipe`` picks the recursion preset by the
function's domain: ``recursion-trees`` (20,000 draws, a 20-epoch cap) for a function that takes a
tree, built-in or a user's own, and ``recursion`` for numbers; flags and ``--recipe`` still win."""

from __future__ import annotations

import pytest

from tests.cli.test_train_cli import _flags

HEADER = "from algolens.tasks.recursion import B0, B1, Z, Bin, Leaf, Node, Tree\n"


def _config(**given):
    from algolens.cli.train_flags import config_from_flags

    return config_from_flags(_flags(task="recursion", **given))


@pytest.mark.parametrize(
    ("function", "recipe", "n_train", "epochs"),
    [("preorder", "recursion-trees", 20_000, 20), ("mirror", "recursion-trees", 20_000, 20),
     ("successor", "recursion", 2000, 120), ("add", "recursion", 2000, 120)],
)  # fmt: skip
def test_the_default_recipe_follows_the_functions_domain(function, recipe, n_train, epochs):
    config = _config(function=function)
    assert (config.recipe, config.recursion.n_train, config.epochs) == (recipe, n_train, epochs)


def test_a_users_tree_function_gets_the_tree_preset(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(HEADER + "def size(t: Tree) -> Bin:\n    return Z()\n"
                    "def half(n: Bin) -> Bin:\n    return n\n")  # fmt: skip
    assert _config(function=f"{path}:size").recipe == "recursion-trees"
    assert _config(function=f"{path}:half").recipe == "recursion"


def test_flags_and_an_explicit_recipe_win():
    sized = _config(function="postorder", max_size=6)
    assert (sized.recursion.max_size, sized.recursion.n_train) == (6, 20_000)
    assert _config(function="postorder", n_train=500).recursion.n_train == 500
    assert _config(function="postorder", epochs=7).epochs == 7
    chosen = _config(function="postorder", recipe="recursion")
    assert (chosen.recipe, chosen.recursion.n_train, chosen.epochs) == ("recursion", 2000, 120)


def test_a_bad_function_is_one_error_before_anything_runs(run_cli, tmp_path):
    code, out, err = run_cli("train", "--task", "recursion", "--function", "nosuch",
                             "--store", str(tmp_path / "s"))  # fmt: skip
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
