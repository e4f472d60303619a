"""`analyze --method mechanism` on a stored path-finding run: every instance's mechanism
(:func:`algolens.analysis.pathfinding.mechanism.find_mechanism`) on the run's held-out test rows,
stored as
``analyses/mechanism.json`` and reused until the weights or the code change.

The first ``n`` rows of the stored test split are used (never training rows): the first half fit
the probes and the tuned lens, the second half score everything.
"""

from __future__ import annotations

from typing import Any

from algolens.analysis.methods import Options, check_method_run
from algolens.analysis.pathfinding.mechanism import find_mechanism
from algolens.analysis.runs import weights_source
from algolens.analysis.store import cached
from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.train.config import TrainConfig
from algolens.train.load import load_run_model, load_run_pathfinding

METHOD = "mechanism"


def check_pathfinding_run(
    store: RunStore, run: str, method: str = METHOD, instance: int | None = None
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a run registered analysis ``method`` applies to (for
    ``mechanism``: a task with tree paths, i.e. path-finding), with weights, before any work.

    Raises:
        StoreError: unknown run. ConfigError: a run ``method`` does not apply to, ``instance``
        out of range. CheckpointError: no weights.
    """
    return check_method_run(store, run, method, Options(instance=instance))


def compute_mechanism(store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """The mechanism method's ``compute``: :func:`run_mechanism`."""
    return run_mechanism(store, run_id, force=opts.force)


def run_mechanism(
    store: RunStore, run: str, *, n: int = 600, seed: int = 0, force: bool = False
) -> dict[str, Any]:
    """The stored (or freshly computed) mechanism of every instance of ``run``.

    Returns:
        ``{"nodes", "n_rows", "instances": [{"instance", "seed", ...find_mechanism}]}`` plus the
        store's stamps.
    """
    run_id, config = check_pathfinding_run(store, run, METHOD)

    def compute() -> dict[str, Any]:
        ds = load_run_pathfinding(store, run_id)
        rows = ds.tokens[ds.n_train :][:n]
        if len(rows) < 4:
            raise ConfigError(f"run {run_id} has {len(rows)} test rows; the finder needs 4")
        _, model = load_run_model(store, run_id)
        out = []
        for k, s in enumerate(config.seeds):
            one = model.instance(k).eval()  # activation patching refuses a training-mode model
            m = find_mechanism(one, rows, ds.vocab, n_fit=len(rows) // 2, seed=seed)
            out.append({"instance": k, "seed": s, **m})
        return {"nodes": ds.args.nodes, "n_rows": len(rows), "instances": out}

    source = {"weights": weights_source(store, run_id), "n": n, "seed": seed}
    return cached(store, run_id, METHOD, compute, source=source, force=force)


def summary_lines(inst: dict[str, Any]) -> list[str]:
    """The mechanism of one instance in a few readable lines."""
    ec, g, d = inst["edge_concat"], inst["goal_heads"], inst["deduction"]
    f1 = ", ".join(f"{x:.2f}" for x in ec["f1_by_layer"])
    block = "not reached" if ec["block"] is None else f"block {ec['block']}"
    ko = g["knockout"]
    heads = "; ".join(
        f"L{h['layer']}H{h['head']} mass {h['path_mass']:.2f} level {h['level']}"
        for h in d["heads"]
    )
    lens = ", ".join(f"{x:.2f}" for x in inst["lens"]["accuracy"])
    scrub = ", ".join(
        "n/a" if s["loss_recovered"] is None else f"{s['loss_recovered']:.2f}"
        for s in inst["scrubbing"]
    )
    r = inst["registers"]
    er = ec.get("erasure")
    erased = (
        ""
        if er is None
        else f"; LEACE-erasing it at >goal: loss {er['loss']:.3g} -> {er['erased_loss']:.3g}"
    )
    return [
        f"edge concatenation: {block} (edge-source probe F1 by residual layer {f1}){erased}",
        f"goal mover: L{g['best'][0]}H{g['best'][1]} (root->goal attention "
        f"{g['attention'][g['best'][0]][g['best'][1]]:.2f}; knockout loss "
        f"{ko['loss']:.3g} -> {ko['knocked_loss']:.3g})",
        f"deduction heads (attention on path edges ahead, chance {d['chance']:.2f}): {heads}",
        f"tuned-lens accuracy by residual layer: {lens}",
        f"register attention peaks at L{r['merge_layer']}H{r['merge_head']} (merging candidate)",
        f"sub-goal registers: {_registers(inst.get('register_probes'))}",
        f"scrubbing loss recovered by layer: {scrub}",
    ]


def _registers(rp: dict[str, Any] | None) -> str:
    """The registers found by the register probes, one per (position, level)."""
    if rp is None:
        return "not probed"
    if not rp["registers"]:
        return "none (no register position decodes an ancestor of the goal)"
    return "; ".join(
        f"{r['kind']} holds level {r['level']} from layer {r['layer']} (F1 {r['f1']:.2f})"
        for r in rp["registers"]
    )
