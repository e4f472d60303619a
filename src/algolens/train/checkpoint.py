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
(``algolens-checkpoint/2``), ``epoch``, ``fingerprint`` (of the :class:`TrainConfig`), ``task``,
``model``, ``seeds``, ``device`` (the device that trained it,
:func:`algolens.train.device.device_label`; absent before devices were recorded, which means the
CPU) and ``sha256``. Tensors are written from the CPU, whatever device trained them. (safetensors
writes several metadata keys in a random order, which would make the bytes of two identical
checkpoints differ; a single key keeps files byte-reproducible.) Files are written atomically,
so a process killed at any moment leaves only complete checkpoints.

Checksum. ``sha256`` covers the rest of the metadata and every tensor (name, dtype, shape and
data bytes, in name order); :func:`load_checkpoint` recomputes it, so a flipped bit anywhere in
the tensor data, or in the metadata, is refused instead of silently changing the weights.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from algolens.errors import CheckpointError, ConfigError
from algolens.fileio import write_bytes_atomic

FORMAT = "algolens-checkpoint/2"
WEIGHTS_FORMAT = "algolens-weights/2"
_OLD_FORMATS = ("algolens-checkpoint/1", "algolens-weights/1")  # before checksums
_NAME = re.compile(r"^epoch_(\d{8,})\.safetensors$")  # 9+ digits past epoch 99 999 999


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

    The bytes are a pure function of the tensors and the metadata; the metadata gains
    ``sha256``, the checksum of both (see the module docstring).
    """
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {k: v for k, v in metadata.items() if k != "sha256"} | {"format": fmt}
    meta["sha256"] = checksum(tensors, meta)
    blob = save(tensors, metadata={"algolens": json.dumps(meta, sort_keys=True)})
    write_bytes_atomic(path, blob)


def checksum(tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``metadata`` (canonical JSON) and of every tensor's name, dtype, shape
    and data bytes, in name order."""
    h = hashlib.sha256(json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def load_checkpoint(
    path: str | Path, *, fmt: str = FORMAT, fingerprint: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint and check it is ours and, with ``fingerprint``, for this config.

    Returns:
        ``(tensors, metadata)``.

    Raises:
        CheckpointError: missing, truncated or not safetensors; a foreign file (no algolens format
            tag) or one of an older format; a checksum mismatch (a changed bit in the tensor data
            or the metadata); or a checkpoint of another task/model/optimiser (fingerprint
            mismatch).
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
    if isinstance(meta, dict) and meta.get("format") in _OLD_FORMATS:
        raise CheckpointError(
            f"{path} was written by an older algolens (format {meta['format']!r}, without "
            "checksums); retrain the run"
        )
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise CheckpointError(
            f"{path} is not an algolens checkpoint (format {meta.get('format')!r}, "
            f"expected {fmt!r})"
        )
    stored = meta.pop("sha256", None)
    if stored != checksum(tensors, meta):
        raise CheckpointError(
            f"{path} is corrupted: its checksum does not match its tensor data and metadata "
            "(a changed bit); use another checkpoint (--checkpoint EPOCH, listed by "
            "`algolens runs show`) or retrain"
        )
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{path} belongs to another run ({meta.get('task')}, {meta.get('model')}); "
            "its config fingerprint differs from this run's config"
        )
    return tensors, meta


def check_state_fits(expected: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor]) -> None:
    """Check that checkpoint ``tensors`` hold every name of ``expected`` (a trainer's own state)
    with its shape and dtype.

    Raises:
        CheckpointError: a tensor is missing or has the wrong shape or dtype.
    """
    missing = sorted(set(expected) - set(tensors))
    wrong = [
        f"{n} {tuple(tensors[n].shape)} (expected {tuple(t.shape)})"
        for n, t in expected.items()
        if n in tensors and (tensors[n].shape != t.shape or tensors[n].dtype != t.dtype)
    ]
    if missing or wrong:
        what = (f"missing {', '.join(missing[:4])}" if missing else "") + "; ".join(wrong[:4])
        raise CheckpointError(f"checkpoint does not fit this run's model/optimizer: {what}")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``algolens`` metadata of a checkpoint from its header alone (a few hundred bytes read,
    no tensors, NOT verified): for cheap consistency checks. ``{}`` when unreadable."""
    try:
        with open(path, "rb") as fh:
            header_len = int.from_bytes(fh.read(8), "little")
            if not 0 < header_len <= _MAX_HEADER:
                return {}
            header = json.loads(fh.read(header_len))
        meta = json.loads(header["__metadata__"]["algolens"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header


def verify_checkpoint(path: str | Path, *, fmt: str = FORMAT) -> str | None:
    """None when the checkpoint at ``path`` loads and its checksum verifies, else the reason
    (one line). Reads and hashes the whole file."""
    try:
        load_checkpoint(path, fmt=fmt)
    except CheckpointError as exc:
        return str(exc)
    return None


def checkpoint_listing(folder: str | Path, final: str | Path | None = None) -> list[dict]:
    """Every checkpoint of ``folder`` (and the ``final`` weights file, when it exists) as
    ``{"epoch", "file", "verified", "problem"}``, each file read and its checksum verified
    (:func:`verify_checkpoint`); ``epoch`` of the final weights comes from its header."""
    rows = []
    for epoch, path in list_checkpoints(folder):
        problem = verify_checkpoint(path)
        rows.append({"epoch": epoch, "file": path.name, "verified": problem is None,
                     "problem": problem})  # fmt: skip
    if final is not None and Path(final).is_file():
        problem = verify_checkpoint(final, fmt=WEIGHTS_FORMAT)
        rows.append({"epoch": read_metadata(final).get("epoch"), "file": Path(final).name,
                     "verified": problem is None, "problem": problem})  # fmt: skip
    return rows


def pick_checkpoint(folder: str | Path, choice: str) -> tuple[int, Path]:
    """The checkpoint of ``folder`` that ``choice`` names: an epoch (``300``: the file
    ``epoch_00000300.safetensors``) or one of the folder's own checkpoint files (a path, or a
    bare file name); the file is not read.

    Raises:
        ConfigError: no such epoch, or a file that is not one of the folder's checkpoints (a path
            outside the folder included).
    """
    found = list_checkpoints(folder)
    epochs = ", ".join(str(e) for e, _ in found) or "none"
    text = choice.strip()
    if text.isascii() and text.isdigit():
        epoch = int(text)
        for e, p in found:
            if e == epoch:
                return e, p
        raise ConfigError(
            f"--checkpoint {choice}: the run has no checkpoint at epoch {epoch}; epochs: {epochs}"
        )
    given = Path(text)
    if given.parent == Path("."):
        given = Path(folder) / given.name  # a bare name: a file of the run's checkpoints/
    try:
        wanted = given.resolve()
    except (OSError, RuntimeError):
        wanted = None
    for e, p in found:
        if not p.is_symlink() and p.resolve() == wanted:
            return e, p
    raise ConfigError(
        f"--checkpoint {choice}: not one of the run's checkpoint files (checkpoints/"
        f"epoch_NNNNNNNN.safetensors in the run folder); give an epoch ({epochs}) or one of them"
    )


def latest_checkpoint(folder: str | Path) -> tuple[int, Path] | None:
    """The highest-epoch checkpoint file in ``folder``, or None."""
    found = list_checkpoints(folder)
    return found[-1] if found else None
