"""The papers ``algolens reproduce`` knows, imported lazily (each pulls in torch and analyses)."""

from __future__ import annotations

import importlib
from typing import cast

from algolens.errors import SpecError
from algolens.recipes.claims import Reproduction

REPRODUCTIONS: dict[str, str] = {
    "chughtai2023": "algolens.recipes.chughtai2023",
    "stander2024": "algolens.recipes.stander2024",
    "zhang2023": "algolens.recipes.zhang2023",
    "brinkmann2024": "algolens.recipes.brinkmann2024",
    "merrill2023": "algolens.recipes.merrill2023",
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
