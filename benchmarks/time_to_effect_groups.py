"""Time to effect of a stored group run: the first checkpoint at which every seed's W_U FVE lies
in the paper's range (Chughtai et al.'s 50 S5 MLP seeds: 0.90-0.99), with its epoch and the
wall time to it.

Every instance is analysed at every checkpoint (``analysis.irreps.analyse_model``, the same
metrics as ``algolens analyze --method irreps``; nothing is stored). The wall time to an epoch is
the run's training wall time (its summary's ``wall_s``) times ``epoch / epochs``, which assumes an
even cost per epoch (true of a full-batch run whose evaluations are evenly spaced).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/time_to_effect_groups.py \
        --store STORE --run RUN_ID [--low 0.90 --high 0.99]

Prints one line per checkpoint (seeds in range, min and max W_U FVE, test loss range) and the
first checkpoint with every seed in range, or that none has.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from algolens.analysis.composition.irreps import analyse_model
from algolens.analysis.runs import train_masks
from algolens.papers.chughtai2023 import PAPER_S5_MLP
from algolens.store import RunStore
from algolens.train import load_run_group, load_run_model
from algolens.train.checkpoint import list_checkpoints
from algolens.train.load import run_config


def wu_fve_by_checkpoint(store: RunStore, run_id: str) -> list[tuple[int, np.ndarray]]:
    """``[(epoch, [n_inst] W_U FVE)]`` at every checkpoint of the run, oldest first."""
    config = run_config(store, run_id)
    group = load_run_group(store, run_id)
    masks = train_masks(config, group)
    out = []
    for epoch, _path in list_checkpoints(store.paths(run_id).checkpoints):
        _, model = load_run_model(store, run_id, epoch)
        fve = [
            analyse_model(group, model.instance(k), train_mask=masks[k]).weight_fve["W_U"]
            for k in range(config.n_inst)
        ]
        out.append((epoch, np.array(fve)))
    return out


def main() -> None:
    low, high = PAPER_S5_MLP["W_U_fve"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--low", type=float, default=low)
    ap.add_argument("--high", type=float, default=high)
    ap.add_argument("--min-epoch", type=int, default=0, help="skip earlier checkpoints")
    args = ap.parse_args()
    store = RunStore(args.store)
    run_id = store.get(args.run).id
    summary = store.get(run_id).summary or {}
    wall, epochs = float(summary["wall_s"]), int(summary["epochs"])
    first = None
    rows = []
    for epoch, fve in wu_fve_by_checkpoint(store, run_id):
        if epoch < args.min_epoch:
            continue
        inside = int(np.sum((fve >= args.low) & (fve <= args.high)))
        minutes = wall * epoch / epochs / 60
        rows.append({"epoch": epoch, "minutes": round(minutes, 1), "in_range": inside,
                     "n": len(fve), "min": round(float(fve.min()), 4),
                     "max": round(float(fve.max()), 4)})  # fmt: skip
        print(json.dumps(rows[-1]))
        if first is None and inside == len(fve):
            first = rows[-1]
    if first is None:
        print(f"no checkpoint has every seed's W_U FVE in [{args.low}, {args.high}]")
    else:
        print(
            f"every seed in [{args.low}, {args.high}] first at epoch {first['epoch']} "
            f"(~{first['minutes']} min of the run's {wall / 60:.1f} min)"
        )


if __name__ == "__main__":
    main()
