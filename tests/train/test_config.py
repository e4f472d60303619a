"""TrainConfig validation, recipes, TOML files and seed ranges."""

from __future__ import annotations

import tomllib

import pytest

from algolens.errors import ConfigError
from algolens.train.config import (
    MAX_EPOCHS,
    MAX_SEEDS,
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
        pytest.param({"model_args": {"d_vocab": 7}}, "d_vocab may not be given", id="d_vocab"),
        pytest.param({"model_args": {"n_inst": 4}}, "n_inst may not be given", id="n_inst"),
        pytest.param(
            {"model": "transformer", "model_args": {"n_ctx": 9}}, "n_ctx may not", id="n_ctx"
        ),
        pytest.param({"seeds": [2**64]}, "seeds must lie in", id="seed-too-large"),
        pytest.param({"epochs": 99999999999999999999}, "epochs", id="absurd-epochs"),
        pytest.param({"epochs": MAX_EPOCHS + 1}, "epochs", id="epochs-over-limit"),
        pytest.param({"log_checkpoints": 10**12}, "log_checkpoints", id="absurd-log-checkpoints"),
        pytest.param({"grokfast_lamb": float("inf")}, "grokfast_lamb", id="inf-lamb"),
        pytest.param({"eps": float("inf")}, "eps", id="inf-eps"),
        pytest.param({"group_sha256": "abc"}, "group_sha256", id="bad-sha"),
    ],
)
def test_invalid_values_raise_one_line_config_error(overrides, fragment):
    with pytest.raises(ConfigError) as info:
        make_config("fast", **overrides)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, 1.5])
def test_train_frac_outside_the_open_interval_says_what_it_must_be(value):
    with pytest.raises(ConfigError) as info:
        make_config("fast", train_frac=value)
    assert "train_frac: must be a number strictly between 0 and 1" in str(info.value)
    assert "less than" not in str(info.value)


def test_epochs_up_to_the_limit_are_accepted():
    assert make_config("fast", epochs=MAX_EPOCHS).epochs == MAX_EPOCHS


def test_seed_count_is_bounded_in_one_short_line():
    assert len(make_config("fast", seeds=list(range(MAX_SEEDS))).seeds) == MAX_SEEDS
    with pytest.raises(ConfigError) as info:
        make_config("fast", seeds=list(range(10 * MAX_SEEDS)))
    message = str(info.value)
    assert "seeds" in message and f"at most {MAX_SEEDS}" in message
    assert len(message) < 300 and "\n" not in message


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
    with pytest.raises(ConfigError):
        parse_seeds("1-")


def test_parse_seeds_refuses_a_huge_range_before_expanding_it():
    assert len(parse_seeds(f"0-{MAX_SEEDS - 1}")) == MAX_SEEDS
    with pytest.raises(ConfigError, match=f"more than {MAX_SEEDS} seeds"):
        parse_seeds("0-99999999999999")
    with pytest.raises(ConfigError, match=f"more than {MAX_SEEDS} seeds"):
        parse_seeds(f"0-{MAX_SEEDS - 1},{MAX_SEEDS}-{MAX_SEEDS}")


def test_fingerprint_ignores_recipe_label_and_length_but_not_task():
    a = make_config("fast", epochs=10)
    b = validate_config({**a.to_dict(), "recipe": None, "epochs": 99})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != make_config("fast", epochs=10, group="S4").fingerprint()


def test_fingerprint_covers_the_pinned_group():
    a = make_config("fast", group="g.json")
    b = validate_config({**a.to_dict(), "group_sha256": "0" * 64})
    c = validate_config({**a.to_dict(), "group_sha256": "1" * 64})
    assert len({a.fingerprint(), b.fingerprint(), c.fingerprint()}) == 3


@pytest.mark.parametrize(
    "seeds", [[], [-1], "0-3", [0.5], [True], 7, list(range(MAX_SEEDS + 1))],
    ids=["empty", "negative", "string", "float", "bool", "scalar", "too-many"],
)  # fmt: skip
def test_bad_seed_lists_get_one_readable_line(seeds):
    with pytest.raises(ConfigError) as info:
        make_config("fast", seeds=seeds)
    text = str(info.value)
    assert "\n" not in text and text.startswith("invalid training config: seeds: seeds must")
    assert (
        ("0..2**63-1" in text or f"at most {MAX_SEEDS}" in text)
        and "Input should" not in text
        and "List should" not in text
    )


@pytest.mark.parametrize(
    ("body", "recipe"),
    [
        ('group = "S4"\n', "fast"),
        ('task = "recursion"\nfunction = "successor"\n[recursion]\nmax_size = 6\n', "recursion"),
        ('task = "recursion"\nfunction = "preorder"\n', "recursion-trees"),
        ('task = "pathfinding"\n[pathfinding]\nnodes = 6\n', "pathfinding"),
    ],
    ids=["composition", "recursion-numbers", "recursion-trees", "pathfinding"],
)
def test_a_config_file_without_a_recipe_gets_its_tasks_default(tmp_path, body, recipe):
    """As `algolens train` without --recipe: not the composition field defaults (full batch,
    float64, weight decay 1) for a sequence task."""
    path = tmp_path / "c.toml"
    path.write_text(body)
    cfg = load_toml_config(path)
    assert cfg.recipe == recipe
    expected = make_config(recipe, **{k: v for k, v in tomllib.loads(body).items()})
    assert cfg.to_dict() == expected.to_dict()


@pytest.mark.parametrize(
    "fields",
    [
        {"epochs": True},
        {"epochs": "3"},
        {"lr": "0.01"},
        {"batch_size": 8.0},
        {"task": "recursion", "function": "successor", "recursion": {"oversample": "0.5"}},
        {"task": "recursion", "function": "successor", "recursion": {"max_size": True}},
        {"task": "pathfinding", "pathfinding": {"nodes": "6"}},
    ],
    ids=[
        "bool-int",
        "str-int",
        "str-float",
        "float-int",
        "str-oversample",
        "bool-size",
        "str-nodes",
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_converted(fields):
    """TOML gives typed values: a string or a boolean where a number belongs is a mistake to
    report (one line naming the field), not to coerce (``true`` used to train 1 epoch)."""
    key = next(iter(fields.keys() - {"task", "function"}))
    with pytest.raises(ConfigError, match=key) as info:
        make_config(None, **fields)
    assert "\n" not in str(info.value)
