"""TrainConfig validation, recipes, TOML files and seed ranges."""

from __future__ import annotations

import pytest

from algolens.errors import ConfigError
from algolens.train.config import (
    RECIPES,
    load_toml_config,
    make_config,
    parse_seeds,
    validate_config,
)


def test_paper_recipe_matches_the_papers():
    cfg = make_config("paper")
    assert (cfg.lr, cfg.weight_decay, cfg.beta1, cfg.beta2) == (1e-3, 1.0, 0.9, 0.98)
    assert cfg.batch_size is None and cfg.loss_dtype == "float64" and cfg.grokfast_lamb == 0


def test_overrides_win_over_recipe():
    cfg = make_config("fast", lr=0.5, seeds=[3, 4])
    assert cfg.lr == 0.5 and cfg.seeds == [3, 4] and cfg.recipe == "fast"


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        pytest.param({"lr": -1e-3}, "lr", id="negative-lr"),
        pytest.param({"lr": float("nan")}, "lr", id="nan-lr"),
        pytest.param({"train_frac": 1.0}, "train_frac", id="frac-one"),
        pytest.param({"train_frac": 0.0}, "train_frac", id="frac-zero"),
        pytest.param({"model": "lstm"}, "model", id="unknown-model"),
        pytest.param({"seeds": []}, "seeds", id="no-seeds"),
        pytest.param({"seeds": [1, 1]}, "distinct", id="repeated-seeds"),
        pytest.param({"beta2": 1.0}, "beta2", id="beta-one"),
        pytest.param({"schedule": "warmup"}, "warmup_epochs", id="warmup-without-length"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    ],
)
def test_invalid_values_raise_one_line_config_error(overrides, fragment):
    with pytest.raises(ConfigError) as info:
        make_config("fast", **overrides)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_every_problem_reported_at_once():
    with pytest.raises(ConfigError) as info:
        make_config("fast", lr=-1.0, train_frac=2.0)
    assert "lr" in str(info.value) and "train_frac" in str(info.value)


def test_unknown_recipe():
    with pytest.raises(ConfigError, match="fast"):
        make_config("quick")


def test_toml_with_recipe_and_model_args(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('recipe = "paper"\ngroup = "S4"\nseeds = [1, 2]\n[model_args]\nd_embed = 32\n')
    cfg = load_toml_config(path, epochs=7)
    assert (cfg.recipe, cfg.group, cfg.seeds, cfg.epochs) == ("paper", "S4", [1, 2], 7)
    assert cfg.model_args == {"d_embed": 32} and cfg.lr == RECIPES["paper"]["lr"]


def test_bad_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("group = \n")
    with pytest.raises(ConfigError, match="TOML"):
        load_toml_config(path)


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1") == [5, 1]
    with pytest.raises(ConfigError):
        parse_seeds("3-1")
    with pytest.raises(ConfigError):
        parse_seeds("a")


def test_fingerprint_ignores_recipe_label_and_length_but_not_task():
    a = make_config("fast", epochs=10)
    b = validate_config({**a.to_dict(), "recipe": None, "epochs": 99})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != make_config("fast", epochs=10, group="S4").fingerprint()
