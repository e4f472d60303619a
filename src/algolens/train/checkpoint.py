"""Checkpoints as safetensors files: weights, optimizer state, RNG state and epoch. No pickle.

Tensor names in a checkpoint::

    model.<param>                 weights, [inst, ...]
    optim.step                    [1] int64, AdamW step count
    optim.exp_avg.<param>         first moments          (optim.exp_avg_sq.<param>: second)
    optim.grad_ema.<param>        Grokfast filter state (only when the filter is on)
    state.alive                   [inst] uint8, 0 once an instance hit NaN/inf
    state.grok_epoch              [inst] int64, first epoch with test accuracy >= threshold, or -1
    state.rng                     [inst, n] uint8, minibatch-order generator states (minibatch only)

Metadata: one key, ``algolens``, holding a JSON object with sorted keys: ``format``
(``algolens-checkpoint/1``), ``epoch``, ``fingerprint`` (of the :class:`TrainConfig`), ``task``,
``model``, ``seeds``. (safetensors writes several metadata keys in a random order, which would make
the bytes of two identical checkpoints differ; a single key keeps files byte-reproducible.) Files
are written atomically, so a process killed at any moment leaves only complete checkpoints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from algolens.errors import CheckpointError
from algolens.fileio import write_bytes_atomic

FORMAT = "algolens-checkpoint/1"
WEIGHTS_FORMAT = "algolens-weights/1"
_NAME = re.compile(r"^epoch_(\d{8})\.safetensors$")


def checkpoint_name(epoch: int) -> str:
    """File name of the checkpoint after ``epoch`` epochs: ``epoch_00001234.safetensors``."""
    return f"epoch_{epoch:08d}.safetensors"


def list_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of every checkpoint file in ``folder``, by epoch."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def save_checkpoint(
    path: str | Path,
    tensors: dict[str, torch.Tensor],
    metadata: dict[str, Any],
    *,
    fmt: str = FORMAT,
) -> None:
    """Write ``tensors`` with ``metadata`` (plus the format tag) atomically to ``path``.

    The bytes are a pure function of the tensors and the metadata.
    """
    meta = {"algolens": json.dumps({"format": fmt, **metadata}, sort_keys=True)}
    blob = save({k: v.detach().contiguous() for k, v in tensors.items()}, metadata=meta)
    write_bytes_atomic(path, blob)


def load_checkpoint(
    path: str | Path, *, fmt: str = FORMAT, fingerprint: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint and check it is ours and, with ``fingerprint``, for this config.

    Returns:
        ``(tensors, metadata)``.

    Raises:
        CheckpointError: missing, truncated or not safetensors; a foreign file (no algolens format
            tag); or a checkpoint of another task/model/optimiser (fingerprint mismatch).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        tensors = load_file(str(path))
        with open(path, "rb") as fh:
            header_len = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(header_len))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"checkpoint {path} is truncated or not a safetensors file ({str(exc).strip()[:80]})"
        ) from None
    try:
        meta = json.loads((header.get("__metadata__") or {}).get("algolens", "{}"))
    except json.JSONDecodeError:
        meta = {}
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise CheckpointError(
            f"{path} is not an algolens checkpoint (format {meta.get('format')!r}, "
            f"expected {fmt!r})"
        )
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{path} belongs to another run ({meta.get('task')}, {meta.get('model')}); "
            "its config fingerprint differs from this run's config"
        )
    return tensors, meta


def latest_checkpoint(folder: str | Path) -> tuple[int, Path] | None:
    """The highest-epoch checkpoint file in ``folder``, or None."""
    found = list_checkpoints(folder)
    return found[-1] if found else None
