"""`algolens analyze RUN --method probes|patching|lens|scrub`: the causal toolkit's output.

The analyses are :func:`algolens.analysis.causal.run.run_causal` (stored per run and method,
run through the registry's shared flow, :func:`algolens.cli.analyze_each.run_method`); this
module prints each result as tables.
"""

from __future__ import annotations

from typing import Any

from algolens.analysis.methods import Options
from algolens.cli.output import print_table, print_text


def show(method: str, outputs: list[dict[str, Any]], opts: Options) -> None:
    """Each run's ``method`` result as tables (``Method.show`` of the causal methods)."""
    part = {"probes": _probes, "patching": _patching, "lens": _lens, "scrub": _scrub}[method]
    for out in outputs:
        print_text(
            f"{method}: run {out['run']} ({out['task']}); inputs: {out['inputs']} "
            f"({out['n_fit']} fit, {out['n_test']} test)"
        )
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} (seed {inst['seed']}):")
            part(inst)


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def _probes(inst: dict[str, Any]) -> None:
    for g in inst["grids"]:
        sel = g["selectivity"] or [[None] * len(g["positions"])] * len(g["layers"])
        rows = [
            [layer, *(f"{_f(f)} ({_f(s, '+.2f')})" for f, s in zip(f1, srow, strict=True))]
            for layer, f1, srow in zip(g["layers"], g["f1"], sel, strict=True)
        ]
        majority = ", ".join(_f(m) for m in g["majority_f1"])
        print_text(
            f"probe {g['label']}: macro-F1 (selectivity) per residual layer and position "
            f"(always the majority label: {majority})"
        )
        print_table(
            f"probe {g['label']}",
            ["layer", *(f"pos {p}" for p in g["positions"])],
            rows,
        )


def _patching(inst: dict[str, Any]) -> None:
    resid, heads = inst["resid"], inst["heads"]
    n_pos = len(resid["effect"][0]) if resid["effect"] else 0
    print_text(
        f"patching into {inst['n_pairs']} corrupted rows: 1 = restores the clean loss "
        f"(metric clean {resid['clean']:.3g}, corrupted {resid['corrupted']:.3g}), 0 = no effect"
    )
    effect = resid["effect"]  # [layer][pos]: printed one row per position
    print_table(
        "residual stream",
        ["pos", *(f"layer {i}" for i in range(len(effect)))],
        [[p, *(_f(row[p], ".2f") for row in effect)] for p in range(n_pos)],
    )
    n_heads = len(heads["effect"][0]) if heads["effect"] else 0
    print_table(
        "each head's output (all positions)",
        ["layer", *(f"head {h}" for h in range(n_heads))],
        [[i, *(_f(x, ".2f") for x in row)] for i, row in enumerate(heads["effect"])],
    )


def _lens(inst: dict[str, Any]) -> None:
    logit, tuned = inst["logit"], inst["tuned"]
    print_text("logit lens and tuned lens per residual layer (held-out scored positions):")
    print_table(
        "lenses",
        ["layer", "logit KL", "logit acc", "tuned KL", "tuned acc", "tuned agreement"],
        [
            [layer, _f(lk), _f(la), _f(tk), _f(ta), _f(tg)]
            for layer, lk, la, tk, ta, tg in zip(
                logit["layers"],
                logit["kl"],
                logit["accuracy"],
                tuned["kl"],
                tuned["accuracy"],
                tuned["agreement"],
                strict=True,
            )  # fmt: skip
        ],
    )


def _scrub(inst: dict[str, Any]) -> None:
    print_text("causal scrubbing: loss recovered = (L_random - L_scrubbed) / (L_random - L_model)")
    print_table(
        "hypotheses",
        ["hypothesis", "L_model", "L_scrubbed", "L_random", "recovered"],
        [
            [
                h["name"],
                _f(h["loss_model"]),
                _f(h["loss_scrubbed"]),
                _f(h["loss_random"]),
                _f(h["loss_recovered"], ".1%"),
            ]
            for h in inst["hypotheses"]
        ],  # fmt: skip
    )
