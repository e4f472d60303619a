"""Merrill & Sabharwal's corollary, read on a network: the output is one bit of ``⌊a/b⌋`` for
first-order-definable integers ``a``, ``b``.

For a one-block integer transformer Q (:mod:`algolens.logic.transformer_to_fom`) each
attention output ``d`` is itself such a quotient: ``z_d = ⌊a_d / b⌋`` with
``a_d = 2·Σ_j e_j v_jd + Σ_j e_j`` and ``b = 2·Σ_j e_j``, where, given the largest score
present (first-order), ``e_j`` and ``v_jd`` are constants of ``j``'s key class, so ``a_d`` and
``b`` are constant-weight sums of class counts ``#j.class(j)``. :func:`attention_quotients`
computes them from the counts (not from Q's forward pass). :func:`fit_quotient_bit` looks for
one output ``d``, level ``c`` and polarity such that Q's answer is ``[⌊a_d/b⌋ ≥ c]`` (or its
negation) on given inputs, and :func:`quotient_bit` writes that test as bit 0 of one quotient
``⌊A/B⌋``: ``A = a + (M − c)·b``, ``B = M·b`` with ``M = 2T + 1`` (``⌊a/b⌋ ∈ [−T, T]``, so
``⌊A/B⌋ = ⌊(⌊a/b⌋ − c + M)/M⌋`` is 1 exactly when ``⌊a/b⌋ ≥ c``); the negation adds ``B`` to
``A`` (which flips bit 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from algolens.errors import SpecError
from algolens.logic.quantize import signed_max
from algolens.logic.quantize_transformer import QTransformer
from algolens.logic.transformer_to_fom import QueryCase, query_cases


def _case_of(cases: Sequence[QueryCase], token: int, pos: int) -> QueryCase:
    for case in cases:
        if case.token == token and case.pos in (None, pos):
            return case
    raise SpecError(f"no query case for token {token} at position {pos}")


def class_counts(case: QueryCase, row: np.ndarray) -> np.ndarray:
    """``[classes]``: how many positions of ``row`` fall in each key class of ``case``."""
    out = np.zeros(len(case.classes), dtype=np.int64)
    for k, cls in enumerate(case.classes):
        for t, p in cls.members:
            out[k] += int((row == t).sum()) if p is None else int(p < len(row) and row[p] == t)
    return out


def attention_quotients(q: QTransformer, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``, each ``[batch, h·dh]`` int64: the attention's rounded mean is ``⌊a/b⌋``,
    computed from the key-class counts of each input (module docstring)."""
    tokens = np.asarray(tokens, dtype=np.int64)
    cases = query_cases(q)
    blk, dh = q.blocks[0], q.d_head
    width = q.n_heads * dh
    a = np.zeros((len(tokens), width), dtype=np.int64)
    b = np.zeros((len(tokens), width), dtype=np.int64)
    for i, row in enumerate(tokens):
        case = _case_of(cases, int(row[-1]), len(row) - 1)
        counts = class_counts(case, row)
        scores = np.stack([c.score for c in case.classes])  # [classes, h]
        values = np.stack([c.value for c in case.classes])  # [classes, h·dh]
        top = np.where(counts[:, None] > 0, scores, np.iinfo(np.int64).min).max(0)  # [h]
        e = blk.exp(scores - top[None, :]) * counts[:, None]  # [classes, h]
        e_d = np.repeat(e, dh, axis=1)  # [classes, h·dh]
        den = e_d.sum(0)
        a[i] = 2 * (e_d * values).sum(0) + den
        b[i] = 2 * den
    return a, b


def quotient_bit(a: np.ndarray, b: np.ndarray, c: int, bits: int, flip: bool = False) -> np.ndarray:
    """Bit 0 of ``⌊A/B⌋`` with ``A = a + (M − c)·b (+ B when flip)``, ``B = M·b``,
    ``M = 2T + 1``: ``[⌊a/b⌋ ≥ c]`` (negated when ``flip``) as one bit of one quotient."""
    m = 2 * signed_max(bits) + 1
    big_b = m * b
    big_a = a + (m - c) * b + (big_b if flip else 0)
    return (big_a // big_b) & 1


@dataclass(frozen=True)
class QuotientFit:
    """Q's answer as ``[⌊a_d/b⌋ ≥ c]`` (negated when ``flip``): the share of inputs it fits."""

    d: int
    c: int
    flip: bool
    share: float
    inputs: int


def fit_quotient_bit(a: np.ndarray, b: np.ndarray, answers: np.ndarray, bits: int) -> QuotientFit:
    """The ``(d, c, flip)`` whose quotient bit (``a, b``: ``[batch, h·dh]`` from
    :func:`attention_quotients`) equals ``answers`` (0/1) on most inputs (ties: lowest ``d``,
    then ``c``, unflipped first).

    Raises:
        SpecError: answers other than 0 and 1 (the corollary is about one output bit).
    """
    answers = np.asarray(answers, dtype=np.int64)
    if not np.isin(answers, (0, 1)).all():
        raise SpecError("the quotient-bit reading needs a two-way answer (0 or 1)")
    z = np.asarray(a) // np.asarray(b)  # [batch, h·dh]
    top = signed_max(bits)
    best = QuotientFit(0, 0, False, -1.0, len(answers))
    for d in range(z.shape[1]):
        for c in range(-top + 1, top + 1):
            hit = float(np.mean((z[:, d] >= c) == answers))
            for flip, share in ((False, hit), (True, 1.0 - hit)):
                if share > best.share:
                    best = QuotientFit(d, c, flip, share, len(answers))
    return best


def quotient_forms(q: QTransformer, d: int, last_tokens: Sequence[int] | None = None) -> list[str]:
    """``a_d`` and ``b`` as constant-weight sums of key-class counts, one line per case of the
    last position and largest score present (text for the claims table)."""
    blk, dh = q.blocks[0], q.d_head
    lines = []
    for case in query_cases(q, last_tokens):
        a_head = d // dh
        for m in sorted({int(c.score[a_head]) for c in case.classes}):
            a_terms, b_terms = [], []
            for cls in (c for c in case.classes if int(c.score[a_head]) <= m):
                e = int(blk.exp(np.array(int(cls.score[a_head]) - m)))
                name = "#" + "|".join(
                    f"Q{t}" + ("" if p is None else f"@{p}") for t, p in cls.members
                )
                a_terms.append(f"{e * (2 * int(cls.value[d]) + 1)}·{name}")
                b_terms.append(f"{2 * e}·{name}")
            at = "any" if case.pos is None else str(case.pos)
            lines.append(f"last Q{case.token}@{at}, max score {m}: a = {' + '.join(a_terms)}, "
                         f"b = {' + '.join(b_terms)}")  # fmt: skip
    return lines


__all__ = [
    "QuotientFit", "attention_quotients", "class_counts", "fit_quotient_bit", "quotient_bit",
    "quotient_forms",
]  # fmt: skip
