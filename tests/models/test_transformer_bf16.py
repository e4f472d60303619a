"""Mixed precision for the transformer (``matmul_dtype="bfloat16"``): inside
``model.training_precision()`` the matmuls take bfloat16 inputs while the scores, the softmax,
the logits, the loss and the gradients stay float32; outside it nothing changes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models import Transformer, TransformerConfig

# n_ctx 5: folded first layer, broadcast attention; n_ctx 12 (> SHORT_CONTEXT): batched-matmul
# attention. GELU: at this initialisation a ReLU model's gradient moves by several percent under a
# relative 2^-9 weight perturbation alone (bfloat16's rounding), too ill-conditioned to compare.
SHAPES = {
    "short, folded": dict(n_ctx=5, layernorm=False, act="gelu"),
    "long, layernorm": dict(n_ctx=12, layernorm=True, act="gelu", bias="trainable"),
}


def _model(matmul_dtype: str | None, **kw) -> Transformer:
    cfg = TransformerConfig(
        d_vocab=9, d_vocab_out=8, n_layers=2, n_heads=2, d_model=32, d_head=16, d_mlp=64,
        n_inst=2, matmul_dtype=matmul_dtype, **kw,
    )  # fmt: skip
    model = Transformer(cfg)
    model.init_weights([3, 4])
    return model


def _tokens(n_ctx: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(5)
    x = torch.randint(0, 9, (2, 32, n_ctx), generator=gen)  # [inst, batch, pos]
    return x, torch.randint(0, 8, (2, 32, n_ctx), generator=gen)


def _loss_and_grads(model: Transformer, x: torch.Tensor, y: torch.Tensor):
    model.zero_grad()
    with model.training_precision():
        logits = model(x)  # [inst, batch, pos, d_vocab_out]
        loss = F.cross_entropy(logits.reshape(-1, 8), y.reshape(-1))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return logits.detach(), loss.detach(), grads


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_bf16_gradients_are_close_to_float32_and_not_equal(shape):
    x, y = _tokens(shape["n_ctx"])
    ref_logits, ref_loss, ref = _loss_and_grads(_model(None, **shape), x, y)
    logits, loss, got = _loss_and_grads(_model("bfloat16", **shape), x, y)
    assert logits.dtype == loss.dtype == torch.float32
    torch.testing.assert_close(loss, ref_loss, rtol=1e-2, atol=0)
    assert not torch.equal(logits, ref_logits)  # the context really changed the arithmetic
    differ = 0
    for name, g in got.items():
        assert g.dtype == torch.float32, name
        if name.endswith("b_K"):  # a key bias shifts every score of a query alike: gradient 0
            continue
        err = (g - ref[name]).norm() / ref[name].norm()
        assert err < 2e-2, (name, float(err))
        differ += not torch.equal(g, ref[name])
    assert differ == len([n for n in got if not n.endswith("b_K")])


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_matmuls_run_in_bf16_and_scores_softmax_in_float32(shape):
    model = _model("bfloat16", **shape)
    seen: dict[str, torch.dtype] = {}
    for name in ("attn.hook_q", "attn.hook_attn_scores", "attn.hook_pattern", "mlp.hook_pre"):
        model.mod_dict[f"blocks.1.{name}"].add_hook(
            lambda t, hook: seen.__setitem__(hook.name.split(".")[-1], t.dtype)
        )
    with model.training_precision():
        model(_tokens(shape["n_ctx"])[0])
    assert seen == {
        "hook_q": torch.bfloat16,  # a projection's output: its matmul ran in bfloat16
        "hook_pre": torch.bfloat16,  # the MLP's first matmul
        "hook_attn_scores": torch.float32,
        "hook_pattern": torch.float32,
    }


def test_outside_the_context_and_without_the_option_nothing_changes():
    x, _ = _tokens(12)
    plain = _model(None, **SHAPES["long, layernorm"])
    low = _model("bfloat16", **SHAPES["long, layernorm"])
    f32 = _model("float32", **SHAPES["long, layernorm"])
    ref = plain(x)
    assert torch.equal(low(x), ref)  # evaluation and analyses compute in dtype
    with plain.training_precision(), f32.training_precision():
        assert torch.equal(plain(x), ref) and torch.equal(f32(x), ref)


@pytest.mark.parametrize("bad", ["float16", "int8"])
def test_other_matmul_dtypes_are_refused_in_one_line(bad):
    with pytest.raises(ConfigError, match="matmul_dtype must be one of float32, bfloat16") as e:
        TransformerConfig(d_vocab=5, d_vocab_out=4, matmul_dtype=bad)
    assert "\n" not in str(e.value)


def test_a_float64_copy_of_a_bf16_model_computes_in_float64():
    # analyses copy a model with cfg.replace(dtype="float64") (analysis/composition/readout.py)
    shape = SHAPES["long, layernorm"]
    x, _ = _tokens(12)
    plain = _model(None, dtype="float64", **shape)
    low = _model("bfloat16", dtype="float64", **shape)
    with low.training_precision():
        out = low(x)
    assert out.dtype == torch.float64 and torch.equal(out, plain(x))


def test_a_stored_config_without_the_field_loads():
    old = TransformerConfig(d_vocab=5, d_vocab_out=4).to_dict()
    del old["matmul_dtype"]  # model configs written before the option
    assert TransformerConfig.from_dict(old).matmul_dtype is None


def test_the_trainer_trains_in_the_models_precision():
    """The gradients of a training step of a bfloat16 transformer differ from the float32 ones
    (the trainer enters the model's training precision) but closely."""
    from algolens.tasks.registry import get_task
    from algolens.train.config import make_config

    args = {"n_layers": 1, "d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64, "act": "gelu"}
    steps = {}
    for dtype in (None, "bfloat16"):
        margs = dict(args, **({"matmul_dtype": dtype} if dtype else {}))
        data = {"max_size": 5, "n_train": 200}
        config = make_config(None, task="recursion", function="successor", seeds=[0],
                             recursion=data, model_args=margs)  # fmt: skip
        trainer = get_task("recursion").start(config, None)[0]
        trainer.train_step(trainer.train_idx[:, :32], 0.0)
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        steps[dtype] = torch.cat([g.flatten() for g in grads])
    fp32, bf16 = steps[None], steps["bfloat16"]
    assert not torch.equal(fp32, bf16)
    assert (fp32 - bf16).norm() < 2e-2 * fp32.norm()
