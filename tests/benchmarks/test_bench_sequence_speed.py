"""benchmarks/bench_sequence_speed.py runs end to end at a tiny shape (so it cannot rot), and its
FLOP count and token counts are the ones worked out by hand."""

from __future__ import annotations

import pytest
import torch
from benchmarks.bench_sequence_speed import (
    Shape,
    measure,
    model_flops_per_token,
    parse_threads,
    setup,
    table,
)

from algolens.models import TransformerConfig

TINY = Shape(
    "tiny",
    None,
    {"task": "recursion", "function": "successor", "batch_size": 8,
     "recursion": {"max_size": 5, "n_train": 24, "n_test": 8, "n_ood": 8, "ood_max_size": 6},
     "model_args": {"d_model": 16, "d_head": 4, "d_mlp": 32}},
    1,
)  # fmt: skip


def test_model_flops_count_weights_and_attention_by_hand():
    cfg = TransformerConfig(d_vocab=9, d_vocab_out=7, n_layers=2, n_heads=3, d_model=8,
                            d_head=5, d_mlp=11)  # fmt: skip
    per_layer = 3 * 8 * 15 + 15 * 8 + 8 * 11 + 11 * 8  # Q, K, V; O; W_in; W_out
    weights = 2 * per_layer + 8 * 7  # + unembedding
    assert model_flops_per_token(cfg, 6) == 6 * weights + 12 * 2 * 15 * 6


def test_measure_runs_every_variant_at_a_tiny_shape():
    before = torch.get_num_threads()
    peaks, rows = measure([TINY], threads=[1], rounds=1, steps=1)
    assert torch.get_num_threads() == before
    assert set(peaks) == {("float32", 1), ("bfloat16", 1)} and min(peaks.values()) > 0
    assert {(r.kind, r.dtype) for r in rows} == {
        (k, d) for k in ("ours", "plain") for d in ("float32", "bfloat16")
    }
    r = rows[0]
    # successor up to 5 bits: a row runs from "B0 Z <sep> B1 Z <eos>" (6 tokens) to "5 bits Z
    # <sep> 6 bits Z <eos>" (15), so a step reads 5 to 14 positions of each of its 8 rows (the
    # widest train row's, less one), of which the answer and <eos> (3 to 8) are scored
    assert r.tokens % 8 == 0 and 8 * 5 <= r.tokens <= 8 * 14
    assert 8 * 3 <= r.scored <= 8 * 8 and r.scored < r.tokens
    assert all(len(x.seconds) == 1 and x.seconds[0] > 0 for x in rows)
    text = table(peaks, rows)
    assert text.count("| tiny |") == 4 and "nan" not in text


@pytest.mark.parametrize("bad", ["0", "x"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="thread counts"):
        parse_threads(bad)


def test_measure_leaves_out_the_dtypes_not_asked_for():
    peaks, rows = measure([TINY], threads=[1], rounds=1, steps=1, dtypes=("float32",))
    assert set(peaks) == {("float32", 1)}
    assert {r.dtype for r in rows} == {"float32"} and {r.kind for r in rows} == {"ours", "plain"}


def test_a_layernorm_model_adds_the_written_out_layernorm_loop():
    """Its plain loop with hooks on the LayerNorm scales runs the written-out form; a model
    without LayerNorm has no such row."""
    args = {**TINY.overrides["model_args"], "layernorm": True}
    shape = Shape("tiny-ln", None, {**TINY.overrides, "model_args": args}, 1)
    peaks, rows = measure([shape], threads=[1], rounds=1, steps=1, dtypes=("float32",))
    assert {r.kind for r in rows} == {"ours", "plain", "plain-ln-written"}
    su = setup(shape, [1], ("float32",))
    assert set(su.plain_ln) == {"float32"}
    assert not setup(TINY, [1], ("float32",)).plain_ln
