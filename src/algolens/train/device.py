"""Where training runs: the ``--device`` names, the current default device, and how a run
records it.

:func:`resolve_device` turns a name (``cpu``, ``cuda``, ``cuda:N``, ``auto``) into a
:class:`torch.device`, refusing a CUDA device this process cannot use. The trainers take
``device=None`` to mean :func:`current_device`, a context variable (default CPU) that the
commands set with :func:`using_device` around the training they run; a context variable does not
cross processes, so sweep workers get the device name explicitly and set it themselves
(:mod:`algolens.sweep.worker`).

A run's checkpoints and final weights are always written from CPU tensors
(:func:`algolens.train.checkpoint.save_checkpoint` moves them), and their metadata names the
device that produced them (:func:`device_label`); resuming on another device is allowed but
said on stderr (:func:`device_change_note`), since the bits of a run depend on the device's
kernels (docs/training.md, "Devices").
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

from algolens.errors import AlgolensWarning, ConfigError

DEVICE_NAMES = ("cpu", "cuda", "cuda:N", "auto")
"""The names :func:`resolve_device` accepts (``N`` a CUDA device index)."""

_CPU = torch.device("cpu")
_CURRENT: ContextVar[torch.device] = ContextVar("algolens_device", default=_CPU)


def check_device_name(name: str, *, what: str = "--device") -> str:
    """``name`` in its canonical spelling (``cpu``, ``cuda``, ``cuda:N``, ``auto``), checked
    for its form only: whether a CUDA device exists is :func:`resolve_device`'s question (a
    Ray cluster's workers may have GPUs the driver lacks).

    Raises:
        ConfigError: not one of those names (the message starts with ``what``).
    """
    text = name.strip().lower() if isinstance(name, str) else ""
    if text in ("cpu", "cuda", "auto"):
        return text
    if text.startswith("cuda:"):
        digits = text.removeprefix("cuda:")
        if digits.isascii() and digits.isdigit():
            return f"cuda:{int(digits)}"
        raise ConfigError(
            f"{what} {name!r}: a CUDA device is cuda or cuda:N with N a device index (cuda:0)"
        )
    raise ConfigError(
        f"{what} {name!r} is not a device; use cpu, cuda, cuda:N (a CUDA device index) or auto"
    )


def resolve_device(name: str, *, what: str = "--device") -> torch.device:
    """The torch device ``name`` names: ``cpu``; ``cuda`` (the current CUDA device) or
    ``cuda:N``; ``auto`` (``cuda`` when a CUDA device is available, else ``cpu``).

    Checking a CUDA name asks torch how many devices there are; it allocates nothing on them.

    Raises:
        ConfigError: another name (:func:`check_device_name`), or a CUDA device this process
            cannot use (torch built without CUDA, no GPU visible, an index past the last
            device); the message starts with ``what`` and says what to use instead.
    """
    text = check_device_name(name, what=what)
    if text == "cpu":
        return _CPU
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else _CPU
    if not torch.cuda.is_available():
        raise ConfigError(
            f"{what} {name}: no CUDA device is available ({_why_no_cuda()}); use {what} cpu or auto"
        )
    if text == "cuda":
        return torch.device("cuda")
    index, count = int(text.removeprefix("cuda:")), torch.cuda.device_count()
    if index >= count:
        raise ConfigError(
            f"{what} {name}: this machine has {count} CUDA device(s), numbered 0 to "
            f"{count - 1}; use {what} cuda:0 or cuda"
        )
    return torch.device("cuda", index)


def _why_no_cuda() -> str:
    """Why torch sees no CUDA device, in a few words."""
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is built without CUDA"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no GPU"


def current_device() -> torch.device:
    """The device trainers use when none is given (CPU unless set by :func:`using_device`)."""
    return _CURRENT.get()


@contextmanager
def using_device(device: torch.device | str) -> Iterator[torch.device]:
    """Make ``device`` (a device or a name for :func:`resolve_device`) the current default
    device inside the ``with`` block (this thread and context only); yields it."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    token = _CURRENT.set(dev)
    try:
        yield dev
    finally:
        _CURRENT.reset(token)


def device_label(device: torch.device) -> str:
    """What a run records as the device it trained on: ``cpu``, or ``cuda:N (GPU name)``
    (runs on two GPU models may differ in their bits)."""
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def device_change_note(run_id: str, trained_on: str | None, now: str) -> str | None:
    """The line said when run ``run_id``, whose checkpoint was written on ``trained_on`` (None:
    a checkpoint from before devices were recorded, so the CPU), resumes on ``now``; None when
    they are the same."""
    before = trained_on or "cpu"
    if before == now:
        return None
    return (
        f"run {run_id} trained on {before} and resumes on {now}: the rest of the run will not "
        "have the bits of one trained on a single device (docs/training.md, Devices)"
    )


def warn_device_change(run_id: str, trained_on: str | None, now: str) -> None:
    """Issue :func:`device_change_note` as an :class:`~algolens.errors.AlgolensWarning`, if
    there is one (the CLI prints it as one ``warning:`` line)."""
    note = device_change_note(run_id, trained_on, now)
    if note is not None:
        warnings.warn(note, AlgolensWarning, stacklevel=2)
