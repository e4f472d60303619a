"""Cost of the causal toolkit at the size of Brinkmann et al.'s model, one instance.

The paper's architecture (6 layers, 1 head, d_model 128, d_head 128, d_mlp 512, GELU,
LayerNorm; 16 nodes: 35 tokens, rows of 63) with random weights (the cost does not depend on
training) on path-finding rows from the task's generator, exactly as ``algolens analyze RUN
--method probes|patching|lens|scrub`` runs them per instance (``n`` fit and ``n`` test rows; the
per-task data of :mod:`algolens.analysis.causal.run`). Prints wall and process CPU seconds per
method and the load average before and after (the machine may be shared).

Usage: OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/bench_causal.py [--n 300]
       [--nodes 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from algolens.analysis.causal.run import RunData, instance_result, token_hypotheses
from algolens.analysis.pathfinding.mechanism_features import pathfinding_examples
from algolens.models.transformer import Transformer, TransformerConfig
from algolens.tasks.pathfinding.dataset import build_dataset
from algolens.tasks.pathfinding.settings import PathfindingArgs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="fit rows (and as many test rows)")
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ds = build_dataset(PathfindingArgs(nodes=a.nodes, n_examples=2 * a.n, test_frac=0.5))
    v = ds.vocab
    cfg = TransformerConfig(
        d_vocab=len(v), d_vocab_out=len(v), n_ctx=v.width - 1, n_layers=6, n_heads=1,
        d_model=128, d_head=128, d_mlp=512, act="gelu", layernorm=True,
    )  # fmt: skip
    model = Transformer(cfg).eval()
    ex = pathfinding_examples(ds.tokens, v)
    ex = type(ex)(ex.tokens, ex.targets, ex.mask, {**ex.features, "token": ex.tokens.numpy()})
    half = torch.arange(a.n).numpy()
    targets = [v.edge_positions(i)[1] for i in range(v.n_nodes - 1)]
    data = RunData(
        ex.subset(half),
        ex.subset(half + a.n),
        [("edge_source", targets), ("anc1", [v.root_pos])],
        "",
    )
    print(f"{platform.processor() or platform.machine()}, torch threads {a.threads}, "
          f"{a.nodes} nodes, {a.n} fit + {a.n} test rows of {v.width - 1} tokens")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for method in ("probes", "patching", "lens", "scrub"):
        wall, cpu = time.perf_counter(), time.process_time()
        instance_result(method, model, data, [], n_patch=32, seed=0)
        print(f"{method:9s} wall {time.perf_counter() - wall:7.1f} s   "
              f"cpu {time.process_time() - cpu:7.1f} s")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"(scrub: {len(token_hypotheses(model))} per-layer hypotheses)")


if __name__ == "__main__":
    main()
