"""The executor options shared by `algolens sweep` and `algolens reproduce` (where the runs
train: this machine's cores or a Ray cluster) and their one check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from algolens.cli.train import MAX_THREADS
from algolens.errors import ConfigError

if TYPE_CHECKING:
    from algolens.sweep.driver import ExecutorSettings

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_THREADS,
        help="local: worker processes (default: one per core, at most one per run).",
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_THREADS,
        help="local: torch threads per worker (default: the cores shared out among the workers).",
    ),
]
CpusOpt = Annotated[
    int, typer.Option(min=1, help="ray: CPUs each run declares (and its torch threads).")
]
MaxRetriesOpt = Annotated[int, typer.Option(min=0, help="ray: retries of a run whose worker died.")]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        help="ray: cluster address (auto, HOST:PORT); default: a local Ray runtime on 127.0.0.1."
    ),
]


def executor_settings(
    executor: str, workers: int | None, threads: int | None, cpus: int, max_retries: int,
    address: str | None, device: str = "cpu",
) -> ExecutorSettings:  # fmt: skip
    """The settings of ``--executor`` and its options, refusing an option of the other executor;
    ``device``, the ``--device`` name, becomes the name the workers train on
    (:func:`algolens.cli.device_option.worker_device`).

    Raises:
        ConfigError: an unknown executor, or ``--workers``/``--threads`` with ray or
            ``--address`` with local (one line naming the options to drop); a device the
            executor's workers cannot be given.
    """
    if executor not in ("local", "ray"):
        raise ConfigError(f"unknown executor {executor!r}; use local or ray")
    local_only = {"--workers": workers, "--threads": threads}
    ray_only = {"--address": address}
    wrong = local_only if executor == "ray" else ray_only
    given = [name for name, v in wrong.items() if v is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} do not apply to --executor {executor}; drop them")
    from algolens.cli.device_option import worker_device
    from algolens.sweep.driver import ExecutorSettings

    on = worker_device(device, executor)
    return ExecutorSettings(executor, workers, threads, cpus, max_retries, address, on)
