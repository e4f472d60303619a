"""`algolens compile RUN`: a trained network as an integer model and a threshold circuit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from algolens.cli.app import app
from algolens.cli.output import print_json, print_table, print_text
from algolens.cli.runs import StoreOpt
from algolens.destination import check_destination
from algolens.errors import ConfigError, SizeLimitError
from algolens.store import RunStore

TARGETS = ("circuit", "fom")
MAX_EXPORT_WIRES = 100_000_000
"""--out refuses circuits with more wires than this (the JSON would exceed about 1 GB)."""


@app.command("compile")
def compile_command(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix) of a composition run.")],
    instance: Annotated[int, typer.Option(help="Which seed of the run (0-based).")] = 0,
    bits: Annotated[int, typer.Option(help="Bit-width p of Q's weights and activations.")] = 8,
    to: Annotated[
        str, typer.Option("--to", help="What --out receives: circuit (JSON) or fom (formula).")
    ] = "circuit",
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check the circuit against Q on every input (above 10^7 inputs: random and "
            "near-threshold inputs, not a proof).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the circuit (.json, .json.gz) or the formula text here: a new file or "
            "a regular one in an existing folder, outside the run store's runs/.",
        ),
    ] = None,
    store: StoreOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fix seed K's arithmetic to p-bit integers (Q), compile Q to a threshold circuit and print
    its size by layer, how often Q agrees with the float network and with the task on every
    input, and with --verify whether the circuit equals Q on all of them.

    Composition runs only (MLP, or a transformer without LayerNorm). `--to fom` prints the
    FO(M) formula (written out in full up to 20,000 gates, else an outline) or writes it to
    --out. The circuit format is documented in docs/logic.md.
    """
    from algolens.logic.circuit import circuit_depth, layer_stats
    from algolens.logic.compile import compile_run

    if to not in TARGETS:
        raise ConfigError(f"--to must be one of {', '.join(TARGETS)}, got {to!r}")
    run_store = RunStore(store)
    if out is not None:
        check_destination(out, what="--out", store=run_store.root)  # before compiling
    compiled = compile_run(run_store, run, instance, bits)
    stats = layer_stats(compiled.circuit)
    result: dict[str, Any] = {
        "run": compiled.run_id,
        "instance": instance,
        "kind": compiled.kind,
        "bits": bits,
        "inputs": int(compiled.tokens.shape[0]),
        "gates": compiled.circuit.n_gates,
        "wires": sum(s.wires for s in stats),
        "depth": circuit_depth(stats),
        "max_fan_in": max((s.max_fan_in for s in stats), default=0),
        "layers": [s.to_dict() for s in stats],
        "agreement": compiled.agreement(),
        "seconds": dict(compiled.seconds),
    }
    fom = None
    if to == "fom":
        from algolens.logic.fom_outline import fom_text

        fom = fom_text(compiled.circuit)
        result["fom"] = {"expanded": fom.expanded, "characters": fom.characters}
    if verify:
        result["verify"] = _verify(compiled)
        result["seconds"] = dict(compiled.seconds)
    if out is not None:
        if fom is None and result["wires"] > MAX_EXPORT_WIRES:
            raise SizeLimitError(
                f"the circuit has {result['wires']:,} wires, more than {MAX_EXPORT_WIRES:,} to "
                "write as JSON (about 10 bytes each); compile fewer bits or a smaller model"
            )
        _write(compiled, fom, out)
        result["out"] = str(out)
    if json:
        print_json(result)
        return
    _print(result, fom.text if fom is not None and out is None else None)


def _verify(compiled: Any) -> dict[str, Any]:
    import time

    from algolens.logic.verify import InputDomain, verify

    t0 = time.perf_counter()
    domain = InputDomain(tuple(tuple(d) for d in compiled.domain))
    verdict = verify(compiled.circuit, compiled.q.predict, domain=domain)
    compiled.seconds["verify"] = time.perf_counter() - t0
    return verdict.to_dict() | {"verdict": verdict.describe()}


def _write(compiled: Any, fom: Any, out: Path) -> None:
    from algolens.fileio import write_text_atomic
    from algolens.logic.export import write_circuit

    if fom is not None:
        write_text_atomic(out, fom.text)
    else:
        write_circuit(compiled.circuit, out)


def _print(r: dict[str, Any], formula: str | None) -> None:
    print_text(f"run {r['run']} instance {r['instance']}: {r['kind']}, Q at {r['bits']} bits")
    rows = [
        [s["name"], s["gates"], s["wires"], s["depth"], s["max_fan_in"], s["weight_bits"]]
        for s in r["layers"]
    ]
    rows.append(["total", r["gates"], r["wires"], r["depth"], r["max_fan_in"], ""])
    print_table(
        "threshold circuit by layer",
        ["layer", "gates", "wires", "depth", "max fan-in", "weight bits"],
        rows,
    )
    a = r["agreement"]
    print_text(
        f"agreement on all {r['inputs']} inputs: Q vs float {a['q_vs_float']:.2%}, "
        f"Q vs task {a['q_vs_task']:.2%} (float vs task {a['float_vs_task']:.2%})"
    )
    if "verify" in r:
        print_text(f"circuit vs Q: {r['verify']['verdict']}")
    secs = ", ".join(f"{k} {v:.2f} s" for k, v in r["seconds"].items())
    print_text(f"time: {secs}")
    if "out" in r:
        print_text(f"wrote {r['out']}")
    if formula is not None:
        print(formula)
