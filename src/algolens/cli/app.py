"""Root typer application; each sub-command group registers itself from its own module."""

from __future__ import annotations

import os

import typer

MAX_THREADS = os.cpu_count() or 1
"""Most CPU threads `--threads` accepts (train, sweep, demo): the machine's CPU count."""

app = typer.Typer(
    name="algolens",
    help="Train small networks on algorithmic tasks and reverse-engineer what they learned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # sub-commands inherit it
)


def _register() -> None:
    from algolens.cli import (
        analyze,  # noqa: F401  (registers `algolens analyze`)
        compile,  # noqa: F401  (registers `algolens compile`)
        demo,  # noqa: F401  (registers `algolens demo`)
        group,  # noqa: F401  (registers `algolens group ...`)
        group_spectra,  # noqa: F401  (registers `algolens group spectra`)
        predict,  # noqa: F401  (registers `algolens predict`)
        report,  # noqa: F401  (registers `algolens report`)
        reproduce,  # noqa: F401  (registers `algolens reproduce`)
        runs,  # noqa: F401  (registers `algolens runs ...`)
        sweep,  # noqa: F401  (registers `algolens sweep`)
        train,  # noqa: F401  (registers `algolens train`)
    )


_register()
