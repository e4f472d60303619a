"""`SequenceTrainer`: the batched trainer on a sequence task (a stored recursion dataset).

Same loop, optimiser, failure isolation, checkpoints and reduction as :class:`Trainer` (the sum
over instances of each instance's mean), with the sequence protocol of
:mod:`algolens.tasks.sequence`: the model reads ``prompt <sep> answer <eos>`` rows and each
instance's loss is its mean cross-entropy over the masked answer and ``<eos>`` tokens of its
batch. Accuracy is exact match of the whole answer: by teacher forcing in :meth:`evaluate` (which
drives early stopping, ``test_acc`` being the in-distribution test split) and also by greedy
decoding, for every named split, in :meth:`split_metrics`.

Every seed trains on the same stored dataset (drawn with the config's ``data_seed``); seeds differ
in initial weights and minibatch order. Rows ``0..n_train-1`` of :attr:`inputs` are the train
split, the next ``n_test`` rows the test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from algolens.models import BatchedModel
from algolens.tasks.recursion.features import accuracy_by_feature, input_features
from algolens.tasks.recursion.task import RecursionTask
from algolens.tasks.recursion.tokens import parse
from algolens.tasks.sequence import (
    greedy_correct,
    greedy_decode,
    masked_cross_entropy,
    teacher_forced_correct,
)
from algolens.train.config import TrainConfig
from algolens.train.device import current_device
from algolens.train.early_stop import ExactStopper, carve_validation
from algolens.train.trainer import EVAL_CHUNK_ELEMENTS, EvalResult, Trainer, model_config_dict


@dataclass(frozen=True)
class ValidatedEval(EvalResult):
    """An :class:`EvalResult` with the check of the validation split: ``val_exact`` ``[inst]``,
    greedy exact match (a ``metrics.jsonl`` row gets it as ``val_exact``)."""

    val_exact: torch.Tensor | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.val_exact is not None:
            out["val_exact"] = self.val_exact.tolist()
        return out


class SequenceTrainer(Trainer):
    """A :class:`Trainer` on the packed splits of a recursion dataset.

    Args:
        config: a validated config with ``task="recursion"``.
        dataset: the run's stored dataset (never recomputed here), made a task by
            :meth:`make_task` (subclasses: another task, e.g. path-finding).
        device, instance_chunk: as for :class:`Trainer`.

    Attributes:
        task: the :class:`RecursionTask`.
        inputs, targets, mask: ``[n_train + n_test, T-1]``: model input, next tokens, loss mask.
        train_width: positions a training step reads (the widest train row minus one; the
            common width T also fits the longer held-out splits).
    """

    def __init__(
        self,
        config: TrainConfig,
        dataset: Any,
        *,
        device: str | torch.device | None = None,
        instance_chunk: int | None = None,
    ) -> None:
        self.config = config
        self.device = current_device() if device is None else torch.device(device)
        self.task = task = self.make_task(dataset)
        self.model_args = model_config_dict(config, task)
        train, test = task.splits["train"], task.splits["test"]
        self.stopper: ExactStopper | None = None
        if config.exact_stop is not None:  # hold back a validation split (train/early_stop.py)
            rows, val_rows = carve_validation(train.tokens, config.exact_stop, _data_seed(config))
            self.val_split = train.subset(val_rows)
            self.stopper = ExactStopper(config.exact_stop, config.n_inst, len(val_rows))
            train = train.subset(rows)
        k, n_tr, n_te = config.n_inst, len(train), len(test)
        tokens = torch.cat([train.tokens, test.tokens])  # [n_train + n_test, T]
        self.train_width = self.train_width_of(task)
        self.mask = torch.cat([train.mask, test.mask]).to(self.device)  # [N, T-1]
        self._setup(
            train_idx=torch.arange(n_tr).expand(k, n_tr).contiguous(),
            test_idx=(n_tr + torch.arange(n_te)).expand(k, n_te).contiguous(),
            inputs=tokens[:, :-1],
            targets=tokens[:, 1:],
            row_elements=task.seq_len * task.n_vocab,
            instance_chunk=instance_chunk,
        )

    @staticmethod
    def make_task(dataset: Any) -> Any:
        """The sequence task of ``dataset`` (here a :class:`RecursionDataset`): ``splits``
        ``train`` and ``test`` of packed rows ``[n, T]``, ``seq_len``, ``n_vocab``."""
        return RecursionTask(dataset)

    @staticmethod
    def train_width_of(task: Any) -> int:
        """Positions a training step reads: only the train rows' own width (later columns are
        padding there, which causal attention never lets reach a scored position)."""
        train = task.splits["train"]
        return int((train.prompt_len + train.answer_len).max()) - 1

    def instance_losses(
        self, rows: torch.Tensor, model: BatchedModel | None = None
    ) -> torch.Tensor:
        """Mean cross-entropy of each instance over the masked tokens of its ``rows``
        ``[inst, batch]``: ``[inst]``."""
        model = self.model if model is None else model
        w = self.train_width
        logits = model(self.inputs[rows][..., :w])  # [inst, batch, w, d_vocab]
        targets, mask = self.targets[rows][..., :w], self.mask[rows][..., :w]
        return masked_cross_entropy(logits, targets, mask, self.loss_dtype)

    @torch.no_grad()
    def evaluate(self) -> EvalResult:
        """Loss (token mean) and teacher-forced exact-match accuracy on train and test."""
        k, n = self.config.n_inst, self.inputs.shape[0]
        ce_sum = torch.zeros(k, n, dtype=self.loss_dtype, device=self.device)
        correct = torch.zeros(k, n, dtype=torch.bool, device=self.device)
        row_elements = self.task.seq_len * self.task.n_vocab
        for sl, model in self._passes():
            kc = sl.stop - sl.start
            step = max(1, EVAL_CHUNK_ELEMENTS // (kc * row_elements))
            for start in range(0, n, step):
                x = self.inputs[start : start + step].expand(kc, -1, -1)  # [inst, batch, T-1]
                logits = model(x).to(self.loss_dtype)  # [inst, batch, T-1, d_vocab]
                b = x.shape[1]
                tgt, mask = self.targets[start : start + b], self.mask[start : start + b]
                ce = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), tgt.expand(kc, -1, -1).reshape(-1),
                    reduction="none",
                ).view(kc, b, -1)  # fmt: skip
                ce_sum[sl, start : start + b] = (ce * mask).sum(-1)
                hit = (logits.argmax(-1) == tgt) | ~mask  # [inst, batch, T-1]
                correct[sl, start : start + b] = hit.all(-1)
        n_tokens = self.mask.sum(-1).to(self.loss_dtype)  # [N]

        def part(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            loss = ce_sum.gather(1, idx).sum(1) / n_tokens[idx[0]].sum()
            return loss.cpu(), correct.gather(1, idx).to(self.loss_dtype).mean(1).cpu()

        (tr_loss, tr_acc), (te_loss, te_acc) = part(self.train_idx), part(self.test_idx)
        result = EvalResult(self.epoch, tr_loss, tr_acc, te_loss, te_acc)
        return self._record(self._check_validation(result))

    def _check_validation(self, result: EvalResult) -> EvalResult:
        """With ``exact_stop``: on every ``eval_every``-th epoch not checked yet, the greedy
        exact match of every instance on the validation split, recorded by the stopper and
        returned with ``result`` (:class:`ValidatedEval`)."""
        st = self.stopper
        if st is None or self.epoch % self.config.eval_every or st.checked == self.epoch:
            return result
        exact = self.exact_match(self.val_split, 512)[1].double().mean(1)  # [inst] greedy
        st.update(self.epoch, exact, self.alive)
        return ValidatedEval(**vars(result), val_exact=exact)

    def done(self) -> bool:
        """With ``exact_stop``: the stopper's decision (:mod:`algolens.train.early_stop`);
        otherwise :meth:`Trainer.done`."""
        return super().done() if self.stopper is None else self.stopper.done

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """:meth:`Trainer.state_tensors` plus the stopper's state (with ``exact_stop``)."""
        out = super().state_tensors()
        if self.stopper is not None:
            out.update(self.stopper.state_tensors())
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """:meth:`Trainer.load_state_tensors` plus the stopper's state."""
        super().load_state_tensors(tensors, epoch)
        if self.stopper is not None:
            self.stopper.load_state_tensors(tensors)

    @torch.no_grad()
    def split_metrics(self, batch: int = 512) -> dict[str, dict[str, Any]]:
        """Exact-match accuracy of every instance on every named split, by teacher forcing and
        by greedy decoding, and greedy accuracy by structural feature
        (:mod:`algolens.tasks.recursion.features`): ``{split: {"n": N, "tf_acc": [K floats],
        "greedy_acc": [...], "greedy_by_feature": {feature: {value: {"n", "acc"}}}}}``, over
        the split's distinct inputs (``N`` counts them; the train split repeats draws)."""
        out: dict[str, dict[str, Any]] = {}
        for name, data in self.task.splits.items():
            inputs = self.task.dataset.splits[name].inputs
            first = distinct_rows(inputs)  # train repeats draws (oversampling): score each once
            if len(first) < len(inputs):
                data = data.subset(torch.tensor(first))
                inputs = [inputs[i] for i in first]
            tf, gr = self.exact_match(data, batch)
            kinds = self.task.dataset.arg_kinds
            features = [input_features(parse(x, kinds)) for x in inputs]
            out[name] = {
                "n": len(data),
                "tf_acc": tf.double().mean(1).tolist(),
                "greedy_acc": gr.double().mean(1).tolist(),
                "greedy_by_feature": accuracy_by_feature(gr.tolist(), features),
            }
        return out

    @torch.no_grad()
    def exact_match(self, data: Any, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Whether every instance writes each row of ``data`` (a split of :attr:`task`) exactly,
        by teacher forcing and by greedy decoding, ``batch`` rows at a time: two ``[K, n]`` bool
        tensors (on the CPU)."""
        k = self.config.n_inst
        tf = torch.zeros(k, len(data), dtype=torch.bool)
        gr = torch.zeros(k, len(data), dtype=torch.bool)
        for start in range(0, len(data), batch):
            part = data.subset(torch.arange(start, min(start + batch, len(data))))
            x = part.inputs.to(self.device).expand(k, -1, -1)  # [inst, batch, T-1]
            tf[:, start : start + len(part)] = teacher_forced_correct(self.model(x).cpu(), part)
            written = greedy_decode(lambda t: self.model(t.to(self.device)).cpu(), part, k)
            gr[:, start : start + len(part)] = greedy_correct(written, part)
        return tf, gr


def _data_seed(config: TrainConfig) -> int:
    """The data seed of a sequence-task config (draws its validation split too)."""
    args = config.recursion if config.recursion is not None else config.pathfinding
    return int(getattr(args, "data_seed", 0))


def distinct_rows(inputs: list[list[str]]) -> list[int]:
    """Indices of the first occurrence of each distinct input, in order.

    Examples:
        >>> distinct_rows([["B1", "Z"], ["Z"], ["B1", "Z"]])
        [0, 1]
    """
    seen: dict[tuple[str, ...], int] = {}
    for i, x in enumerate(inputs):
        seen.setdefault(tuple(x), i)
    return list(seen.values())
