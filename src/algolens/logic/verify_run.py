"""The logic analysis of a stored run: quantise, compile, measure agreement, verify, store.

For each requested instance of a group-composition run (MLP): the integer model Q at ``bits``
bits (:mod:`algolens.logic.quantize_mlp`), its threshold circuit
(:mod:`algolens.logic.compile_mlp`), agreement of Q with the float network and with the group
table on all ``|G|²`` inputs, the circuit checked against Q on every input
(:func:`algolens.logic.verify.verify`), breakpoint proofs of the hidden layer's requantisation
(:func:`algolens.logic.verify_requant.prove_input_layer`), circuit statistics by layer and the
size of the FO(M) formula. Stored as ``<run>/analyses/logic.json`` (schema
``SCHEMAS["logic"]``), reused until the weights, the instances or the bit-width change; the
report's logic section (:mod:`algolens.report.logic`) reads it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from algolens.errors import SpecError
from algolens.store import RunStore

METHOD = "logic"


def float_predictions(model: Any, tokens: np.ndarray) -> np.ndarray:
    """``[batch]`` argmax answers of a one-instance model on ``tokens [batch, pos]``."""
    with torch.no_grad():
        logits = model(torch.from_numpy(tokens), answer=True)  # [batch, d_vocab]
    return logits.argmax(-1).numpy().astype(np.int64)


def instance_logic(
    model: Any, table: np.ndarray, bits: int, *, fom_limit: int | None = None
) -> dict[str, Any]:
    """The logic analysis of one instance of a composition MLP (see the module docstring).

    Args:
        model: the one-instance model (``model.instance(k)``).
        table: the group's Cayley table ``[n, n]``: the task's answers.
        bits: the bit-width p of Q.
        fom_limit: most gates for which the FO(M) program is written out (default the module's).
    """
    from algolens.logic.circuit import circuit_depth, layer_stats
    from algolens.logic.compile_mlp import compile_mlp
    from algolens.logic.fom import MAX_EXPANDED_GATES
    from algolens.logic.fom_outline import fom_text
    from algolens.logic.quantize_mlp import quantize_mlp
    from algolens.logic.verify import InputDomain, verify
    from algolens.logic.verify_requant import prove_input_layer

    n = table.shape[0]
    domain = InputDomain.full(2, n)
    tokens = domain.strings(0, domain.size)  # [n², 2]
    answers = table[tokens[:, 0], tokens[:, 1]]
    t0 = time.perf_counter()
    q = quantize_mlp(model, bits)
    circuit = compile_mlp(q)
    t_compile = time.perf_counter() - t0
    q_pred, f_pred = q.predict(tokens), float_predictions(model, tokens)
    t0 = time.perf_counter()
    verdict = verify(circuit, q.predict, domain=domain)
    t_verify = time.perf_counter() - t0
    proofs = prove_input_layer(circuit, 0, q.act, domain)
    failed = [p.failure for p in proofs if not p.ok]
    stats = layer_stats(circuit)
    text = fom_text(circuit, max_gates=fom_limit or MAX_EXPANDED_GATES)
    return {
        "kind": "mlp",
        "bits": bits,
        "inputs": int(domain.size),
        "agreement": {
            "q_vs_float": float(np.mean(q_pred == f_pred)),
            "q_vs_task": float(np.mean(q_pred == answers)),
            "float_vs_task": float(np.mean(f_pred == answers)),
        },
        "gates": circuit.n_gates,
        "wires": sum(s.wires for s in stats),
        "depth": circuit_depth(stats),
        "max_fan_in": max((s.max_fan_in for s in stats), default=0),
        "layers": [s.to_dict() for s in stats],
        "verify": verdict.to_dict(),
        "verdict": verdict.describe(),
        "requant_proofs": {
            "layer": circuit.layers[0].name,
            "columns": len(proofs),
            "proven": len(proofs) - len(failed),
            "first_failure": failed[0] if failed else None,
        },
        "fom": {"expanded": text.expanded, "definitions": text.definitions,
                "characters": text.characters},
        "seconds": {"compile": t_compile, "verify": t_verify},
    }  # fmt: skip


def run_logic(
    store: RunStore,
    run_id: str,
    *,
    instances: Sequence[int] | None = None,
    bits: int = 8,
    force: bool = False,
) -> dict[str, Any]:
    """The stored logic analysis of ``run_id`` (computed and stored when missing or stale).

    Args:
        instances: instances to analyse (default: instance 0).
        bits: bit-width of Q.

    Raises:
        SpecError: a run that is not a composition MLP, or an instance out of range.
        ConfigError: bits outside the supported range (from Q).
    """
    from algolens.analysis.runs import weights_source
    from algolens.analysis.store import cached
    from algolens.logic.quantize import check_bits
    from algolens.train import load_run_group, load_run_model

    bits = check_bits(bits)
    cfg, model = load_run_model(store, run_id)
    if cfg.task != "composition" or cfg.model != "mlp":
        raise SpecError(
            f"run {run_id} is a {cfg.task} {cfg.model} run; the logic analysis compiles "
            "composition MLP runs (transformers: algolens compile)"
        )
    chosen = [0] if instances is None else [int(k) for k in instances]
    n_inst = int(model.cfg.n_inst)
    bad = [k for k in chosen if not 0 <= k < n_inst]
    if bad:
        raise SpecError(f"instance {bad[0]} out of range: the run has {n_inst} (0..{n_inst - 1})")
    table = np.asarray(load_run_group(store, run_id).table)

    def compute() -> dict[str, Any]:
        rows = [{"instance": k, **instance_logic(model.instance(k), table, bits)} for k in chosen]
        return {"bits": bits, "instances": rows}

    source = {**weights_source(store, run_id), "instances": chosen, "bits": bits}
    return cached(store, run_id, METHOD, compute, source=source, force=force)


def stored_logic(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """The run's stored logic analysis if it is current (same code schema and version, computed
    from the run's present weights), whatever instances and bit-width it was computed for."""
    import json

    from algolens.analysis.runs import weights_source
    from algolens.analysis.store import analysis_path, read_analysis
    from algolens.errors import CheckpointError

    path = analysis_path(store, run_id, METHOD)
    try:
        data = json.loads(path.read_text())
        weights = weights_source(store, run_id)
    except (OSError, ValueError, CheckpointError):
        return None
    source = data.get("source") if isinstance(data, dict) else None
    if not isinstance(source, dict) or any(source.get(k) != v for k, v in weights.items()):
        return None
    return read_analysis(path, METHOD, source)
