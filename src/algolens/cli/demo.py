"""`algolens demo`: the main job, as a short list of steps.

Each step is a function taking the shared state dict; later capabilities add steps (training,
analysis, HTML report).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from algolens.cli.app import MAX_THREADS, app
from algolens.cli.group import group_info
from algolens.cli.output import console, print_json, progress_console
from algolens.groups import parse_group
from algolens.train.config import MAX_SEEDS


def step_group(state: dict[str, Any]) -> None:
    """Build S5 from its spec (once: training and the report use this group) and enumerate its
    structure."""
    g = parse_group(state["group"])
    state["group_obj"] = g
    info = group_info(g)
    state["group_info"] = info
    state["say"](
        f"[bold]{escape(g.name)}[/]: order {info['order']}, "
        f"{info['n_conjugacy_classes']} conjugacy classes, "
        f"{info['n_subgroups']} subgroups in {info['n_subgroup_classes']} classes"
    )


def step_train(state: dict[str, Any]) -> None:
    """Grok the group with the fast recipe, a few seeds as one batched model, in the run store."""
    import torch

    from algolens.cli.train_output import print_summary
    from algolens.cli.train_progress import with_progress
    from algolens.store import RunStore
    from algolens.tasks.composition.training import build_task
    from algolens.train import make_config, start_run
    from algolens.train.describe import describe_run

    torch.set_num_threads(state.get("threads", 1))
    cfg = make_config("fast", group=state["group"], seeds=list(range(state["seeds"])))
    store = RunStore(state.get("store"))
    group = state["group_obj"]
    build_task(cfg, group)  # a group too small to split fails here, before the progress bar
    summary = with_progress(
        lambda p: start_run(cfg, store, progress=p, group=group), cfg.epochs, False
    )
    state["run_id"] = summary["run_id"]
    state["train_summary"] = summary
    if not state.get("json"):
        print_summary(summary, describe_run(cfg))


def step_report(state: dict[str, Any]) -> None:
    """Analyse each seed's irreps (Chughtai et al.) and write the run's HTML report (the group
    is read back from the run folder, as for any stored run): the default analyses computed and
    stored first, then rendered."""
    from algolens.analysis.ensure import ensure_defaults
    from algolens.report.composition import composition_report
    from algolens.store import RunStore

    store = RunStore(state.get("store"))
    ensure_defaults(store, state["run_id"])
    path, analyses = composition_report(store, state["run_id"])
    state["analyses"] = [
        {"seed": seed["seed"], "key_irreps": list(a.key), "logit_fve": float(a.logit_fve),
         "weight_fve": {k: float(v) for k, v in a.weight_fve.items()}}
        for seed, a in zip(state["train_summary"]["seeds"], analyses)
    ]  # fmt: skip
    for seed, a in zip(state["train_summary"]["seeds"], analyses):
        state["say"](
            f"seed {seed['seed']}: key irreps {', '.join(a.key) or 'none'}; "
            f"logit FVE {a.logit_fve:.3f}; W_a/W_b/W_U FVE {a.weight_fve['W_a']:.3f}/"
            f"{a.weight_fve['W_b']:.3f}/{a.weight_fve['W_U']:.3f}"
        )
    state["say"](f"[bold]report:[/] {escape(str(path))}")
    state["report"] = str(path)


STEPS = [
    ("group structure", step_group),
    ("training", step_train),
    ("irrep analysis and HTML report", step_report),
]


@app.command("demo")
def demo(
    group: Annotated[str, typer.Option(help="Group to study.")] = "S5",
    seeds: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_SEEDS, help="Seeds to train together (fast recipe): seeds 0..N-1."
        ),
    ] = 4,
    store: Annotated[
        str | None,
        typer.Option(help="Run store (default: $ALGOLENS_STORE, else ./runs).", metavar="<path>"),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_THREADS,
            help="CPU threads for training, at most the CPU count (as `train --threads`; 1 is "
            "fastest on a busy machine).",
        ),
    ] = 1,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (group, run id, training summary, analyses, report "
            "path, step times) on stdout; the steps' lines go to stderr.",
        ),
    ] = False,
) -> None:
    """Run the main job: study a group end to end (groks S5 and analyses it as steps land)."""
    say = progress_console.print if json_out else console.print
    state: dict[str, Any] = {"group": group, "seeds": seeds, "store": store, "threads": threads,
                             "json": json_out, "say": say}  # fmt: skip
    say(escape(f"algolens demo on {group}: ") + ", ".join(name for name, _ in STEPS))
    steps = []
    for name, step in STEPS:
        t0 = time.perf_counter()
        step(state)
        steps.append({"step": name, "seconds": round(time.perf_counter() - t0, 3)})
        say(f"  [green]done[/] {name} in {steps[-1]['seconds']:.1f} s")
    if json_out:
        print_json({
            "group": state["group_info"], "run_id": state["run_id"],
            "train": state["train_summary"], "analyses": state["analyses"],
            "report": state["report"], "steps": steps,
        })  # fmt: skip
