"""Log precision, measured: how many bits the integer model Q needs to equal the float network.

Merrill & Sabharwal assume ``p = O(log n)`` bits of precision at input length ``n``. For a float
network this is a claim one can measure: at each length ``n``, the smallest ``p`` for which
the p-bit integer model (:func:`algolens.logic.quantize_transformer.quantize_transformer`,
activation scales calibrated on inputs of that length) predicts what the float network predicts
on every tested input. :func:`exact_bits` finds that ``p`` for any family of predictors;
:func:`precision_table` runs it for the majority transformer of :mod:`algolens.logic.scaling`;
:func:`judge_log_precision` fits ``bits ≈ d + c · log2 n`` and applies the rule stated there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algolens.errors import ConfigError
from algolens.logic.quantize import MAX_BITS, MIN_BITS


def exact_bits(
    reference: np.ndarray, predict_at: Callable[[int], np.ndarray], bits: Sequence[int]
) -> int | None:
    """The smallest ``p`` in ``bits`` such that ``predict_at(q)`` equals ``reference`` on every
    input for ``p`` and for every larger ``q`` in ``bits`` (so a lucky coarse width followed by
    a mismatch does not count); None when the largest width still differs."""
    ref = np.asarray(reference)
    needed: int | None = None
    for p in sorted(bits, reverse=True):
        if not np.array_equal(np.asarray(predict_at(p)), ref):
            break
        needed = p
    return needed


@dataclass(frozen=True)
class PrecisionRow:
    """One length ``n``: inputs tested, whether all of them, the exact width (None: above the
    largest tried) and the share of inputs where Q equals the float network at each width."""

    n: int
    inputs: int
    exhaustive: bool
    bits: int | None
    agreement: dict[int, float]


def precision_table(
    model: Any,
    ns: Sequence[int],
    *,
    bits: Sequence[int] = tuple(range(MIN_BITS, MAX_BITS + 1)),
    log: Callable[[str], None] = lambda s: None,
) -> list[PrecisionRow]:
    """For each ``n``: Q of the majority transformer ``model`` quantised at every width in
    ``bits`` (scales calibrated on length-``n`` inputs) against the float network on
    :func:`~algolens.logic.scaling.majority_inputs` (every input up to
    :data:`~algolens.logic.scaling.EXHAUSTIVE_BITS` bits, else 4096 seeded random ones).

    Raises:
        ConfigError: a length beyond the model's context.
    """
    import torch

    from algolens.logic.quantize_transformer import quantize_transformer
    from algolens.logic.scaling import EXHAUSTIVE_BITS, majority_inputs

    rows = []
    for n in ns:
        if n + 1 > model.cfg.n_ctx:
            raise ConfigError(f"length {n} needs {n + 1} positions; the model has "
                              f"n_ctx={model.cfg.n_ctx}")  # fmt: skip
        x = majority_inputs(n, np.random.default_rng(n))
        with torch.no_grad():
            ref = model(torch.from_numpy(x)[None], answer=True)[0].argmax(-1).numpy()
        preds: dict[int, np.ndarray] = {}

        def predict_at(p: int, x: np.ndarray = x, preds: dict[int, np.ndarray] = preds) -> Any:
            preds[p] = quantize_transformer(model, x, p).predict(x)
            return preds[p]

        needed = exact_bits(ref, predict_at, bits)
        agreement = {p: float(np.mean(v == ref)) for p, v in sorted(preds.items())}
        rows.append(PrecisionRow(n, len(x), n <= EXHAUSTIVE_BITS, needed, agreement))
        log(f"precision n = {n}: exact from {needed if needed else '>' + str(max(bits))} bits "
            f"({len(x)} inputs{'' if n <= EXHAUSTIVE_BITS else ', sampled'})")  # fmt: skip
    return rows


def run_exact_bits(
    store: Any,
    run: str,
    instance: int = 0,
    bits: Sequence[int] = tuple(range(MIN_BITS, MAX_BITS + 1)),
) -> tuple[int | None, dict[int, float]]:
    """:func:`exact_bits` of a stored composition run's instance on all its ``|G|²`` inputs
    (Q of :func:`algolens.logic.compile.quantize_model` at each width against the float
    network), with the share of inputs where Q equals the float network at each width tried.

    Raises:
        StoreError, SpecError: as :func:`algolens.logic.compile.load_instance`.
    """
    import torch

    from algolens.logic.compile import load_instance, quantize_model

    _, one, task = load_instance(store, run, instance)
    tokens = task.inputs.numpy().astype(np.int64)
    with torch.no_grad():
        ref = one(torch.from_numpy(tokens), answer=True).argmax(-1).numpy()
    shares: dict[int, float] = {}

    def predict_at(p: int) -> np.ndarray:
        pred = quantize_model(one, p, tokens).predict(tokens)
        shares[p] = float(np.mean(pred == ref))
        return pred

    return exact_bits(ref, predict_at, bits), dict(sorted(shares.items()))


@dataclass(frozen=True)
class LogFit:
    """``bits ≈ d + c · log2 n`` by least squares, the largest distance of a point from it, and
    the residual sums of squares of that law and of a straight line in ``n``."""

    c: float
    d: float
    max_residual: float
    sse_log: float
    sse_linear: float
    agree: bool


def judge_log_precision(
    ns: Sequence[int], bits: Sequence[int | None], *, slack: float = 1.0
) -> LogFit:
    """The rule for "precision O(log n) suffices": agree iff every length has an exact width,
    every point lies within ``slack`` bits of the least-squares line ``d + c · log2 n`` (widths
    are integers, so one bit is the grid), and that line fits at least as well as a straight
    line in ``n`` (residual sums of squares).

    Raises:
        ConfigError: fewer than three lengths, or a length below 2.
    """
    if len(ns) < 3 or len(ns) != len(bits) or min(ns) < 2:
        raise ConfigError("judge_log_precision needs at least three lengths n ≥ 2")
    if any(b is None for b in bits):
        return LogFit(math.nan, math.nan, math.inf, math.inf, math.inf, False)
    y = np.asarray(bits, float)
    n = np.asarray(ns, float)

    def fit(x: np.ndarray) -> tuple[float, float, np.ndarray]:
        slope, icept = np.polyfit(x, y, 1)
        return float(slope), float(icept), y - (slope * x + icept)

    c, d, res_log = fit(np.log2(n))
    _, _, res_lin = fit(n)
    sse_log, sse_lin = float((res_log**2).sum()), float((res_lin**2).sum())
    worst = float(np.abs(res_log).max())
    ok = worst <= slack + 1e-9 and sse_log <= sse_lin + 1e-9
    return LogFit(c, d, worst, sse_log, sse_lin, ok)
