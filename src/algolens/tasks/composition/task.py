"""Group composition: predict ``a·b`` from ``(a, b)`` for a finite group G.

The dataset is all ``|G|²`` ordered pairs, row ``a·|G| + b`` holding ``(a, b)``, and the answer is
the Cayley table entry ``table[a, b]`` (Chughtai et al. 2023; Stander et al. 2024). Two formats:

* ``"mlp"``: rows ``(a, b)``, input vocabulary ``|G|``.
* ``"transformer"``: rows ``[a, b, =]`` where ``=`` is token id ``|G|`` (input vocabulary
  ``|G| + 1``); the answer is read at the last position.

The output vocabulary is ``|G|`` in both formats.

Examples:
    >>> task = CompositionTask("S3", train_frac=0.5, fmt="transformer")
    >>> task.n_vocab, task.n_vocab_in, task.seq_len, tuple(task.inputs.shape)
    (6, 7, 3, (36, 3))
    >>> train_idx, test_idx = task.split(seed=1)
    >>> len(train_idx), len(test_idx)
    (18, 18)
"""

from __future__ import annotations

import torch

from algolens.errors import ConfigError
from algolens.groups import FiniteGroup, parse_group
from algolens.tasks.base import Task, TaskFormat, random_split

FORMATS: tuple[str, ...] = ("mlp", "transformer")


class CompositionTask(Task):
    """All pairs ``(a, b) -> a·b`` of a finite group, with seeded train/test splits.

    Args:
        group_spec: a group spec (``"S5"``, ``"C113"``, ``"D59"``...; see
            :func:`algolens.groups.parse_group`) or an already built :class:`FiniteGroup`.
        train_frac: fraction of the ``|G|²`` pairs used for training, in ``(0, 1)``; the train
            size is ``round(train_frac · |G|²)`` for every seed.
        fmt: ``"mlp"`` or ``"transformer"`` (see the module docstring).

    Attributes:
        group: the :class:`FiniteGroup`.
        n_vocab: ``|G|``, the model's output size.
        n_vocab_in: ``|G|`` (mlp) or ``|G| + 1`` (transformer).
        eq_token: ``|G|`` in the transformer format, else ``None``.
        seq_len: 2 (mlp) or 3 (transformer).
        inputs: ``[N, seq_len]`` int64 with ``N = |G|²``.
        targets: ``[N]`` int64, ``targets[i] = table[inputs[i, 0], inputs[i, 1]]``.
        n_train, n_test: split sizes.

    Raises:
        ConfigError: ``train_frac`` outside ``(0, 1)`` or leaving an empty split, or an unknown
            ``fmt``.
        SpecError: a group spec that :func:`parse_group` rejects.
    """

    def __init__(self, group_spec: str | FiniteGroup, train_frac: float, fmt: TaskFormat) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"task format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
        if isinstance(train_frac, bool) or not isinstance(train_frac, (int, float)):
            raise ConfigError(f"train_frac must be a number in (0, 1), got {train_frac!r}")
        if not 0.0 < float(train_frac) < 1.0:
            raise ConfigError(f"train_frac must lie strictly between 0 and 1, got {train_frac}")
        self.group = group_spec if isinstance(group_spec, FiniteGroup) else parse_group(group_spec)
        self.group_spec = group_spec if isinstance(group_spec, str) else self.group.name
        self.train_frac = float(train_frac)
        self.fmt: TaskFormat = fmt

        n = self.group.order
        n_rows = n * n
        self.n_train = round(self.train_frac * n_rows)
        self.n_test = n_rows - self.n_train
        if n_rows < 2:
            raise ConfigError(
                f"{self.group.name} has only {n_rows} pair (a, b), too few to split into train "
                "and test pairs; use a group of order 2 or more (e.g. C2)"
            )
        if self.n_train == 0 or self.n_test == 0:
            raise ConfigError(
                f"train_frac={train_frac} leaves an empty split of the {n_rows} pairs of "
                f"{self.group.name}; choose a fraction between {1 / n_rows:.3g} and "
                f"{1 - 1 / n_rows:.3g}"
            )

        self.n_vocab = n
        a = torch.arange(n).repeat_interleave(n)  # [N]
        b = torch.arange(n).repeat(n)  # [N]
        table = torch.tensor(self.group.table.tolist(), dtype=torch.int64)  # [n, n]
        self.targets = table[a, b]  # [N]
        if fmt == "mlp":
            self.eq_token: int | None = None
            self.n_vocab_in = n
            self.inputs = torch.stack([a, b], dim=1)  # [N, 2]
        else:
            self.eq_token = n
            self.n_vocab_in = n + 1
            self.inputs = torch.stack([a, b, torch.full_like(a, n)], dim=1)  # [N, 3]
        self.seq_len = int(self.inputs.shape[1])

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def __repr__(self) -> str:
        return (
            f"CompositionTask({self.group_spec!r}, train_frac={self.train_frac}, "
            f"fmt={self.fmt!r}, n_train={self.n_train}, n_test={self.n_test})"
        )

    def split(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Random train/test split of the pairs for one seed.

        Returns:
            ``(train_idx, test_idx)``: sorted int64 index tensors of sizes ``n_train`` and
            ``n_test``, disjoint and together covering ``0..N-1``; drawn from
            ``torch.Generator().manual_seed(seed)``.
        """
        return random_split(len(self), self.n_train, seed)
