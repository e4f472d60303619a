"""A batch split into row parts (one job per part on the worker threads) trains as the unsplit
batch does to float rounding, and its bits depend on the parts, not on the threads."""

from __future__ import annotations

import torch

from algolens.tasks.registry import get_task
from algolens.train.config import make_config
from algolens.train.row_split import MIN_PART_TOKENS
from algolens.train.trainer import Trainer
from tests.train.conftest import (
    assert_tensors_close,
    assert_tensors_equal,
    composition_trainer,
    tiny_config,
)

TINY = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32}
F64 = {**TINY, "dtype": "float64"}


def _recursion(model_args: dict, **kwargs) -> Trainer:
    config = make_config(None, task="recursion", function="successor", seeds=[0],
                         recursion={"max_size": 6, "n_train": 300}, exact_stop=None,
                         model_args=model_args, loss_dtype="float64", batch_size=50,
                         epochs=4)  # fmt: skip
    data = get_task("recursion").start(config, None)[0].data
    return Trainer(config, data, **kwargs)


def _train(trainer: Trainer, epochs: int = 3) -> Trainer:
    for _ in range(epochs):
        trainer.train_epoch()
    return trainer


def test_split_sequence_batch_trains_as_the_whole_batch():
    """float64 weights: the masked-token mean of the whole batch is the sum of the parts' shares
    (each part divided by the whole batch's token count). Dividing a part by its own count, or
    dropping a part, moves the weights far beyond float64 rounding."""
    whole = _train(_recursion(F64, workers=1, row_parts=1))
    for parts in (2, 3):
        split = _train(_recursion(F64, workers=1, row_parts=parts))
        assert split.row_parts == parts
        assert_tensors_close(whole.state_tensors(), split.state_tensors())


def test_split_answer_batch_trains_as_the_whole_batch():
    """One answer per row (a composition transformer, trained by autograd): the batch mean."""
    cfg = tiny_config(seeds=[0], model="transformer", model_args=F64, batch_size=12,
                      loss_dtype="float64")  # fmt: skip
    whole = _train(composition_trainer(cfg, workers=1, row_parts=1))
    split = _train(composition_trainer(cfg, workers=1, row_parts=2))
    assert_tensors_close(whole.state_tensors(), split.state_tensors())


def test_split_bits_do_not_depend_on_the_worker_threads():
    """The parts are the same computations on one torch thread whichever worker runs them, and
    their gradients are summed in part order: two workers give one worker's bits."""
    one = _train(_recursion(TINY, workers=1, row_parts=2))
    two = _train(_recursion(TINY, workers=2, row_parts=2))
    assert_tensors_equal(one.state_tensors(), two.state_tensors())


def test_one_seed_on_two_workers_splits_a_large_batch_by_default():
    """Each part must carry ``MIN_PART_TOKENS`` positions: a 512-row batch of successor rows
    splits on two workers, a 50-row one does not, nor does any batch on one worker or when two
    instance chunks already fill the workers."""
    config = make_config(None, task="recursion", function="successor", seeds=[0],
                         recursion={"max_size": 8, "n_train": 2000}, exact_stop=None,
                         model_args=TINY, batch_size=512)  # fmt: skip
    data = get_task("recursion").start(config, None)[0].data
    assert 512 * Trainer(config, data, workers=1).train_width // MIN_PART_TOKENS >= 2
    assert Trainer(config, data, workers=2).row_parts == 2
    assert Trainer(config, data, workers=1).row_parts == 1
    assert _recursion(TINY, workers=2).row_parts == 1  # 50 rows: parts too small to pay
    cfg = tiny_config(seeds=[0, 1], model="transformer", model_args=TINY, batch_size=12)
    assert composition_trainer(cfg, workers=2).row_parts == 1


def test_three_seeds_on_two_workers_share_one_chunk_in_two_parts():
    """Chunks of 2 and 1 seeds would load two workers 2:1; one chunk of 3 in two row parts loads
    them evenly. Two seeds already fill two workers with one seed each; one worker never splits
    (its chunks keep two seeds of this batch in cache);
    the group MLP, whose fused pass takes no row parts, keeps its chunks."""

    def trainer(seeds: list[int], workers: int) -> Trainer:
        config = make_config(None, task="recursion", function="successor", seeds=seeds,
                             recursion={"max_size": 8, "n_train": 2000}, exact_stop=None,
                             model_args=TINY, batch_size=512)  # fmt: skip
        return Trainer(config, get_task("recursion").start(config, None)[0].data, workers=workers)

    def plan(t: Trainer) -> tuple[list[int], int]:
        return [sl.stop - sl.start for sl, _ in t.chunks], t.row_parts

    assert plan(trainer([0, 1, 2], 2)) == ([3], 2)
    assert plan(trainer([0, 1], 2)) == ([1, 1], 1)
    assert plan(trainer([0, 1, 2], 1)) == ([2, 1], 1)  # cache-sized chunks, run in turn
    mlp = composition_trainer(tiny_config(seeds=[0, 1, 2]), workers=2)
    assert mlp.model.has_fused_pass() and plan(mlp) == ([2, 1], 1)


def test_split_step_isolates_a_nan_instance():
    """An instance whose weights turn NaN is marked dead; the other trains on."""
    config = make_config(None, task="recursion", function="successor", seeds=[0, 1],
                         recursion={"max_size": 6, "n_train": 300}, exact_stop=None,
                         model_args=TINY, batch_size=50)  # fmt: skip
    data = get_task("recursion").start(config, None)[0].data
    trainer = Trainer(config, data, workers=1, instance_chunk=2, row_parts=2)
    with torch.no_grad():
        trainer.model.unembed.W_U[1, 0, 0] = float("nan")
    _train(trainer, 1)
    assert trainer.alive.tolist() == [True, False]
    weights = {n: t for n, t in trainer.state_tensors().items() if n.startswith("model.")}
    assert all(t[0].isfinite().all() for t in weights.values())
