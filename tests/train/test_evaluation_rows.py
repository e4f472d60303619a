"""Teacher-forced evaluation of sequence rows scores at most ``EVAL_TRAIN_ROWS`` train rows (the
first ones) and every test row; with fewer train rows it is the evaluation of every row."""

from __future__ import annotations

import torch

from algolens.tasks.registry import get_task
from algolens.train.config import make_config
from algolens.train.evaluation import evaluate_sequences


def _trainer():
    model = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32}
    config = make_config(None, task="recursion", function="successor", seeds=[0, 1],
                         recursion={"max_size": 6, "n_train": 300}, exact_stop=None,
                         model_args=model)  # fmt: skip
    trainer = get_task("recursion").start(config, None)[0]
    trainer.train_epoch()  # weights that are not the initial ones
    return trainer


def _evaluate(trainer, inputs, targets, mask, idx, cap):
    return evaluate_sequences(trainer._passes(), inputs, targets, mask, idx,
                              loss_dtype=torch.float64, row_elements=trainer.data.row_elements,
                              max_train_rows=cap)  # fmt: skip


def test_train_metrics_are_those_of_the_first_rows_and_test_metrics_of_all():
    t = _trainer()
    idx = (t.train_idx, t.test_idx)
    n_tr = t.train_idx.shape[1]
    assert n_tr > 40
    capped = _evaluate(t, t.inputs, t.targets, t.mask, idx, 40)
    # the same rows evaluated on their own, uncapped: the first 40 train rows, then the test rows
    rows = torch.cat([t.train_idx[0, :40], t.test_idx[0]])
    local = torch.arange(len(rows)).expand(2, -1)
    alone = _evaluate(t, t.inputs[rows], t.targets[rows], t.mask[rows],
                      (local[:, :40], local[:, 40:]), None)  # fmt: skip
    for a, b in zip(capped, alone, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=0)
    full = _evaluate(t, t.inputs, t.targets, t.mask, idx, None)
    torch.testing.assert_close(capped[2], full[2], rtol=1e-12, atol=0)  # test loss: every row
    assert torch.equal(capped[3], full[3])
    assert not torch.equal(capped[0], full[0])  # the train loss is another sample's


def test_no_more_train_rows_than_the_cap_evaluates_every_row_as_before():
    t = _trainer()
    idx = (t.train_idx, t.test_idx)
    full = _evaluate(t, t.inputs, t.targets, t.mask, idx, None)
    capped = _evaluate(t, t.inputs, t.targets, t.mask, idx, t.train_idx.shape[1])
    for a, b in zip(full, capped, strict=True):
        assert torch.equal(a, b)
