"""Merrill & Sabharwal (NeurIPS 2023), *A Logic for Expressing Log-Precision Transformers*.

``algolens reproduce merrill2023`` fixes trained networks' arithmetic to p-bit integers (the
integer model Q), compiles them to threshold circuits and FO(M) formulas
(:mod:`algolens.logic`), and checks that all of them compute the same function. The paper proves
rather than measures, so its "figures" are the theorem's statements; each claim below says what
was measured and by which rule it agrees (reference: ``../shared/papers.md``, "Seed 002").

Protocol (both modes; ``full`` only widens the n-scaling study to :data:`FULL_NS`):

* a grokked cyclic-group MLP (:data:`CYCLIC`, paper-size model, fast recipe), an S5 MLP
  (:data:`S5`) and a 1-layer transformer on a group task (:data:`GROUP_TRANSFORMER`), trained
  into the store (reused when present), each analysed by
  :func:`algolens.logic.verify_run.run_logic` at 8 bits: agreement of Q with the float network
  and the task on all ``|G|²`` inputs, the circuit checked against Q on every input, breakpoint
  proofs of the MLPs' hidden requantisation, and the smallest width (2..16) at which Q equals
  the float network on every input;
* the cyclic MLP again at :data:`FOM_BITS` bits, where its FO(M) program is small enough to
  write out and evaluate: the formula evaluator against the circuit on every input, gate by gate;
* a small sequence transformer (:data:`SEQ_MODEL`; majority of n bits,
  :mod:`algolens.logic.scaling`) compiled for every odd n in :data:`QUICK_NS` with one integer
  model: gates and depth against n, each circuit verified against Q and evaluated against the
  float network on every input, the log-log exponent with its t-interval;
* a 2-layer, d_model 32 transformer at n = 8 positions, p = 8, beside the design notes' size
  estimate (:data:`ESTIMATE_GATES`);
* the SAT miter on a tiny compiled MLP: its circuit against the circuit re-read from its export
  file (UNSAT expected) and against a copy with one threshold moved (a witness expected);
* the float network against Q at every width 2..16 for lengths :data:`PRECISION_NS` (a 1-layer
  majority transformer trained to :data:`PRECISION_N_MAX`; :mod:`algolens.logic.precision`):
  the smallest width at which Q equals the float network on every tested input, against log2 n;
* one FO(M) sentence for every length n from a one-block, position-free majority transformer,
  evaluated against its Q at many lengths, and the ``⌊a/b⌋`` corollary
  (:mod:`.merrill2023_uniform`).

The rules of the judged rows are in :mod:`.merrill2023_claims`; the issue's targets (S5 Q
accuracy ≥ 99 %, compile + verify ≤ 60 s) and the size estimate (within a factor
:data:`ESTIMATE_FACTOR`) are checks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from algolens.reproductions.claims import Claim, Mode, Scale, as_scale
from algolens.reproductions.merrill2023_claims import make_claims
from algolens.reproductions.merrill2023_uniform import uniform_study
from algolens.reproductions.runs import ensure_run
from algolens.store import RunStore

PAPER = "Merrill & Sabharwal (NeurIPS 2023), A Logic for Expressing Log-Precision Transformers"

BITS = 8
FOM_BITS = 4
"""Bit-width at which the cyclic MLP's FO(M) program is written out and evaluated."""
CYCLIC: dict[str, Any] = {"group": "C59", "train_frac": 0.3, "model_args": {}}
S5: dict[str, Any] = {"group": "S5", "train_frac": 0.4, "model_args": {}}
GROUP_TRANSFORMER: dict[str, Any] = {
    "group": "C23", "model": "transformer", "train_frac": 0.6, "epochs": 4000,
    "lr": 1e-2, "weight_decay": 1.0, "beta2": 0.98,  # the fast recipe's lr 2.5e-2 diverges
    "model_args": {"d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64},
}  # fmt: skip
SEEDS = [0]
QUICK_NS: tuple[int, ...] = (3, 5, 7, 9, 11)
FULL_NS: tuple[int, ...] = (3, 5, 7, 9, 11, 13, 15)
SEQ_MODEL: dict[str, int] = {"n_layers": 2, "d_model": 16, "d_mlp": 16, "steps": 600}
"""The majority transformer of the n-scaling study: 2 layers, so that the first layer runs at
every position and the circuit's n-dependent part is visible (with one layer most of the circuit
serves the answer position only and hardly depends on n)."""
SEQ_STEPS = 800
"""Training steps of the 2-layer d_model 32 transformer of the size estimate."""
ESTIMATE_GATES = 900_000
"""papers.md: 2 layers, d 32, n 8, p 8 ≈ 0.9M gates."""
ESTIMATE_FACTOR = 10.0
PRECISION_N_MAX = 31
PRECISION_NS: tuple[int, ...] = (3, 5, 7, 11, 15, 21, 31)
PRECISION_MODEL: dict[str, int] = {"n_layers": 1, "d_model": 16, "d_mlp": 16, "steps": 1500}
"""The majority transformer of the precision study (trained on every odd length to
:data:`PRECISION_N_MAX`; no circuit is compiled, so it can be longer than the n-scaling's)."""
S5_MIN_ACC = 0.99
S5_MAX_SECONDS = 60.0
MODES: tuple[Mode, ...] = ("quick", "full")
"""The protocols this module offers (it takes a :class:`~algolens.reproductions.claims.Scale`)."""
SMALL = False
"""Tests shrink the sequence models and lengths (never set by the CLI)."""


def _config(spec: dict[str, Any], scale: Scale) -> Any:
    from algolens.train import make_config

    kw = {k: v for k, v in spec.items() if k != "model_args"}
    if scale.epochs_cap is not None:  # tests: a few epochs
        kw["epochs"] = scale.epochs(kw.get("epochs"))
    return make_config("fast", seeds=list(SEEDS), model_args=dict(spec["model_args"]), **kw)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


__all__ = ["PAPER", "make_claims", "reproduce"]


def protocol_models() -> tuple[tuple[str, dict[str, Any]], ...]:
    """The protocol's three models (name, spec), in the order they are trained and compiled."""
    return (("cyclic MLP", CYCLIC), ("S5 MLP", S5), ("group transformer", GROUP_TRANSFORMER))


def planned_configs(scale: Scale) -> list[Any]:
    """The configs (:class:`~algolens.train.config.TrainConfig`) of the protocol's three runs
    (:func:`protocol_models`); they are independent, so ``reproduce --executor`` trains them in
    parallel before they are compiled."""
    return [_config(spec, scale) for _name, spec in protocol_models()]


def reproduce(scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Run the protocol of ``scale`` (module docstring) and return the claims."""
    from algolens.logic.precision import run_exact_bits
    from algolens.logic.verify_run import run_logic

    scale = as_scale(scale)
    models, cyclic_id = {}, ""
    for (name, spec), config in zip(protocol_models(), planned_configs(scale), strict=True):
        run_id = ensure_run(store, config, log)
        row = dict(run_logic(store, run_id, bits=BITS)["instances"][0])
        row["exact_bits"] = run_exact_bits(store, run_id)[0]
        models[f"{name} ({spec['group']})"] = row
        log(f"{name} {spec['group']}: {row['gates']} gates, depth {row['depth']}, "
            f"Q vs task {_pct(row['agreement']['q_vs_task'])}; {row['verdict']}")  # fmt: skip
        if name == "cyclic MLP":
            cyclic_id = run_id
    fom = fom_check(store, cyclic_id, log)
    ns = FULL_NS if scale.mode == "full" else QUICK_NS
    scaling = scaling_study(ns, log)
    estimate = estimate_check(log)
    miter = miter_check(log)
    precision = precision_study(log)
    uniform = uniform_study(log, small=SMALL)
    return make_claims(models, fom, scaling, estimate, miter, precision, uniform)


def fom_check(store: RunStore, run_id: str, log: Callable[[str], None]) -> dict[str, Any]:
    """The FO(M) program of ``run_id``'s instance 0 at :data:`FOM_BITS` bits, evaluated by the
    formula evaluator against the circuit on every input, gate by gate."""
    from algolens.logic.circuit_to_fom import circuit_to_fom
    from algolens.logic.compile import compile_run
    from algolens.logic.fom import fom_size
    from algolens.logic.verify import InputDomain, fom_reference, verify

    compiled = compile_run(store, run_id, 0, FOM_BITS)
    program = circuit_to_fom(compiled.circuit)
    outputs, gates = fom_reference(program)
    domain = InputDomain(tuple(tuple(a) for a in compiled.domain))
    verdict = verify(compiled.circuit, outputs, domain=domain, reference_gates=gates)
    size = fom_size(program)
    log(f"FO(M) at {FOM_BITS} bits: {size.definitions} definitions, {size.characters} "
        f"characters; formula vs circuit: {verdict.describe()}")  # fmt: skip
    return {"verdict": verdict, "size": size, "q_vs_task": compiled.agreement()["q_vs_task"]}


def scaling_study(ns: tuple[int, ...], log: Callable[[str], None]) -> dict[str, Any]:
    """The majority transformer compiled for every n in ``ns``, with fits."""
    from algolens.logic.scaling import (
        exponent_interval,
        fit_affine_power,
        fit_exponent,
        majority_transformer,
        scaling_table,
    )

    if SMALL:
        ns = tuple(n for n in ns if n <= 5)
    n_max = max(ns)
    size = {"d_model": 8, "d_mlp": 8, "steps": 50} if SMALL else dict(SEQ_MODEL)
    t0 = time.perf_counter()
    trained = majority_transformer(n_max, **size)
    log(f"majority transformer trained in {time.perf_counter() - t0:.0f} s; float accuracy by "
        f"length: {trained.accuracy}")  # fmt: skip
    rows = scaling_table(trained.model, ns, bits=BITS, log=log)
    gates = [r.gates for r in rows]
    return {
        "rows": rows,
        "loglog": fit_exponent(ns, gates),
        "interval": exponent_interval(ns, gates) if len(ns) >= 3 else (0.0, float("inf")),
        "affine": fit_affine_power(ns, gates) if len(ns) >= 3 else None,
        "wires_affine": fit_affine_power(ns, [r.wires for r in rows]) if len(ns) >= 3 else None,
    }


def precision_study(log: Callable[[str], None]) -> dict[str, Any]:
    """The widths at which Q equals the float network, by length, and the log-law fit."""
    from algolens.logic.precision import judge_log_precision, precision_table
    from algolens.logic.scaling import majority_transformer

    n_max, ns = PRECISION_N_MAX, PRECISION_NS
    size = dict(PRECISION_MODEL)
    if SMALL:
        n_max, ns, size = 7, (3, 5, 7), {"n_layers": 1, "d_model": 8, "d_mlp": 8, "steps": 50}
    trained = majority_transformer(n_max, **size)
    log(f"precision study: majority transformer to n = {n_max}, float accuracy by length "
        f"{trained.accuracy}")  # fmt: skip
    rows = precision_table(trained.model, ns, log=log)
    fit = judge_log_precision(ns, [r.bits for r in rows])
    acc = min(trained.accuracy[n] for n in ns)
    model = (f"{size['n_layers']}-layer d_model {size['d_model']} majority transformer, "
             f"lowest float accuracy over these n {_pct(acc)}")  # fmt: skip
    return {"rows": rows, "fit": fit, "model": model}


def estimate_check(log: Callable[[str], None]) -> dict[str, Any]:
    """Gates of a 2-layer, d_model 32 majority transformer at n = 8 positions (7 bits and
    ``=``), 8 bits, beside :data:`ESTIMATE_GATES`."""
    from algolens.logic.scaling import majority_transformer, scaling_table

    size = {"d_model": 8, "d_mlp": 8, "steps": 20} if SMALL else {"steps": SEQ_STEPS}
    trained = majority_transformer(7, n_layers=2, **size)
    row = scaling_table(trained.model, [7], bits=BITS)[0]
    log(f"2-layer d_model 32 transformer at n = 8 positions: {row.gates} gates "
        f"(estimate {ESTIMATE_GATES}); {row.verdict}")  # fmt: skip
    return {"row": row}


def miter_check(log: Callable[[str], None]) -> dict[str, Any]:
    """The SAT miter on a tiny compiled MLP: against its re-read export (UNSAT expected) and a
    copy with one threshold moved that changes some output (:func:`_corrupted`; a witness
    expected)."""
    import tempfile
    from pathlib import Path

    import torch

    from algolens.logic.compile_mlp import compile_mlp
    from algolens.logic.export import read_circuit, write_circuit
    from algolens.logic.miter import miter
    from algolens.logic.quantize_mlp import quantize_mlp
    from algolens.models.mlp import MLP, MLPConfig

    torch.manual_seed(0)
    model = MLP(MLPConfig(d_vocab=5, d_embed=8, d_mlp=4))
    circuit = compile_mlp(quantize_mlp(model, 3))
    with tempfile.TemporaryDirectory() as tmp:
        again = read_circuit(write_circuit(circuit, Path(tmp) / "c.json.gz"))
    same = miter(circuit, again)
    bad = _corrupted(circuit)
    corrupted = miter(bad, circuit)
    log(f"SAT miter, tiny MLP ({circuit.n_gates} gates) vs its re-read export: "
        f"{same.describe()}; vs a corrupted copy: {corrupted.describe()}")  # fmt: skip
    return {"same": same, "corrupted": corrupted, "gates": circuit.n_gates}


def _corrupted(circuit: Any) -> Any:
    """A copy of ``circuit`` with one threshold raised by one, the first (from the output end)
    whose change alters some output — found by evaluating both on every input."""
    from algolens.logic.circuit import Circuit
    from algolens.logic.evaluate import evaluate
    from algolens.logic.verify import InputDomain

    dom = InputDomain.full(circuit.n_pos, circuit.n_vocab)
    xs = dom.strings(0, dom.size)
    want = evaluate(circuit, xs)
    for li in range(len(circuit.layers) - 1, -1, -1):
        layer = circuit.layers[li]
        for j in range(layer.n_gates):
            thr = layer.threshold.copy()
            thr[j] += 1
            layers = list(circuit.layers)
            layers[li] = dataclasses.replace(layer, threshold=thr)
            bad = Circuit(circuit.n_pos, circuit.n_vocab, tuple(layers), circuit.outputs,
                          circuit.input_names)  # fmt: skip
            if (evaluate(bad, xs) != want).any():
                return bad
    raise AssertionError("no single threshold change alters this circuit")
