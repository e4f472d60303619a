"""Sequence protocol: packing and masks by hand, loss against a per-example loop, exact match by
teacher forcing and greedy decoding for hand-written causal "models" (the true function and a
known shortcut), and batched decoding of K transformer instances against each alone."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError, SpecError
from algolens.models.transformer import Transformer, TransformerConfig
from algolens.tasks.recursion import FUNCTIONS, bits, encode, parse
from algolens.tasks.recursion.dataset import build_dataset
from algolens.tasks.recursion.sampling import Sampling
from algolens.tasks.recursion.splits import SplitSpec
from algolens.tasks.recursion.task import RecursionTask
from algolens.tasks.recursion.tokens import EOS_ID, PAD_ID, SEP_ID, VOCAB, ids, tokens_of
from algolens.tasks.sequence import (
    greedy_correct,
    greedy_decode,
    pack,
    sequence_loss,
    teacher_forced_correct,
)

SPEC = SplitSpec(Sampling(0, 5), n_train=60, n_test=30, n_ood=30, ood_max_size=7)


def successor_shortcut(n):
    """Flip the trailing B1 run and the first B0; never grows (wrong exactly on all ones)."""
    bs = bits(n)
    k = next((i for i, b in enumerate(bs) if b == 0), len(bs))
    out = [0] * k + ([1] + bs[k + 1 :] if k < len(bs) else [])
    return parse(" ".join(["B1" if b else "B0" for b in out] + ["Z"]), ("bin",))[0]


def causal_model(*fns):
    """A K-instance causal 'model' whose instance k answers with fns[k]: at position p it reads
    only tokens[..., :p+1] and puts logit 1 on the next token of ``fns[k](prompt) <eos>``."""

    def model(tokens: torch.Tensor) -> torch.Tensor:
        n_inst, batch, pos = tokens.shape
        out = torch.zeros(n_inst, batch, pos, len(VOCAB), dtype=torch.float64)
        for k in range(n_inst):
            for b in range(batch):
                row = tokens[k, b].tolist()
                for p in range(pos):
                    seen = row[: p + 1]
                    nxt = PAD_ID
                    if SEP_ID in seen:
                        s = seen.index(SEP_ID)
                        try:
                            (x,) = parse(tokens_of(seen[:s]), ("bin",))
                        except SpecError:
                            x = None
                        if x is not None:
                            answer = ids(encode(fns[k](x))) + [EOS_ID]
                            j = p - s
                            nxt = answer[j] if j < len(answer) else PAD_ID
                    out[k, b, p, nxt] = 1.0
        return out

    return model


def test_pack_by_hand():
    b = pack([[3, 5, 3], []], [[4], [5, 3]], sep=1, eos=2, pad=0, width=7)
    assert b.tokens.tolist() == [[3, 5, 3, 1, 4, 2, 0], [1, 5, 3, 2, 0, 0, 0]]
    assert b.prompt_len.tolist() == [4, 1] and b.answer_len.tolist() == [2, 3]
    assert b.mask.int().tolist() == [[0, 0, 0, 1, 1, 0], [1, 1, 1, 0, 0, 0]]
    # the masked targets are exactly the answer and <eos>
    assert b.targets[b.mask].tolist() == [4, 2, 5, 3, 2]
    with pytest.raises(ConfigError, match="needs 7 tokens, more than the width 6"):
        pack([[3, 5, 3]], [[4, 4]], sep=1, eos=2, pad=0, width=6)
    with pytest.raises(ConfigError, match="2 prompts but 1 answers"):
        pack([[3], [4]], [[4]], sep=1, eos=2, pad=0)


def test_loss_matches_a_per_example_loop():
    gen = torch.Generator().manual_seed(0)
    data = pack([[3, 4], [5], [6, 6, 6]], [[7], [8, 9], []], sep=1, eos=2, pad=0)
    logits = torch.randn(2, 3, data.inputs.shape[1], 10, generator=gen, dtype=torch.float64)
    expected = []
    for k in range(2):
        terms = []
        for i in range(3):
            for p in range(data.inputs.shape[1]):
                if data.mask[i, p]:
                    terms.append(F.cross_entropy(logits[k, i, p], data.targets[i, p]))
        assert len(terms) == 2 + 3 + 1
        expected.append(torch.stack(terms).mean())
    torch.testing.assert_close(sequence_loss(logits, data), torch.stack(expected))


@pytest.fixture(scope="module")
def task():
    return RecursionTask(build_dataset(FUNCTIONS["successor"], SPEC, seed=0))


@pytest.mark.parametrize("split", ["train", "test", "ood", "rare"])
def test_true_function_and_shortcut_by_both_accuracies(task, split):
    data = task.splits[split]
    model = causal_model(FUNCTIONS["successor"].fn, successor_shortcut)
    all_ones = torch.tensor(
        [
            all(bits(parse(tokens_of(r[: int(n) - 1]), ("bin",))[0]))
            for r, n in zip(data.tokens.tolist(), data.prompt_len)
        ]
    )
    assert teacher_forced_correct(model(data.inputs.expand(2, -1, -1)), data).tolist() == [
        [True] * len(data),
        (~all_ones).tolist(),
    ]
    written = greedy_decode(model, data, n_inst=2)
    correct = greedy_correct(written, data)
    assert correct[0].all()
    assert correct[1].tolist() == (~all_ones).tolist()
    if split == "rare":
        assert all_ones.any()  # the rare split holds the shortcut's failures


def test_greedy_writes_the_answer_and_stops_at_the_buffer(task):
    data = task.splits["test"]
    written = greedy_decode(causal_model(FUNCTIONS["successor"].fn), data, n_inst=1)
    for row, w, pl, al in zip(data.tokens, written[0], data.prompt_len, data.answer_len):
        assert w[: int(al)].tolist() == row[int(pl) : int(pl + al)].tolist()
        assert int(w[int(al) - 1]) == EOS_ID
    long = greedy_decode(causal_model(FUNCTIONS["successor"].fn), data, n_inst=1, steps=40)
    assert long.shape[-1] == 40 and (long[..., data.tokens.shape[1] :] == PAD_ID).all()
    with pytest.raises(ConfigError, match="cannot cover"):
        greedy_correct(written[..., :1], data)


def test_wrong_prompt_gives_wrong_answer(task):
    """Greedy decoding reads the prompt: a model that answers successor of the prompt is scored
    wrong when the prompt in the buffer is changed."""
    data = task.splits["test"]
    model = causal_model(FUNCTIONS["predecessor"].fn)
    correct = greedy_correct(greedy_decode(model, data, n_inst=1), data)[0]
    prompts = [
        parse(tokens_of(r[: int(n) - 1]), ("bin",))[0]
        for r, n in zip(data.tokens.tolist(), data.prompt_len)
    ]
    same = [FUNCTIONS["predecessor"].fn(x) == FUNCTIONS["successor"].fn(x) for x in prompts]
    assert correct.tolist() == same and not any(same)


def _tiny(n_inst, seeds, n_ctx):
    cfg = TransformerConfig(
        d_vocab=len(VOCAB),
        d_vocab_out=len(VOCAB),
        n_ctx=n_ctx,
        n_layers=2,
        n_heads=2,
        d_model=16,
        d_head=8,
        d_mlp=32,
        n_inst=n_inst,
        dtype="float64",
    )
    model = Transformer(cfg)
    model.init_weights(seeds)
    return model


def test_batched_decoding_equals_each_instance_alone(task):
    data = task.splits["ood"]
    together = _tiny(3, [5, 6, 7], task.seq_len)
    written = greedy_decode(together, data, n_inst=3)
    for k, seed in enumerate([5, 6, 7]):
        alone = greedy_decode(_tiny(1, [seed], task.seq_len), data, n_inst=1)
        # tokens, not bits: argmax of float64 logits, which differ between batch shapes only by
        # rounding (~1e-16), far below the gaps between a random model's logits
        assert torch.equal(written[k], alone[0])
    assert not torch.equal(written[0], written[1])


def test_pads_do_not_reach_scored_positions(task):
    data = task.splits["train"]
    model = _tiny(1, [3], task.seq_len)
    x = data.inputs[None]
    noisy = torch.where(x == PAD_ID, torch.full_like(x, ids(["Node"])[0]), x)
    a, b = model(x), model(noisy)
    torch.testing.assert_close(a[:, data.mask], b[:, data.mask], rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch", [7, 1000])
def test_exact_match_in_length_order_reports_in_row_order(task, batch):
    """exact_match decodes rows sorted by length in batches cut to their longest row; its answer
    is still per row of the data, in the data's order: the shortcut fails exactly on all ones."""
    from algolens.train.evaluation import exact_match

    data = task.splits["rare"]
    assert len(set((data.prompt_len + data.answer_len).tolist())) > 1  # lengths differ
    all_ones = [
        all(bits(parse(tokens_of(r[: int(n) - 1]), ("bin",))[0]))
        for r, n in zip(data.tokens.tolist(), data.prompt_len)
    ]
    model = causal_model(FUNCTIONS["successor"].fn, successor_shortcut)
    tf, gr = exact_match(model, data, 2, batch, torch.device("cpu"))
    expected = [[True] * len(data), [not a for a in all_ones]]
    assert tf.tolist() == expected and gr.tolist() == expected


def test_trimmed_cuts_only_the_padding_every_row_has(task):
    data = task.splits["test"]
    cut = data.subset(torch.arange(5)).trimmed()
    width = int((cut.prompt_len + cut.answer_len).max())
    assert cut.tokens.shape[1] == width <= data.tokens.shape[1]
    assert (data.tokens[:5, width:] == PAD_ID).all()  # what was cut held padding only
    assert torch.equal(cut.tokens, data.tokens[:5, :width])
    assert torch.equal(cut.mask, data.mask[:5, : width - 1])
