"""The logic analysis of a stored run: compile, measure agreement, verify, store.

For each requested instance of a group-composition run (MLP, or transformer without LayerNorm):
the integer model Q at ``bits`` bits and its threshold circuit
(:func:`algolens.logic.compile.compile_run`), agreement of Q with the float network and with the
group table on all ``|G|²`` inputs, the circuit checked against Q on every input
(:func:`algolens.logic.verify.verify`), breakpoint proofs of every requantisation node (the MLP's
hidden layer, :func:`~algolens.logic.verify_requant.prove_input_layer`; every thermometer layer
of a transformer, :func:`~algolens.logic.verify_requant.prove_transformer`), statistics by
layer and the size of the FO(M) formula. Stored as ``<run>/analyses/logic.json`` (schema
``SCHEMAS["logic"]``), reused until the weights, the instances or the bit-width change; the
report's logic section (:mod:`algolens.report.logic`) reads it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from algolens.errors import SpecError
from algolens.store import RunStore

METHOD = "logic"


def instance_logic(compiled: Any, *, fom_limit: int | None = None) -> dict[str, Any]:
    """The logic analysis of one compiled instance (:class:`~algolens.logic.compile.Compiled`).

    Args:
        fom_limit: most gates for which the FO(M) program is written out (default the module's).
    """
    from algolens.logic.circuit import circuit_depth, layer_stats
    from algolens.logic.circuit_to_fom import MAX_EXPANDED_GATES
    from algolens.logic.fom_outline import fom_text
    from algolens.logic.verify import InputDomain, verify

    circuit, q = compiled.circuit, compiled.q
    domain = InputDomain(tuple(tuple(int(t) for t in a) for a in compiled.domain))
    t0 = time.perf_counter()
    verdict = verify(circuit, q.predict, domain=domain)
    t_verify = time.perf_counter() - t0
    t0 = time.perf_counter()
    proofs_row = requant_proofs(compiled)
    t_proofs = time.perf_counter() - t0
    stats = layer_stats(circuit)
    text = fom_text(circuit, max_gates=fom_limit or MAX_EXPANDED_GATES)
    return {
        "kind": compiled.kind,
        "bits": compiled.bits,
        "inputs": int(domain.size),
        "agreement": compiled.agreement(),
        "gates": circuit.n_gates,
        "wires": sum(s.wires for s in stats),
        "depth": circuit_depth(stats),
        "max_fan_in": max((s.max_fan_in for s in stats), default=0),
        "layers": [s.to_dict() for s in stats],
        "verify": verdict.to_dict(),
        "verdict": verdict.describe(),
        "requant_proofs": proofs_row,
        "fom": {"expanded": text.expanded, "definitions": text.definitions,
                "characters": text.characters},
        "seconds": {**compiled.seconds, "verify": t_verify, "requant_proofs": t_proofs},
    }  # fmt: skip


def requant_proofs(compiled: Any) -> dict[str, Any]:
    """Breakpoint proofs of every requantisation node of a compiled instance: the MLP's hidden
    layer (one node, a column per neuron) or every thermometer layer of a transformer.

    Returns:
        ``{"layer", "nodes", "nodes_proven", "columns", "proven", "first_failure"}``.
    """
    from algolens.logic.quantize_mlp import QMLP
    from algolens.logic.verify import InputDomain
    from algolens.logic.verify_requant import prove_input_layer, prove_transformer

    circuit, q = compiled.circuit, compiled.q
    if isinstance(q, QMLP):  # the hidden requantisation reads the inputs directly
        domain = InputDomain(tuple(tuple(int(t) for t in a) for a in compiled.domain))
        cols = prove_input_layer(circuit, 0, q.act, domain)
        bad = [p.failure for p in cols if not p.ok]
        return {"layer": circuit.layers[0].name, "nodes": 1, "nodes_proven": int(not bad),
                "columns": len(cols), "proven": len(cols) - len(bad),
                "first_failure": bad[0] if bad else None}  # fmt: skip
    nodes = prove_transformer(circuit, q, compiled.domain)
    failed = [n.failure or f"{n.layer}: not provable" for n in nodes if not n.ok]
    return {"layer": "every requantisation node", "nodes": len(nodes),
            "nodes_proven": len(nodes) - len(failed),
            "columns": sum(len(n.columns) for n in nodes),
            "proven": sum(p.ok for n in nodes for p in n.columns),
            "first_failure": failed[0] if failed else None}  # fmt: skip


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
        SpecError: a run that is not a composition run, an instance out of range, unsupported
            layers. ConfigError: bits outside the supported range.
    """
    from algolens.analysis.runs import weights_source
    from algolens.analysis.store import cached
    from algolens.logic.compile import compile_run
    from algolens.logic.quantize import check_bits

    bits = check_bits(bits)
    chosen = [0] if instances is None else [int(k) for k in instances]
    if not chosen:
        raise SpecError("no instance to analyse")

    def compute() -> dict[str, Any]:
        compiled = [compile_run(store, run_id, k, bits) for k in chosen]  # all checked first
        return {"bits": bits, "instances": [{"instance": c.instance, **instance_logic(c)}
                                            for c in compiled]}  # fmt: skip

    source = {**weights_source(store, run_id), "instances": chosen, "bits": bits}
    return cached(store, run_id, METHOD, compute, source=source, force=force)


def stored_logic(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """The run's stored logic analysis if it is current (same code schema and version, computed
    from the run's present weights), whatever instances and bit-width it was computed for."""
    from algolens.analysis.runs import weights_source
    from algolens.analysis.store import analysis_path, run_fingerprint, verified_analysis
    from algolens.errors import CheckpointError

    path = analysis_path(store, run_id, METHOD)
    try:
        weights = weights_source(store, run_id)
    except CheckpointError:
        return None
    data = verified_analysis(path, METHOD, run_fingerprint(path.parent.parent))
    source = data.get("source") if data is not None else None
    if not isinstance(source, dict) or any(source.get(k) != v for k, v in weights.items()):
        return None
    return data
