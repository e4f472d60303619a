"""The theorem, shown: circuit size and depth of one transformer compiled for growing lengths n.

Merrill & Sabharwal: a log-precision transformer is a *uniform* family of threshold circuits,
one per input length n, of constant depth and polynomial size. :func:`majority_transformer`
trains a tiny transformer on a counting task of variable length (majority of n bits, odd n, then
``=``; the answer is read at ``=``); :func:`scaling_table` compiles it for several n with the
same integer model (quantised once, cut to n + 1 positions) and tabulates gates, wires and
depth, each circuit checked against Q;
:func:`fit_exponent` fits ``gates ≈ c · n^k`` on log-log axes and :func:`fit_affine_power` fits
``gates ≈ a + c · n^k`` (a large constant part makes the plain log-log slope small).

The task: tokens ``0``/``1`` at positions ``0..n-1``, token ``2`` (``=``) at position ``n``;
the answer is 1 iff more than half of the bits are 1 (n odd, so there are no ties).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from algolens.errors import ConfigError

EQ = 2
"""The ``=`` token; bits are tokens 0 and 1."""
EXHAUSTIVE_BITS = 14
"""Accuracy is measured on every input up to this many bits, else on a random sample."""


def majority_inputs(n: int, rng: np.random.Generator | None = None, m: int = 4096) -> np.ndarray:
    """``[batch, n+1]`` majority inputs of ``n`` bits: all of them when ``n ≤ EXHAUSTIVE_BITS``
    (lexicographic), else ``m`` uniform random ones."""
    if n <= EXHAUSTIVE_BITS:
        bits = (np.arange(1 << n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1
    else:
        bits = (rng or np.random.default_rng(0)).integers(0, 2, (m, n))
    return np.concatenate([bits, np.full((len(bits), 1), EQ)], axis=1).astype(np.int64)


def majority_answers(tokens: np.ndarray) -> np.ndarray:
    """``[batch]``: 1 iff more than half of the bits (all positions but the last) are 1."""
    bits = tokens[:, :-1]
    return (2 * bits.sum(1) > bits.shape[1]).astype(np.int64)


@dataclass(frozen=True)
class Trained:
    """A trained one-instance transformer and its accuracy per trained length."""

    model: Any
    n_max: int
    accuracy: dict[int, float]


def majority_transformer(
    n_max: int = 15,
    *,
    seed: int = 0,
    steps: int = 1500,
    d_model: int = 32,
    d_mlp: int = 32,
    n_layers: int = 1,
    positions: bool = True,
) -> Trained:
    """Train a 1-head transformer (ReLU, no LayerNorm; 1 layer by default) on majority of every
    odd length ``1..n_max`` (Adam on random batches of 256, one length per step, seeded).
    With ``positions=False`` the positional embedding is zero and never trained: the network
    sees no position, only the tokens (causal attention still orders them).

    Raises:
        ConfigError: ``n_max`` even or below 1.
    """
    from algolens.models.transformer import Transformer, TransformerConfig

    if n_max < 1 or n_max % 2 == 0:
        raise ConfigError(f"n_max must be odd and positive, got {n_max}")
    cfg = TransformerConfig(
        d_vocab=3, d_vocab_out=2, n_ctx=n_max + 1, n_layers=n_layers, n_heads=1, d_model=d_model,
        d_head=d_model, d_mlp=d_mlp, bias="trainable",
    )  # fmt: skip
    model = Transformer(cfg)
    model.init_weights([seed])
    if not positions:
        with torch.no_grad():
            model.pos_embed.W_pos.zero_()
        model.pos_embed.W_pos.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    rng = np.random.default_rng(seed)
    lengths = list(range(1, n_max + 1, 2))
    for step in range(steps):
        n = lengths[step % len(lengths)]
        x = majority_inputs(n, rng) if n > 8 else majority_inputs(n)
        x = x[rng.integers(0, len(x), 256)]
        logits = model(torch.from_numpy(x)[None], answer=True)[0]  # [batch, 2]
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(majority_answers(x)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    acc = {}
    with torch.no_grad():
        for n in lengths:
            x = majority_inputs(n, np.random.default_rng(1))
            pred = model(torch.from_numpy(x)[None], answer=True)[0].argmax(-1).numpy()
            acc[n] = float((pred == majority_answers(x)).mean())
    return Trained(model, n_max, acc)


@dataclass(frozen=True)
class ScalingRow:
    """One length n: circuit size and depth, Q's accuracy, and the circuit-vs-Q verdict."""

    n: int
    gates: int
    wires: int
    depth: int
    max_fan_in: int
    q_vs_task: float
    verdict: str
    proof: bool
    circuit_vs_float: float = float("nan")
    """Share of the tested inputs where the circuit's output equals the float network's."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def compile_majority(
    model: Any, n: int, bits: int = 8, *, calibrate: int | None = None
) -> tuple[Any, Any, Any]:
    """``(q, circuit, domain)`` of ``model`` at length ``n``: bits at positions ``0..n-1``, ``=``
    at position ``n``.

    Q is quantised once for the longest length ``calibrate`` (default the model's
    ``n_ctx - 1``; activation scales from :func:`majority_inputs` of that length) and cut to
    the first ``n + 1`` positions, so every length runs the same integer model: one uniform
    family, as in the theorem.
    """
    import dataclasses

    from algolens.logic.compile_transformer import compile_transformer
    from algolens.logic.quantize_transformer import quantize_transformer
    from algolens.logic.verify import InputDomain

    longest = calibrate if calibrate is not None else model.cfg.n_ctx - 1
    calib = majority_inputs(longest, np.random.default_rng(0))
    q_all = quantize_transformer(model, calib, bits)
    q = dataclasses.replace(q_all, embed=q_all.embed[:, : n + 1])  # [d_vocab, n+1, d_model]
    domain = InputDomain(((0, 1),) * n + ((EQ,),))
    return q, compile_transformer(q, [list(a) for a in domain.allowed]), domain


def scaling_table(
    model: Any, ns: Sequence[int], *, bits: int = 8, log: Callable[[str], None] = lambda s: None
) -> list[ScalingRow]:
    """Compile ``model`` for every length in ``ns`` (one integer model Q for all lengths,
    :func:`compile_majority`) and tabulate size, depth, Q's accuracy on the task and the circuit
    checked against Q (exhaustively up to 10⁷ inputs, else sampled), and the circuit's outputs
    against the float network's on :func:`majority_inputs`."""
    from algolens.logic.circuit import circuit_depth, layer_stats
    from algolens.logic.evaluate import evaluate
    from algolens.logic.verify import verify

    too_long = [n for n in ns if n + 1 > model.cfg.n_ctx]
    if too_long:
        raise ConfigError(
            f"length {too_long[0]} needs {too_long[0] + 1} positions; the model has "
            f"n_ctx={model.cfg.n_ctx}"
        )
    rows = []
    for n in ns:
        q, circuit, domain = compile_majority(model, n, bits)
        stats = layer_stats(circuit)
        x = majority_inputs(n)
        verdict = verify(circuit, q.predict, domain=domain)
        with torch.no_grad():
            want = model(torch.from_numpy(x)[None], answer=True)[0].argmax(-1).numpy()
        vs_float = float(np.mean(evaluate(circuit, x) == want))
        rows.append(
            ScalingRow(
                n, circuit.n_gates, sum(s.wires for s in stats), circuit_depth(stats),
                max((s.max_fan_in for s in stats), default=0),
                float(np.mean(q.predict(x) == majority_answers(x))), verdict.describe(),
                verdict.proof, vs_float,
            )
        )  # fmt: skip
        log(f"n = {n}: {circuit.n_gates} gates, depth {rows[-1].depth}; {verdict.describe()}")
    return rows


@dataclass(frozen=True)
class Fit:
    """``y ≈ c · n^exponent`` fitted on log-log axes, with the R² of the fit."""

    exponent: float
    constant: float
    r2: float


def fit_exponent(ns: Sequence[int], ys: Sequence[float]) -> Fit:
    """Least-squares fit of ``log y = log c + k · log n``.

    Raises:
        ConfigError: fewer than two points, or a non-positive n or y.
    """
    if len(ns) < 2 or len(ns) != len(ys) or min(ns) <= 0 or min(ys) <= 0:
        raise ConfigError("fit_exponent needs at least two points with positive n and size")
    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(ys, float))
    k, b = np.polyfit(x, y, 1)
    resid = y - (k * x + b)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / total if total > 0 else 1.0
    return Fit(float(k), math.exp(b), r2)


def exponent_interval(
    ns: Sequence[int], ys: Sequence[float], level: float = 0.95
) -> tuple[float, float]:
    """Two-sided ``level`` t-interval of the log-log slope of :func:`fit_exponent` (ordinary
    least squares, ``len(ns) - 2`` degrees of freedom, the residuals' spread as the error).

    Raises:
        ConfigError: fewer than three points, or a non-positive n or size.
    """
    from scipy.stats import t as student_t

    if len(ns) < 3:
        raise ConfigError("exponent_interval needs at least three points")
    k = fit_exponent(ns, ys).exponent
    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(ys, float))
    resid = y - np.polyval(np.polyfit(x, y, 1), x)
    dof = len(x) - 2
    se = math.sqrt(float((resid**2).sum()) / dof / float(((x - x.mean()) ** 2).sum()))
    half = float(student_t.ppf(0.5 + level / 2, dof)) * se
    return k - half, k + half


@dataclass(frozen=True)
class AffineFit:
    """``y ≈ a + c · n^exponent``: the exponent of the part that grows, with R²."""

    a: float
    c: float
    exponent: float
    r2: float


def fit_affine_power(ns: Sequence[int], ys: Sequence[float], *, k_max: float = 4.0) -> AffineFit:
    """Least squares of ``y = a + c·n^k`` over a grid of ``k`` in ``0.05 .. k_max`` (step 0.05);
    for each ``k`` the best ``a, c`` are linear least squares. A circuit whose size is a large
    constant plus a growing part has a log-log slope near 0; this finds the growing part's
    exponent.

    Raises:
        ConfigError: fewer than three points.
    """
    if len(ns) < 3 or len(ns) != len(ys):
        raise ConfigError("fit_affine_power needs at least three points")
    n, y = np.asarray(ns, float), np.asarray(ys, float)
    total = float(((y - y.mean()) ** 2).sum())
    best: AffineFit | None = None
    for k in np.arange(1, int(round(k_max / 0.05)) + 1) * 0.05:
        design = np.stack([np.ones_like(n), n**k], axis=1)  # [points, 2]
        (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(((design @ np.array([a, c]) - y) ** 2).sum())
        r2 = 1.0 - sse / total if total > 0 else 1.0
        if best is None or r2 > best.r2:
            best = AffineFit(float(a), float(c), float(round(k, 2)), r2)
    assert best is not None
    return best
