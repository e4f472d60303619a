"""`algolens analyze RUN --method mechanism`: the path-finding mechanism finder's output."""

from __future__ import annotations

from algolens.cli.analyze_each import analyse_each
from algolens.cli.output import print_text
from algolens.store import RunStore


def mechanism_method(
    st: RunStore, runs: list[str], instance: int | None, force: bool, json: bool
) -> None:
    """Check every run, then analyse (or reuse) and print each."""
    from algolens.analysis.mechanism_run import check_pathfinding_run, run_mechanism, summary_lines

    checked = [check_pathfinding_run(st, run, "mechanism", instance) for run in runs]
    ids = [r for r, _ in checked]
    outputs = analyse_each(
        "mechanism", ids, lambda r: run_mechanism(st, r, force=force), instance, json
    )
    if outputs is None:
        return
    for out in outputs:
        print_text(f"mechanism: run {out['run']} ({out['nodes']} nodes, {out['n_rows']} test rows)")
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} (seed {inst['seed']}):")
            for line in summary_lines(inst):
                print_text("  " + line)
