"""The papers ``algolens reproduce`` knows, imported lazily (each pulls in torch and analyses)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from algolens.errors import SpecError
from algolens.reproductions.claims import Claim, Mode, Reproduction, Scale
from algolens.store import RunStore

LEGACY_MODES: tuple[Mode, ...] = ("quick", "full")
"""The protocols of a module that declares no ``MODES`` (it takes the mode's name, not a Scale)."""

REPRODUCTIONS: dict[str, str] = {
    "chughtai2023": "algolens.reproductions.chughtai2023",
    "stander2024": "algolens.reproductions.stander2024",
    "zhang2023": "algolens.reproductions.zhang2023",
    "brinkmann2024": "algolens.reproductions.brinkmann2024",
    "merrill2023": "algolens.reproductions.merrill2023",
}
"""Paper key -> module. A key whose module does not exist yet is reported as not built."""


def load_reproduction(paper: str) -> Reproduction:
    """The module of ``paper``.

    Raises:
        SpecError: an unknown paper key, or a paper whose reproduction is not built yet.
    """
    if paper not in REPRODUCTIONS:
        raise SpecError(f"unknown paper {paper!r}; use one of {', '.join(REPRODUCTIONS)}")
    name = REPRODUCTIONS[paper]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise SpecError(
            f"the reproduction of {paper} is not built yet; see README.md for each paper's status"
        ) from None
    return cast(Reproduction, module)


def modes_of(module: Reproduction) -> tuple[Mode, ...]:
    """The protocols ``module`` offers: its ``MODES``, else :data:`LEGACY_MODES`."""
    return tuple(getattr(module, "MODES", LEGACY_MODES))


def check_mode(paper: str, module: Reproduction, mode: Mode) -> None:
    """Refuse a protocol ``module`` does not offer, before anything is created.

    Raises:
        SpecError: ``"zhang2023 has no --standard protocol yet; use --quick or --full"``.
    """
    offered = modes_of(module)
    if mode not in offered:
        use = " or ".join(f"--{m}" for m in offered)
        raise SpecError(f"{paper} has no --{mode} protocol yet; use {use}")


def run_reproduction(
    module: Reproduction, scale: Scale, store: RunStore, *, log: Callable[[str], None]
) -> list[Claim]:
    """``module.reproduce`` at ``scale``: a module with ``MODES`` gets the :class:`Scale`, one
    without it (not converted yet) the mode's name (it has no epochs cap to honour)."""
    if hasattr(module, "MODES"):
        return module.reproduce(scale, store, log=log)
    return module.reproduce(scale.mode, store, log=log)
