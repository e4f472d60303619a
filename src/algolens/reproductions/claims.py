"""A claim of a paper beside our measurement, and the markdown record of a reproduction."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from algolens.store import RunStore

Mode = Literal["quick", "standard", "full"]
MODES: tuple[Mode, ...] = ("quick", "standard", "full")
"""Every protocol size ``algolens reproduce`` knows, smallest first; a paper module offers those
of its own ``MODES`` (:func:`algolens.reproductions.registry.modes_of`)."""
Kind = Literal["paper", "check", "context"]
KINDS: tuple[Kind, ...] = ("paper", "check", "context")
"""The three kinds of row, in the order the markdown record lists them."""


@dataclass(frozen=True)
class Claim:
    """One row of a reproduction: what the paper reports and what we measured.

    Attributes:
        claim: the claim in one sentence, with its criterion in parentheses when it is judged
            ("W_a and W_b FVE > 99 % (agree: every group's seed mean > 0.99)").
        paper: the paper's figure as text, with where the paper gives it ("> 99 % (four-seed
            means, every group)"); "-" for rows without a paper figure.
        ours: our measured figure as text ("99.7 % (min over 32 seeds)"), or why none was
            measured ("not measured: needs --full").
        agree: for a ``paper`` row, True/False when the two were compared and None (n/a) when the
            protocol cannot test the claim (``ours`` then says why). For a ``check`` row, whether
            our own target or self-test passed. Always None for a ``context`` row. Never set from
            a constant: it is the outcome of a comparison made on measured data.
        kind: ``paper`` — a claim the paper states, judged, the only kind counted as agreement;
            ``check`` — an engineering target or method self-test of ours (timing, a miter, a
            group-theory identity), reported, never counted; ``context`` — a figure shown for
            reference without a paper value to compare with.
    """

    claim: str
    paper: str
    ours: str
    agree: bool | None
    kind: Kind = "paper"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "context" and self.agree is not None:
            raise ValueError(f"a context row is never judged: {self.claim!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"claim", "paper", "ours", "agree", "kind"}``: one row of ``reproduce --json``."""
        return {
            "claim": self.claim,
            "paper": self.paper,
            "ours": self.ours,
            "agree": self.agree,
            "kind": self.kind,
        }


def tally(claims: Sequence[Claim]) -> tuple[int, int, int]:
    """``(agree, compared, n/a)`` over the ``paper`` rows only (checks and context not counted)."""
    paper = [c for c in claims if c.kind == "paper"]
    compared = sum(c.agree is not None for c in paper)
    return sum(c.agree is True for c in paper), compared, len(paper) - compared


def tally_line(claims: Sequence[Claim]) -> str:
    """The headline, e.g. ``"5 of 9 paper claims agree (2 n/a); checks: 3 of 4 pass"``."""
    ok, compared, na = tally(claims)
    line = f"{ok} of {compared} paper claims agree" + (f" ({na} n/a)" if na else "")
    checks = [c for c in claims if c.kind == "check"]
    if checks:
        passed = sum(c.agree is True for c in checks)
        line += f"; checks: {passed} of {len(checks)} pass"
    return line


@dataclass(frozen=True)
class Scale:
    """The size of a protocol run: which protocol, and (for tests) a cap on every run's epochs.

    Attributes:
        mode: ``quick``, ``standard`` or ``full`` (each paper module's docstring says what its
            protocols train).
        epochs_cap: None: the protocol's epochs; else every run trains at most this many
            (tests train a few; the claims read what was actually trained, never the mode).
    """

    mode: Mode = "quick"
    epochs_cap: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.epochs_cap is not None and self.epochs_cap < 1:
            raise ValueError(f"epochs_cap must be at least 1, not {self.epochs_cap}")

    def epochs(self, epochs: int | None) -> int | None:
        """A run's epochs under the cap (None, the recipe's, becomes the cap when there is one)."""
        if self.epochs_cap is None:
            return epochs
        return self.epochs_cap if epochs is None else min(epochs, self.epochs_cap)


def as_scale(scale: Scale | Mode) -> Scale:
    """``scale``, or the :class:`Scale` of a protocol's name."""
    return scale if isinstance(scale, Scale) else Scale(scale)


class Reproduction(Protocol):
    """What a paper module provides (see :mod:`algolens.reproductions`).

    A module that declares ``MODES`` (the protocols it offers, a subset of :data:`MODES`) takes a
    :class:`Scale`; a module without it (none of the built-in papers now) offers quick and full
    and takes the mode's name;
    :func:`algolens.reproductions.registry.run_reproduction` calls either kind.
    """

    PAPER: str

    def reproduce(
        self, scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]
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
    """The markdown record of one reproduction: header, how it was made, one table per kind of
    row (paper claims, our checks, context); the headline counts paper claims only."""
    lines = [
        f"# Reproduction: {paper}",
        "",
        f"- command: `{command}`",
        f"- machine: {machine}",
        f"- date: {date}",
        f"- wall time: {wall_s:.0f} s",
        f"- result: {tally_line(claims)}",
    ]
    for kind, title, judged in (
        ("paper", "Paper claims (judged)", "agree"),
        ("check", "Our checks (reported, not counted as agreement)", "passes"),
        ("context", "Context (no paper value to compare with)", None),
    ):
        rows = [c for c in claims if c.kind == kind]
        if not rows:
            continue
        header = ["claim", "paper", "ours"] + ([judged] if judged else [])
        lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |",
                  "|" + " --- |" * len(header)]  # fmt: skip
        for c in rows:
            cells = [c.claim, c.paper, c.ours] + ([verdict(c.agree)] if judged else [])
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CountTest:
    """A two-sided Fisher exact test of our count ``k`` of ``n`` against the paper's ``pk`` of
    ``pn``, with the counts of ours that would agree (the test's reach at this sample size).

    ``agree`` is None when every count 0..n would agree: the sample is too small for the test to
    fail, so the claim is n/a rather than a "yes" that could not have been "no".
    """

    k: int
    n: int
    pvalue: float
    agree_range: tuple[int, int]  # smallest and largest of our counts with p >= alpha
    alpha: float

    @property
    def agree(self) -> bool | None:
        lo, hi = self.agree_range
        if lo == 0 and hi == self.n:
            return None
        return bool(self.pvalue >= self.alpha)

    def describe(self) -> str:
        """``"3/8, p = 0.41 (agrees for 1–8 of 8)"``."""
        lo, hi = self.agree_range
        reach = f"agrees for {lo}–{hi} of {self.n}" if lo <= hi else "no count agrees"
        if self.agree is None:
            reach = f"any count of {self.n} would agree: too few to test"
        return f"{self.k}/{self.n}, p = {self.pvalue:.2g} ({reach})"


def fisher_count_test(k: int, n: int, pk: int, pn: int, alpha: float = 0.05) -> CountTest:
    """Fisher's exact test of ``k``/``n`` against ``pk``/``pn`` (see :class:`CountTest`)."""
    from scipy.stats import fisher_exact

    def p_of(x: int) -> float:
        return float(fisher_exact([[x, n - x], [pk, pn - pk]])[1])

    ok = [x for x in range(n + 1) if p_of(x) >= alpha]
    agree_range = (min(ok), max(ok)) if ok else (1, 0)
    return CountTest(k, n, p_of(k), agree_range, alpha)
