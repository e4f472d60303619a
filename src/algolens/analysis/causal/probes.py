"""Linear probes on the residual stream, per layer and position, with a control task.

A probe is a multinomial logistic regression (scikit-learn, L2; features centred and divided by
one common scale) from the residual stream at one layer and position to a label. It is fitted on
one set of inputs and scored on another by **macro-F1** (the unweighted mean of the per-class
F1, so a probe that always answers the majority class scores low) and accuracy.

**Control task** (Hewitt & Liang 2019, "Designing and interpreting probes with control tasks"):
every token id gets a random label, drawn once from the real labels' distribution on the fit
set, and the control label of a row is the label of *the token at the probed position*. A probe
that reaches high F1 on the control task is expressive enough to memorise token identity, so a
high task F1 there means little. **Selectivity** = task F1 − control F1. Where the probed
position always holds the same token (on the fit set) the control task is constant and
undefined: its F1 and the selectivity are None there.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 5)); y = (x[:, 0] > 0).astype(int)
    >>> round(probe_score(x[:200], y[:200], x[200:], y[200:]).f1, 1)
    1.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from algolens.analysis.causal.examples import Examples, Position, resid_at_positions
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer


@dataclass(frozen=True)
class ProbeScore:
    """Macro-F1 and accuracy of one probe on the test set."""

    f1: float
    accuracy: float


def probe_predict(
    x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, *, c: float = 1.0
) -> np.ndarray:
    """``[n_test]``: the labels a logistic-regression probe fitted on ``x_fit -> y_fit``
    predicts for ``x_test`` (with a single class in ``y_fit``, that class)."""
    x_fit, x_test = np.asarray(x_fit, dtype=np.float64), np.asarray(x_test, dtype=np.float64)
    y_fit = np.asarray(y_fit)
    classes = np.unique(y_fit)
    if len(classes) == 1:
        return np.full(len(x_test), classes[0])
    # one scale for every feature (the fit set's RMS distance from its mean): the L2 strength
    # means the same at every layer, and near-constant directions (float noise) are not blown
    # up as a per-feature standardisation would
    mean = x_fit.mean(0)
    scale = float(np.sqrt(((x_fit - mean) ** 2).sum(1).mean())) or 1.0
    clf = LogisticRegression(C=c, max_iter=1000)
    with warnings.catch_warnings():  # a probe stopped at max_iter is still a probe
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit((x_fit - mean) / scale, y_fit)
    return clf.predict((x_test - mean) / scale)


def probe_score(
    x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *, c: float = 1.0
) -> ProbeScore:
    """Fit a logistic-regression probe on ``x_fit [n, d] -> y_fit [n]``, score on the test set
    (:func:`probe_predict`). ``c`` is scikit-learn's inverse L2 strength."""
    y_fit, y_test = np.asarray(y_fit), np.asarray(y_test)
    if len(x_fit) != len(y_fit) or len(x_test) != len(y_test) or not len(y_test):
        raise ConfigError(
            f"probe needs matching, non-empty data: {len(x_fit)} fit rows, {len(y_fit)} labels, "
            f"{len(x_test)} test rows, {len(y_test)} labels"
        )
    pred = probe_predict(x_fit, y_fit, x_test, c=c)
    f1 = f1_score(y_test, pred, average="macro", zero_division=0.0)
    return ProbeScore(float(f1), float(accuracy_score(y_test, pred)))


def control_labels(
    fit_tokens: np.ndarray, fit_labels: np.ndarray, n_vocab: int, seed: int = 0
) -> np.ndarray:
    """``[n_vocab]``: a random label per token id, drawn from the fit labels' distribution."""
    values, counts = np.unique(np.asarray(fit_labels), return_counts=True)
    rng = np.random.default_rng(seed)
    return rng.choice(values, size=n_vocab, p=counts / counts.sum())


@dataclass(frozen=True)
class ProbeGrid:
    """Probe scores per residual layer (``0..n_layers``) and position.

    Attributes:
        label: the feature probed.
        layers, positions: the axes.
        f1, accuracy: ``[layer][position]`` on the test set.
        control_f1: ``[layer][position]``, the control task's F1 (None without control; an
            entry is None where the position's token is constant).
        majority_f1: ``[position]``, macro-F1 of always answering the fit set's majority label.
    """

    label: str
    layers: list[int]
    positions: list[Position]
    f1: list[list[float]]
    accuracy: list[list[float]]
    control_f1: list[list[float | None]] | None
    majority_f1: list[float]

    @property
    def selectivity(self) -> list[list[float | None]] | None:
        """``f1 − control_f1`` per layer and position (None without control or where the
        control task is undefined)."""
        if self.control_f1 is None:
            return None
        return [
            [None if b is None else a - b for a, b in zip(row, ctrl, strict=True)]
            for row, ctrl in zip(self.f1, self.control_f1, strict=True)
        ]

    def best(self) -> tuple[int, Position, float]:
        """(layer, position, F1) of the best probe (earliest layer on ties)."""
        cells = [
            (self.f1[i][j], -i, self.layers[i], p)
            for i in range(len(self.layers))
            for j, p in enumerate(self.positions)
        ]
        f1, _, layer, pos = max(cells, key=lambda c: (c[0], c[1]))
        return layer, pos, f1

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "layers": self.layers,
            "positions": self.positions,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "control_f1": self.control_f1,
            "selectivity": self.selectivity,
            "majority_f1": self.majority_f1,
        }


def probe_grid(
    model: Transformer,
    fit: Examples,
    test: Examples,
    label: str,
    positions: Sequence[Position],
    *,
    layers: Sequence[int] | None = None,
    control: bool = True,
    seed: int = 0,
) -> ProbeGrid:
    """Probe feature ``label`` from the residual stream at every layer × position.

    A per-position feature (``[N, T]``) is read at the probed position; an ``[N]`` feature is the
    same label at every position.

    Args:
        model: a single-instance transformer.
        fit, test: disjoint inputs; probes are fitted on ``fit`` and scored on ``test``.
        label: the feature to probe.
        positions: ints or ``[N]`` position features.
        layers: residual layers (default all, ``0..n_layers``).
        control: also fit the control task (token identity at the position -> random label).
        seed: the control task's labels.
    """
    layers = list(range(model.cfg.n_layers + 1)) if layers is None else list(layers)
    f1s, accs, ctrls, majority = [], [], [], []
    all_fit = resid_at_positions(model, fit, layers, positions).double().numpy()
    all_test = resid_at_positions(model, test, layers, positions).double().numpy()
    for j, pos in enumerate(positions):
        y_fit, y_test = fit.labels_at(label, pos), test.labels_at(label, pos)
        x_fit, x_test = all_fit[:, j], all_test[:, j]  # [layer, N, d_model]
        values, counts = np.unique(y_fit, return_counts=True)
        maj = np.full(len(y_test), values[counts.argmax()])
        majority.append(float(f1_score(y_test, maj, average="macro", zero_division=0.0)))
        scores = [probe_score(x_fit[i], y_fit, x_test[i], y_test) for i in range(len(layers))]
        f1s.append([s.f1 for s in scores])
        accs.append([s.accuracy for s in scores])
        if control:
            tok_fit = fit.tokens[np.arange(len(fit)), fit.positions(pos)].numpy()
            tok_test = test.tokens[np.arange(len(test)), test.positions(pos)].numpy()
            table = control_labels(tok_fit, y_fit, model.cfg.d_vocab, seed)
            c_fit, c_test = table[tok_fit], table[tok_test]
            ctrls.append(
                [probe_score(x_fit[i], c_fit, x_test[i], c_test).f1 for i in range(len(layers))]
                if len(np.unique(tok_fit)) > 1
                else [None] * len(layers)
            )
    return ProbeGrid(
        label=label,
        layers=layers,
        positions=list(positions),
        f1=_transpose(f1s),
        accuracy=_transpose(accs),
        control_f1=_transpose(ctrls) if control else None,
        majority_f1=majority,
    )


def _transpose(m: list[list]) -> list[list]:
    """``[position][layer]`` -> ``[layer][position]``."""
    return [list(r) for r in zip(*m, strict=True)]
