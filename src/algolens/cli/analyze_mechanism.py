"""`algolens analyze RUN --method mechanism`: the path-finding mechanism finder's output."""

from __future__ import annotations

from algolens.cli.analyze_each import Request
from algolens.cli.output import print_text


def mechanism_method(req: Request) -> None:
    """Check every run, then analyse (or reuse) and print each."""
    from algolens.analysis.mechanism_run import check_pathfinding_run, run_mechanism, summary_lines

    outputs = req.each(
        lambda run: check_pathfinding_run(req.store, run, "mechanism", req.instance),
        lambda run_id: run_mechanism(req.store, run_id, force=req.force),
    )
    if outputs is None:
        return
    for out in outputs:
        print_text(f"mechanism: run {out['run']} ({out['nodes']} nodes, {out['n_rows']} test rows)")
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} (seed {inst['seed']}):")
            for line in summary_lines(inst):
                print_text("  " + line)
