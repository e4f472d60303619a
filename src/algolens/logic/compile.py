"""The compile pipeline: stored run -> float model -> integer model Q -> threshold circuit.

This module only chains the passes and measures them:

1. :func:`check_compilable` reports every unsupported feature at once, before any work;
2. :func:`quantize_model` (``quantize_mlp`` / ``quantize_transformer``);
3. :func:`compile_q` (``compile_mlp`` / ``compile_transformer``);
4. agreement of Q with the float network and with the task on every input of the domain.

Supported: composition runs (every ``|G|²`` input is the domain) with the MLP or a transformer
without LayerNorm. Sequence tasks (recursion, pathfinding) have inputs of many lengths and are
not compiled here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from algolens.errors import SpecError
from algolens.logic.circuit import Circuit
from algolens.logic.quantize import check_bits
from algolens.logic.quantize_mlp import QMLP
from algolens.logic.quantize_transformer import QTransformer
from algolens.store import RunStore
from algolens.tasks.traits import has_trait

QModel = QMLP | QTransformer


def check_compilable(model: Any) -> None:
    """Raise one :class:`SpecError` listing every feature of ``model`` the compiler lacks."""
    from algolens.models.mlp import MLP
    from algolens.models.transformer import Transformer

    if isinstance(model, MLP):
        return
    if not isinstance(model, Transformer):
        raise SpecError(f"cannot compile a {type(model).__name__}: only MLP and Transformer")
    problems = []
    if model.cfg.layernorm:
        problems.append("LayerNorm (train with layernorm = false)")
    if problems:
        raise SpecError("unsupported layers for the integer model: " + "; ".join(problems))


def quantize_model(model: Any, bits: int, calibration: np.ndarray) -> QModel:
    """Q of a one-instance model at ``bits`` bits (transformers calibrate on ``calibration``)."""
    from algolens.logic.quantize_mlp import quantize_mlp
    from algolens.logic.quantize_transformer import quantize_transformer
    from algolens.models.mlp import MLP

    check_bits(bits)
    check_compilable(model)
    if isinstance(model, MLP):
        return quantize_mlp(model, bits)
    return quantize_transformer(model, calibration, bits)


def compile_q(q: QModel, domain: list[list[int]]) -> Circuit:
    """The threshold circuit of ``q`` on ``domain`` (allowed tokens per position)."""
    from algolens.logic.compile_mlp import compile_mlp
    from algolens.logic.compile_transformer import compile_transformer

    if isinstance(q, QMLP):
        return compile_mlp(q, domain)
    return compile_transformer(q, domain)


@dataclasses.dataclass(frozen=True, eq=False)
class Compiled:
    """A compiled instance of a run and what was measured on the way."""

    run_id: str
    instance: int
    kind: str  # "mlp" or "transformer"
    bits: int
    q: QModel
    circuit: Circuit
    domain: list[list[int]]
    tokens: np.ndarray  # [N, n_pos] every input of the domain
    answers: np.ndarray  # [N] the task's answers
    q_pred: np.ndarray  # [N]
    float_pred: np.ndarray  # [N]
    seconds: dict[str, float]

    def agreement(self) -> dict[str, float]:
        """Shares of inputs where Q = float, Q = task, float = task."""
        return {
            "q_vs_float": float(np.mean(self.q_pred == self.float_pred)),
            "q_vs_task": float(np.mean(self.q_pred == self.answers)),
            "float_vs_task": float(np.mean(self.float_pred == self.answers)),
        }


def load_instance(store: RunStore, run: str, instance: int = 0) -> tuple[str, Any, Any]:
    """``(run_id, model, task)``: instance ``instance`` of composition run ``run`` as a
    one-instance float model, checked compilable, and the run's task (every ``|G|²`` input).

    Raises:
        StoreError: unknown run. SpecError: not a composition run, an instance out of range,
            or unsupported layers.
    """
    from algolens.train.load import load_run_model, run_config, run_task

    record = store.get(run)
    config = run_config(store, record.id)
    if not has_trait(config.task, "group"):
        raise SpecError(
            f"run {record.id} is a {config.task} run; algolens compile handles composition runs "
            "(their inputs have one length)"
        )
    _, model = load_run_model(store, record.id)
    n_inst = int(model.cfg.n_inst)
    if not 0 <= instance < n_inst:
        raise SpecError(
            f"--instance {instance} is out of range: the run has {n_inst} (0..{n_inst - 1})"
        )
    one = model.instance(instance)
    check_compilable(one)
    return record.id, one, run_task(store, record.id)


def compile_run(store: RunStore, run: str, instance: int = 0, bits: int = 8) -> Compiled:
    """Quantise and compile instance ``instance`` of composition run ``run``.

    Raises:
        StoreError: unknown run. ConfigError: bits out of range. SpecError: not a composition
            run, an instance out of range, or unsupported layers.
    """
    import torch

    bits = check_bits(bits)
    run_id, one, task = load_instance(store, run, instance)
    tokens = task.inputs.numpy().astype(np.int64)  # [|G|², 2 or 3]
    answers = task.targets.numpy().astype(np.int64)
    domain = [sorted(set(tokens[:, p].tolist())) for p in range(tokens.shape[1])]
    t0 = time.perf_counter()
    q = quantize_model(one, bits, tokens)
    t1 = time.perf_counter()
    circuit = compile_q(q, domain)
    t2 = time.perf_counter()
    with torch.no_grad():
        logits = one(torch.from_numpy(tokens), answer=True)  # [N, d_vocab]
    float_pred = logits.argmax(-1).numpy().astype(np.int64)
    kind = "mlp" if isinstance(q, QMLP) else "transformer"
    seconds = {"quantize": t1 - t0, "compile": t2 - t1}
    return Compiled(run_id, instance, kind, bits, q, circuit, domain, tokens, answers,
                    q.predict(tokens), float_pred, seconds)  # fmt: skip
