"""Sequence-to-sequence tasks for decoder-only models: packing, loss mask, accuracy, decoding.

An example is a prompt and an answer, packed into one right-padded row::

    prompt... <sep> answer... <eos> <pad> <pad> ...        tokens [N, T]

The model reads ``tokens[:, :-1]`` and is scored on predicting ``tokens[:, 1:]`` at the positions
of the loss mask: from ``<sep>`` (which predicts the first answer token) to the last answer token
(which predicts ``<eos>``). Attention is causal and padding comes after ``<eos>``, so pads never
influence a scored position and need no attention mask.

Accuracy is exact match of a whole answer:

* teacher forcing (:func:`teacher_forced_correct`): every masked position's argmax is the target;
* greedy decoding (:func:`greedy_decode`): the model writes its own answer from the prompt, one
  token at a time, for all K instances at once (tokens ``[inst, N, T]``); correct when the first
  ``len(answer) + 1`` written tokens are ``answer <eos>``.

The loss of a K-instance model is the sum over instances of each instance's mean cross-entropy
over its masked target tokens (the engine's reduction for composition tasks).

Examples:
    >>> b = pack([[3, 4], [5]], [[6], [7, 7]], sep=1, eos=2, pad=0)
    >>> b.tokens.tolist()
    [[3, 4, 1, 6, 2], [5, 1, 7, 7, 2]]
    >>> b.mask.int().tolist()  # <sep> predicts the first answer token, the last one <eos>
    [[0, 0, 1, 1], [0, 1, 1, 1]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from algolens.errors import ConfigError

Model = Callable[[torch.Tensor], torch.Tensor]
"""Tokens ``[inst, batch, pos]`` -> logits ``[inst, batch, pos, d_vocab_out]``, causal."""


@dataclass(frozen=True)
class PackedSequences:
    """Prompts and answers packed as right-padded rows.

    Attributes:
        tokens: ``[N, T]`` int64, ``prompt <sep> answer <eos>`` then ``pad``.
        prompt_len: ``[N]`` int64, tokens up to and including ``<sep>``.
        answer_len: ``[N]`` int64, answer tokens plus the ``<eos>``.
        mask: ``[N, T-1]`` bool, the scored positions of ``tokens[:, :-1]``.
        sep, eos, pad: the special token ids.
    """

    tokens: torch.Tensor
    prompt_len: torch.Tensor
    answer_len: torch.Tensor
    mask: torch.Tensor
    sep: int
    eos: int
    pad: int

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def inputs(self) -> torch.Tensor:
        """``[N, T-1]``: what the model reads."""
        return self.tokens[:, :-1]

    @property
    def targets(self) -> torch.Tensor:
        """``[N, T-1]``: the next token at every position."""
        return self.tokens[:, 1:]

    def trimmed(self) -> PackedSequences:
        """The same rows cut to the longest ``prompt + answer`` among them (the padding every
        row has at the end removed; nothing a row reads or is scored on changes)."""
        width = int((self.prompt_len + self.answer_len).max()) if len(self) else 1
        width = max(2, min(width, self.tokens.shape[1]))
        return PackedSequences(
            self.tokens[:, :width],
            self.prompt_len,
            self.answer_len,
            self.mask[:, : width - 1],
            self.sep,
            self.eos,
            self.pad,
        )

    def subset(self, idx: torch.Tensor) -> PackedSequences:
        """The rows ``idx`` (same width T)."""
        return PackedSequences(
            self.tokens[idx],
            self.prompt_len[idx],
            self.answer_len[idx],
            self.mask[idx],
            self.sep,
            self.eos,
            self.pad,
        )


def pack(
    prompts: Sequence[Sequence[int]],
    answers: Sequence[Sequence[int]],
    *,
    sep: int,
    eos: int,
    pad: int,
    width: int | None = None,
) -> PackedSequences:
    """Pack prompts and answers (token ids) into right-padded rows of width ``width``
    (default: the longest ``len(prompt) + len(answer) + 2``).

    Raises:
        ConfigError: different numbers of prompts and answers, an empty set, or a row longer
            than ``width``.
    """
    if len(prompts) != len(answers):
        raise ConfigError(f"{len(prompts)} prompts but {len(answers)} answers")
    if not prompts:
        raise ConfigError("no examples to pack")
    lengths = [len(p) + len(a) + 2 for p, a in zip(prompts, answers)]
    need = max(lengths)
    width = need if width is None else width
    if need > width:
        raise ConfigError(f"an example needs {need} tokens, more than the width {width}")
    tokens = torch.full((len(prompts), width), pad, dtype=torch.int64)  # [N, T]
    for i, (p, a) in enumerate(zip(prompts, answers)):
        tokens[i, : lengths[i]] = torch.tensor([*p, sep, *a, eos], dtype=torch.int64)
    prompt_len = torch.tensor([len(p) + 1 for p in prompts], dtype=torch.int64)  # [N]
    answer_len = torch.tensor([len(a) + 1 for a in answers], dtype=torch.int64)  # [N]
    pos = torch.arange(width - 1)  # [T-1]
    start = prompt_len - 1  # position of <sep>
    mask = (pos >= start[:, None]) & (pos < (start + answer_len)[:, None])  # [N, T-1]
    return PackedSequences(tokens, prompt_len, answer_len, mask, sep, eos, pad)


def _per_inst(t: torch.Tensor, n_inst: int) -> torch.Tensor:
    """``[N, ...]`` or ``[inst, N, ...]`` -> ``[inst, N, ...]``."""
    return t.expand(n_inst, *t.shape) if t.dim() == 2 else t


def masked_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Per-instance mean cross-entropy over the masked positions.

    Args:
        logits: ``[inst, N, T-1, d_vocab_out]``, cast to ``dtype`` (if given) before the
            log-softmax.
        targets, mask: ``[inst, N, T-1]`` (or ``[N, T-1]``, shared by every instance).

    Returns:
        ``[inst]``; the training loss is its sum.
    """
    n_inst = logits.shape[0]
    total = masked_cross_entropy_sum(logits, targets, mask, dtype)  # [inst]
    return total / _per_inst(mask, n_inst).sum((1, 2))  # [inst]


def masked_cross_entropy_sum(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Per-instance *summed* cross-entropy over the masked positions (arguments as
    :func:`masked_cross_entropy`): ``[inst]``. A batch split into parts sums its parts' sums."""
    n_inst, n, t, v = logits.shape
    targets, mask = _per_inst(targets, n_inst), _per_inst(mask, n_inst)  # [inst, N, T-1]
    logits = logits if dtype is None else logits.to(dtype)
    ce = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), reduction="none")
    return (ce.view(n_inst, n, t) * mask).sum((1, 2))  # [inst]


def sequence_loss(logits: torch.Tensor, data: PackedSequences) -> torch.Tensor:
    """:func:`masked_cross_entropy` of ``logits [inst, N, T-1, d_vocab_out]`` on ``data``."""
    return masked_cross_entropy(logits, data.targets, data.mask)


def teacher_forced_correct(logits: torch.Tensor, data: PackedSequences) -> torch.Tensor:
    """``[inst, N]`` bool: every masked position's argmax equals its target.

    Args:
        logits: ``[inst, N, T-1, d_vocab_out]`` for ``data.inputs``.
    """
    n_inst = logits.shape[0]
    hit = logits.argmax(-1) == _per_inst(data.targets, n_inst)  # [inst, N, T-1]
    return (hit | ~_per_inst(data.mask, n_inst)).all(-1)  # [inst, N]


@torch.no_grad()
def greedy_decode(
    model: Model, data: PackedSequences, n_inst: int, steps: int | None = None
) -> torch.Tensor:
    """Each instance writes its own answers from the prompts, greedily, all instances at once.

    Every step runs the model on the whole buffer ``[inst, N, T-1]`` and writes, for each row,
    the argmax at that row's current position into the next slot; causal attention makes the
    slots after a row's position irrelevant to it.

    Args:
        model: a causal model of ``n_inst`` instances.
        data: the examples (only prompts are read).
        steps: tokens to write per row (default: the longest ``answer <eos>`` of ``data``); a row
            stops early at the buffer's end.

    Returns:
        ``[inst, N, steps]`` int64: the written tokens (``pad`` where a row ran out of room).

    A hook-free :class:`~algolens.models.transformer.Transformer` passed as ``model`` decodes
    with a key/value cache instead (:mod:`algolens.models.transformer_decode`: the same tokens up
    to argmax ties at float rounding); any other callable runs as above.
    """
    from algolens.models.transformer_decode import cached_greedy_decode, can_cache

    if can_cache(model):
        return cached_greedy_decode(model, data, n_inst, steps)  # type: ignore[arg-type]
    steps = int(data.answer_len.max()) if steps is None else steps
    n, width = data.tokens.shape
    buf = data.tokens.clone()  # [N, T]
    keep = torch.arange(width)[None, :] < data.prompt_len[:, None]  # [N, T]
    buf = torch.where(keep, buf, torch.full_like(buf, data.pad))
    buf = buf.expand(n_inst, n, width).clone()  # [inst, N, T]
    out = torch.full((n_inst, n, steps), data.pad, dtype=torch.int64)  # [inst, N, steps]
    rows = torch.arange(n)
    for s in range(steps):
        pos = data.prompt_len - 1 + s  # [N], the position whose logits give token s
        live = pos < width - 1  # [N], room left in the buffer
        if not bool(live.any()):
            break
        read = int(pos[live].max()) + 1  # positions the model needs to see
        logits = model(buf[:, :, :read])  # [inst, N, read, d_vocab_out]
        p = pos.clamp(max=read - 1)
        nxt = logits[:, rows, p].argmax(-1)  # [inst, N]
        nxt = torch.where(live[None, :], nxt, torch.full_like(nxt, data.pad))
        out[:, :, s] = nxt
        buf[:, rows[live], pos[live] + 1] = nxt[:, live]
    return out


def greedy_correct(written: torch.Tensor, data: PackedSequences) -> torch.Tensor:
    """``[inst, N]`` bool: the first ``len(answer) + 1`` written tokens are ``answer <eos>``.

    Args:
        written: ``[inst, N, steps]`` from :func:`greedy_decode` (``steps`` at least the longest
            ``answer <eos>``).
    """
    n_inst, n, steps = written.shape
    if steps < int(data.answer_len.max()):
        raise ConfigError(f"{steps} decoded tokens cannot cover answers of {data.answer_len.max()}")
    idx = (data.prompt_len[:, None] + torch.arange(steps)).clamp(max=data.tokens.shape[1] - 1)
    truth = data.tokens.gather(1, idx)  # [N, steps]
    scored = torch.arange(steps)[None, :] < data.answer_len[:, None]  # [N, steps]
    return ((written == truth) | ~scored).all(-1)  # [inst, N]


def check_width(data: PackedSequences, n_ctx: int) -> None:
    """Raise :class:`ConfigError` unless the model's context holds ``data.inputs``."""
    if data.tokens.shape[1] - 1 > n_ctx:
        raise ConfigError(
            f"sequences of {data.tokens.shape[1] - 1} input tokens do not fit n_ctx={n_ctx}"
        )
