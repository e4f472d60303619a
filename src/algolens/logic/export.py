"""The circuit file format ``algolens-threshold-circuit/1``: write, read and validate.

One JSON object (the file may be gzip-compressed; a name ending in ``.gz`` is written
compressed, and reading detects gzip by its magic bytes)::

    {"format": "algolens-threshold-circuit/1",
     "n_inputs": N,                         # = n_pos · n_vocab
     "n_vocab": V,                          # tokens per position (optional; default: N, 1 position)
     "input_names": ["x0=0", ...],          # N strings: input id pos·V + token
     "gates": [{"w": [[src, weight], ...], "t": threshold}, ...],
     "outputs": [id, ...],
     "output_encoding": "binary-lsb-first",
     "layers": [{"name": "...", "gates": count}, ...]}   # optional: consecutive gate ranges

Gate ``i`` has id ``N + i`` and fires iff ``Σ weight · value(src) ≥ t``; every ``src`` is an id
below ``N + i``; weights and thresholds are integers (JSON numbers without fraction or
exponent). The output ids' values, read as a binary number least-significant bit first, are the
predicted token id. Reading validates everything and raises :class:`SpecError` with one line
naming the first problem; nothing in the file is executed. Read circuits get one layer per run of
gates that read only earlier layers (or the ``layers`` ranges when given and consistent).
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from algolens.errors import SpecError, listed, quote
from algolens.fileio import write_bytes_atomic
from algolens.logic.circuit import OUTPUT_ENCODING, Circuit, CircuitBuilder

FORMAT = "algolens-threshold-circuit/1"
KEYS = {
    "format",
    "n_inputs",
    "n_vocab",
    "input_names",
    "gates",
    "outputs",
    "output_encoding",
    "layers",
}
REQUIRED = ("format", "n_inputs", "gates", "outputs", "output_encoding")
MAX_FILE_BYTES = 4 << 30
"""Refuse circuit files (decompressed) larger than this."""
DENSE_SHARE = 0.05
MAX_DENSE_LAYER = 1 << 25
"""Read layers with more than 5 % nonzero weights (and at most 2^25 entries) are stored dense,
so the evaluator multiplies them with BLAS instead of a sparse product."""
MAX_MAGNITUDE = 1 << 50
"""Weights and thresholds must be smaller than this in magnitude (sums stay inside int64)."""


def circuit_to_dict(circuit: Circuit) -> dict[str, Any]:
    """The export dict of ``circuit`` (expands every gate: large for large circuits)."""
    gates = [
        {"w": [[int(s), int(w)] for s, w in zip(srcs, ws, strict=True)], "t": t}
        for srcs, ws, t in circuit.gates()
    ]
    return circuit_to_dict_header(circuit) | {"gates": gates}


def _gate_lines(circuit: Circuit) -> Any:
    for srcs, ws, t in circuit.gates():
        pairs = ",".join(f"[{s},{w}]" for s, w in zip(srcs.tolist(), ws.tolist(), strict=True))
        yield f'{{"w":[{pairs}],"t":{t}}}'


def write_circuit(circuit: Circuit, path: str | Path) -> Path:
    """Write ``circuit`` to ``path`` atomically (gzip when the name ends in ``.gz``)."""
    path = Path(path)
    head = circuit_to_dict_header(circuit)
    buf = io.StringIO()
    buf.write(json.dumps(head)[:-1])
    buf.write(',"gates":[')
    for i, line in enumerate(_gate_lines(circuit)):
        buf.write(("," if i else "") + "\n" + line)
    buf.write("]}\n")
    data = buf.getvalue().encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    write_bytes_atomic(path, data)
    return path


def circuit_to_dict_header(circuit: Circuit) -> dict[str, Any]:
    """The export dict without ``gates``."""
    return {
        "format": FORMAT,
        "n_inputs": circuit.n_inputs,
        "n_vocab": circuit.n_vocab,
        "input_names": list(circuit.input_names),
        "outputs": [int(o) for o in circuit.outputs],
        "output_encoding": OUTPUT_ENCODING,
        "layers": [{"name": layer.name, "gates": layer.n_gates} for layer in circuit.layers],
    }


def read_circuit(path: str | Path) -> Circuit:
    """Read and validate a circuit file (plain or gzip JSON)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if raw[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                raw = gz.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SpecError(f"cannot read circuit file {path}: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"circuit file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(raw, parse_float=_no_float, parse_constant=_no_float)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(f"circuit file {path} is not valid JSON: {str(exc)[:200]}") from None
    try:
        return circuit_from_dict(data)
    except SpecError as exc:
        raise SpecError(f"circuit file {path}: {exc}") from None


def _no_float(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")


def _int(value: Any, what: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{what} must be an integer, got {quote(value)}")
    if abs(value) >= MAX_MAGNITUDE:
        raise SpecError(f"{what} must be below 2^50 in magnitude, got {quote(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise SpecError(f"{what} must lie in {lo}..{hi}, got {value}")
    return value


def circuit_from_dict(data: Any) -> Circuit:
    """Validate an export dict and build the :class:`Circuit` (raises :class:`SpecError`)."""
    if not isinstance(data, dict):
        raise SpecError("a circuit must be a JSON object")
    if data.get("format") != FORMAT:
        raise SpecError(f'"format" must be "{FORMAT}", got {quote(data.get("format"))}')
    missing = [k for k in REQUIRED if k not in data]
    unknown = sorted(set(data) - KEYS)
    if missing or unknown:
        raise SpecError(
            f"missing keys {missing}, unknown keys [{listed(quote(k) for k in unknown)}]; "
            f"keys are {sorted(KEYS)}"
        )
    n = _int(data["n_inputs"], '"n_inputs"', 1)
    n_vocab = _int(data.get("n_vocab", n), '"n_vocab"', 1, n)
    if n % n_vocab:
        raise SpecError(f'"n_inputs" {n} is not a multiple of "n_vocab" {n_vocab}')
    names = data.get("input_names")
    if names is not None and (
        not isinstance(names, list) or len(names) != n or not all(isinstance(s, str) for s in names)
    ):
        raise SpecError(f'"input_names" must be a list of {n} strings')
    if data["output_encoding"] != OUTPUT_ENCODING:
        raise SpecError(f'"output_encoding" must be "{OUTPUT_ENCODING}"')
    gates = data["gates"]
    if not isinstance(gates, list):
        raise SpecError('"gates" must be a list')
    parsed = [_gate(g, n + i, i) for i, g in enumerate(gates)]
    outputs = data["outputs"]
    if not isinstance(outputs, list):
        raise SpecError('"outputs" must be a list of node ids')
    outs = [_int(o, f"output {k}", 0, n + len(gates) - 1) for k, o in enumerate(outputs)]
    b = CircuitBuilder(n // n_vocab, n_vocab, names)
    for name, lo, hi in _layer_ranges(data.get("layers"), parsed, n):
        _add_explicit(b, name, parsed[lo:hi])
    return b.build(outs)


def _gate(g: Any, node: int, i: int) -> tuple[list[int], list[int], int]:
    if not isinstance(g, dict) or set(g) != {"w", "t"} or not isinstance(g["w"], list):
        raise SpecError(f'gate {i} must be {{"w": [[src, weight], ...], "t": threshold}}')
    t = _int(g["t"], f"gate {i} threshold")
    srcs, ws = [], []
    for pair in g["w"]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise SpecError(f"gate {i}: each weight must be [src, weight], got {quote(pair)}")
        srcs.append(_int(pair[0], f"gate {i} (id {node}) source", 0, node - 1))
        ws.append(_int(pair[1], f"gate {i} weight"))
    if len(set(srcs)) != len(srcs):
        raise SpecError(f"gate {i} lists a source twice")
    return srcs, ws, t


def _layer_ranges(
    layers: Any, gates: list[tuple[list[int], list[int], int]], n: int
) -> list[tuple[str, int, int]]:
    """Consecutive gate ranges whose gates read only earlier ranges."""
    if layers is not None:
        if not isinstance(layers, list) or not all(
            isinstance(x, dict) and isinstance(x.get("name"), str) for x in layers
        ):
            raise SpecError('"layers" must be a list of {"name": str, "gates": count}')
        counts = [_int(x.get("gates"), '"layers" gate count', 0) for x in layers]
        if sum(counts) != len(gates):
            raise SpecError(f'"layers" count {sum(counts)} gates, the file has {len(gates)}')
        ranges, lo = [], 0
        for x, c in zip(layers, counts, strict=True):
            ranges.append((x["name"], lo, lo + c))
            lo += c
        if all(
            max((s for g in gates[a:b] for s in g[0]), default=-1) < n + a for _, a, b in ranges
        ):
            return ranges
    ranges, lo = [], 0
    for i, (srcs, _, _) in enumerate(gates):
        if srcs and max(srcs) >= n + lo:
            ranges.append((f"layer{len(ranges)}", lo, i))
            lo = i
    ranges.append((f"layer{len(ranges)}", lo, len(gates)))
    return [r for r in ranges if r[2] > r[1]]


def _add_explicit(
    b: CircuitBuilder, name: str, gates: list[tuple[list[int], list[int], int]]
) -> None:
    src = np.unique(np.asarray([s for g in gates for s in g[0]], dtype=np.int64))
    rows = np.concatenate([np.searchsorted(src, g[0]) for g in gates] or [np.zeros(0)])
    cols = np.repeat(np.arange(len(gates)), [len(g[0]) for g in gates])
    vals = np.asarray([w for g in gates for w in g[1]], dtype=np.int64)
    select = sp.coo_array((vals, (rows.astype(np.int64), cols)), shape=(src.size, len(gates)))
    thr = np.asarray([g[2] for g in gates], dtype=np.int64)
    n = src.size * len(gates)
    if n <= MAX_DENSE_LAYER and vals.size > DENSE_SHARE * n:
        # a dense layer: weights as the basis, each gate selecting its own column (BLAS)
        eye = sp.identity(len(gates), dtype=np.int64, format="csc")
        b.add_layer(name, src, select.toarray(), eye, thr)
    else:
        b.add_layer(name, src, None, select, thr)
