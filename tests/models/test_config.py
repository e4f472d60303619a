"""Model configs and the registry: JSON round trip, one-line errors, build_model."""

from __future__ import annotations

import json

import pytest

from algolens.errors import ConfigError
from algolens.models import (
    MLP,
    MODEL_CONFIGS,
    MLPConfig,
    Transformer,
    TransformerConfig,
    build_model,
    model_kind,
)

CONFIGS = [
    MLPConfig(d_vocab=120),
    MLPConfig(d_vocab=6, d_embed=8, d_mlp=4, embed_mode="sum", bias=True, n_inst=3),
    TransformerConfig(d_vocab=121, d_vocab_out=120),
    TransformerConfig(d_vocab=9, d_vocab_out=8, layernorm=True, act="gelu", init_std=0.02),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: type(c).__name__)
def test_json_round_trip(config) -> None:
    text = json.dumps(config.to_dict())
    again = type(config).from_dict(json.loads(text))
    assert again == config
    assert hash(again) == hash(config)  # frozen


def test_configs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        MLPConfig(d_vocab=5).d_mlp = 3  # type: ignore[misc]


def test_unknown_and_missing_fields_are_one_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        TransformerConfig.from_dict({"d_vocab": 5, "n_head": 4})
    msg = str(info.value)
    assert "\n" not in msg
    assert "unknown field(s) n_head" in msg and "missing required field(s) d_vocab_out" in msg
    with pytest.raises(ConfigError, match="expected a dict"):
        MLPConfig.from_dict([("d_vocab", 5)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"d_vocab": 0}, ["d_vocab"]),
        ({"d_vocab": 5, "d_mlp": -1, "embed_mode": "mean"}, ["d_mlp", "embed_mode"]),
        ({"d_vocab": 5, "n_inst": True}, ["n_inst"]),
        ({"d_vocab": 5, "init_scale": 0.0, "bias": "no"}, ["init_scale", "bias"]),
        ({"d_vocab": 5, "dtype": "float16"}, ["dtype"]),
    ],
)
def test_bad_mlp_configs_list_every_problem_on_one_line(fields: dict, names: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        MLPConfig(**fields)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("MLPConfig: ")
    assert all(name in msg for name in names)


def test_build_model_registry() -> None:
    assert set(MODEL_CONFIGS) == {"mlp", "transformer"}
    mlp = build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 3})
    tf = build_model(
        "transformer", TransformerConfig(d_vocab=7, d_vocab_out=6, d_model=8, d_head=2, d_mlp=8)
    )
    assert isinstance(mlp, MLP) and isinstance(tf, Transformer)
    assert model_kind(mlp) == "mlp" and model_kind(tf) == "transformer"
    assert build_model(model_kind(tf), tf.cfg.to_dict()).cfg == tf.cfg
    with pytest.raises(ConfigError, match="unknown model kind 'rnn'"):
        build_model("rnn", {})
    with pytest.raises(ConfigError, match="needs a MLPConfig"):
        build_model("mlp", tf.cfg)
    with pytest.raises(ConfigError, match="unknown field"):
        build_model("mlp", {"d_vocab": 6, "d_model": 4})


def test_models_are_initialised_on_construction() -> None:
    """Seeds 0..n_inst-1 until init_weights: never uninitialised memory."""
    a = build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 3, "n_inst": 2})
    b = build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 3, "n_inst": 2})
    b.init_weights([0, 1])
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert p.isfinite().all() and p.equal(q), name


@pytest.mark.parametrize(
    "failure",
    [MemoryError(), RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to ...")],
    ids=["MemoryError", "allocator"],
)
def test_a_model_too_large_for_memory_is_a_config_error(monkeypatch, failure) -> None:
    """`[model_args] d_mlp = 100000000` in a file: one line, not a 67-line traceback (the
    allocation failure is simulated: a real one would need the memory to fail on)."""
    from algolens import models

    def too_big(cfg):
        raise failure

    monkeypatch.setitem(models.MODEL_CLASSES, "mlp", too_big)
    with pytest.raises(ConfigError, match="does not fit in memory") as info:
        build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 3})
    assert "\n" not in str(info.value)
    monkeypatch.setitem(models.MODEL_CLASSES, "mlp", lambda cfg: (_ for _ in ()).throw(
        RuntimeError("some other failure")))  # fmt: skip
    with pytest.raises(RuntimeError, match="some other failure"):
        build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 3})
