"""Paper reproductions: one module per paper holds its protocol and its claims.

Generic tools (tasks, models, analyses) stay generic; a paper's recipe, the runs it trains and the
claims it checks live in ``algolens.recipes.<paper>``. Each such module defines::

    PAPER: str            # full citation, e.g. "Chughtai, Chan & Nanda (ICML 2023), ..."
    def reproduce(mode: Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]

``mode`` is ``"quick"`` (fits the issue's time budget on 2 CPU cores) or ``"full"`` (the paper's
protocol; reuses and resumes runs already in ``store``). ``algolens reproduce PAPER`` looks the
module up in :data:`REPRODUCTIONS`, prints the claims, and writes the markdown record.
"""

from algolens.recipes.claims import Claim, Reproduction, claims_markdown, machine_description
from algolens.recipes.registry import REPRODUCTIONS, load_reproduction

__all__ = [
    "REPRODUCTIONS",
    "Claim",
    "Reproduction",
    "claims_markdown",
    "load_reproduction",
    "machine_description",
]
