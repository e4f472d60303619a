"""The FO(M) text of a circuit: expanded when small, else an outline per layer with sizes.

A compiled network has one layer template per step (a thermometer, a lookup table, the argmax
comparisons); its expanded formula repeats each template for every gate. Above
``max_gates`` gates :func:`fom_text` writes, per layer, the let-definitions of its first
``per_layer`` gates (exactly as the expanded program would), a comment with the layer's gate and
wire counts, and a closing size report: the characters the expanded program would need,
estimated from the wires. The expanded program of a small circuit is exact and parseable
(:mod:`algolens.logic.fom_parse`); an outline is for reading only (its comments say what was
left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from algolens.logic.circuit import Circuit, layer_stats
from algolens.logic.circuit_to_fom import (
    MAX_EXPANDED_GATES,
    circuit_to_fom,
    gate_formula,
    node_formula,
)
from algolens.logic.fom import Definition, Program, fom_size

CHARS_PER_WIRE = 12
"""Rough characters per weighted source in expanded text (``+ 3*g1234``): for the estimate."""


@dataclass(frozen=True)
class FomText:
    """The text, whether it is the whole formula, and its (estimated) size."""

    text: str
    expanded: bool
    definitions: int
    characters: int  # exact when expanded, else the estimate


def fom_text(
    circuit: Circuit, *, max_gates: int = MAX_EXPANDED_GATES, per_layer: int = 3
) -> FomText:
    """The formula of ``circuit`` as text (see the module docstring)."""
    if circuit.n_gates <= max_gates:
        program = circuit_to_fom(circuit, max_gates=max_gates)
        text = program.to_text()
        return FomText(text, True, len(program.definitions), len(text))
    n_in, n_vocab = circuit.n_inputs, circuit.n_vocab
    stats = layer_stats(circuit)
    lines = [
        f"// outline: {circuit.n_gates} gates in {len(circuit.layers)} layers; the expanded "
        f"formula has one let-definition per gate",
    ]
    estimate = 0
    for layer, st in zip(circuit.layers, stats, strict=True):
        k0 = layer.first - n_in
        lines.append(
            f"// layer {layer.name}: gates g{k0}..g{k0 + layer.n_gates - 1} ({st.gates} gates, "
            f"{st.wires} wires, max fan-in {st.max_fan_in})"
        )
        for j in range(min(per_layer, layer.n_gates)):
            srcs, ws, t = circuit.gate_weights(layer.first + j)
            body = gate_formula(srcs, ws, t, n_in, n_vocab, circuit.n_pos)
            lines.append(Program((Definition(f"g{k0 + j}", (), body),), ()).to_text().rstrip())
        if layer.n_gates > per_layer:
            lines.append(f"// ... {layer.n_gates - per_layer} more gates of layer {layer.name}")
        estimate += st.wires * CHARS_PER_WIRE + st.gates * 16
    outputs = tuple(node_formula(int(o), n_in, n_vocab) for o in circuit.outputs)
    lines.append(Program((), outputs).to_text().rstrip())
    lines.append(
        f"// size report: {circuit.n_gates} definitions, about {estimate} characters expanded"
    )
    return FomText("\n".join(lines) + "\n", False, circuit.n_gates, estimate)


__all__ = ["FomText", "fom_size", "fom_text"]
