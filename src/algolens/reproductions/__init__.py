"""Paper reproductions: one module per paper holds its protocol and its claims.

Generic tools (tasks, models, analyses) stay generic; a paper's protocol, the runs it trains and the
claims it checks live in ``algolens.reproductions.<paper>``. Each such module defines::

    PAPER: str            # full citation, e.g. "Chughtai, Chan & Nanda (ICML 2023), ..."
    MODES: tuple[Mode, ...]  # the protocols it offers, e.g. ("quick", "standard", "full")
    def reproduce(scale: Scale, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]

``scale.mode`` is ``"quick"`` (fits the issue's time budget on 2 CPU cores), ``"standard"`` (the
smallest protocol at which the paper's effect can exist, at most about 3 hours on 2 cores) or
``"full"`` (the paper's protocol); the last two reuse and resume runs already in ``store``;
``scale.epochs_cap`` caps every run's epochs (tests). A module without ``MODES`` offers quick and
full and takes the mode's name instead of a :class:`~algolens.reproductions.claims.Scale` (every
built-in paper module now declares ``MODES``). ``algolens reproduce PAPER`` looks the module up in
:data:`REPRODUCTIONS`, refuses a protocol it does not offer, prints the claims, and writes the
markdown record.
"""

from algolens.reproductions.claims import Claim, Reproduction, claims_markdown, machine_description
from algolens.reproductions.registry import REPRODUCTIONS, load_reproduction

__all__ = [
    "REPRODUCTIONS",
    "Claim",
    "Reproduction",
    "claims_markdown",
    "load_reproduction",
    "machine_description",
]
