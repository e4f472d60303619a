"""A claim of a paper beside our measurement, and the markdown record of a reproduction."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from algolens.store import RunStore

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class Claim:
    """One claim: what the paper reports and what we measured.

    Attributes:
        claim: the claim in one sentence ("W_a and W_b FVE > 99 % for every seed").
        paper: the paper's figure as text ("> 99 %").
        ours: our measured figure as text ("99.7 % (min over 32 seeds)"), or why none was
            measured ("not measured: needs --full").
        agree: True/False when the two were compared; None when they could not be (no
            measurement, or the claim is not comparable in this mode). Never set from a constant:
            it is the outcome of a comparison made on measured data.
    """

    claim: str
    paper: str
    ours: str
    agree: bool | None

    def to_dict(self) -> dict[str, Any]:
        """``{"claim", "paper", "ours", "agree"}``: the JSON of ``algolens reproduce --json``."""
        return {"claim": self.claim, "paper": self.paper, "ours": self.ours, "agree": self.agree}


class Reproduction(Protocol):
    """What a paper module provides (see :mod:`algolens.recipes`)."""

    PAPER: str

    def reproduce(
        self, mode: Mode, store: RunStore, *, log: Callable[[str], None]
    ) -> list[Claim]: ...


def verdict(agree: bool | None) -> str:
    """``agree`` as a word for tables: ``yes``, ``no`` or ``n/a``."""
    return "n/a" if agree is None else ("yes" if agree else "no")


def machine_description() -> str:
    """CPU model, core count, OS and torch version of this machine, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch

        torch_version = f", torch {torch.__version__}"
    except ImportError:  # pragma: no cover - torch is a dependency
        torch_version = ""
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}, Python {python}{torch_version}"


def claims_markdown(
    paper: str, claims: Sequence[Claim], *, command: str, machine: str, date: str, wall_s: float
) -> str:
    """The markdown record of one reproduction: header, how it was made, the claims table."""
    n_cmp = sum(c.agree is not None for c in claims)
    n_ok = sum(c.agree is True for c in claims)
    lines = [
        f"# Reproduction: {paper}",
        "",
        f"- command: `{command}`",
        f"- machine: {machine}",
        f"- date: {date}",
        f"- wall time: {wall_s:.0f} s",
        f"- result: {n_ok} of {n_cmp} compared claims agree ({len(claims) - n_cmp} not compared)",
        "",
        "| claim | paper | ours | agree |",
        "| --- | --- | --- | --- |",
    ]
    for c in claims:
        cells = [c.claim, c.paper, c.ours, verdict(c.agree)]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"
