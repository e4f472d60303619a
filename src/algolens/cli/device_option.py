"""The ``--device`` option of `algolens train`, `sweep` and `reproduce` (where runs train) and
the name each executor's workers get. torch loads only when a command runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from algolens.errors import ConfigError

if TYPE_CHECKING:
    import torch

DeviceOpt = Annotated[
    str,
    typer.Option(
        metavar="cpu|cuda|cuda:N|auto",
        help="Where runs train: cpu, cuda (the current GPU), cuda:N, or auto (cuda when a CUDA "
        "device is available, else cpu). Checkpoints and weights are stored from the CPU "
        "either way; runs on two devices differ in their bits (docs/training.md, Devices).",
    ),
]


def command_device(name: str) -> torch.device:
    """The device a command trains on in this process (checked before anything is created).

    Raises:
        ConfigError: an unknown name, or a CUDA device this process cannot use.
    """
    from algolens.train.device import resolve_device

    return resolve_device(name)


def worker_device(name: str, executor: str) -> str:
    """The device name the workers of ``executor`` resolve and train on (a name: a device does
    not cross processes). ``local`` workers run on this machine, so the name is resolved here
    (``auto`` becomes ``cpu`` or ``cuda``); a ``ray`` worker may run on a machine with GPUs this
    one lacks, so only the name's form is checked and each worker checks its GPU (a run that has
    none fails with the one-line reason). With ray, ``cuda`` makes each run declare one GPU,
    which Ray shows it as ``cuda:0``: ``auto`` and ``cuda:N`` are refused there.

    Raises:
        ConfigError: an unknown name; a CUDA device this machine cannot use (local); ``auto``
            or ``cuda:N`` with ray.
    """
    from algolens.train.device import check_device_name

    if executor != "ray":
        return str(command_device(name))
    text = check_device_name(name)
    if text == "auto" or text.startswith("cuda:"):
        raise ConfigError(
            f"--device {name} does not apply to --executor ray (Ray gives a run a GPU only when "
            "it declares one, and shows it as its only device); use --device cuda or cpu"
        )
    return text
