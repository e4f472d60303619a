"""`algolens runs list|show|rm|reindex`: browse and delete runs, rebuild the store's index."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from algolens.cli.app import app
from algolens.cli.output import console, print_json, print_table
from algolens.store import STATUSES, RunStore, default_store_root, reindex
from algolens.store.runs import read_only_error
from algolens.train.describe import describe_run
from algolens.train.learned import learned_status

runs_app = typer.Typer(
    help="List, inspect and delete training runs in the run store; rebuild its index.",
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")

StoreOpt = Annotated[
    str | None,  # a string, so that an empty --store is refused rather than read as "."
    typer.Option(
        help="Run store folder (default: $ALGOLENS_STORE, else ./runs).",
        show_default=False,
        metavar="<path>",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

Command = TypeVar("Command", bound=Callable[..., Any])


def writes_to_store(command: Command) -> Command:
    """Decorate a command with a ``store`` option that writes into its store: a write the file
    system refuses there (a read-only store) ends the command with one line (``StoreError``)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OSError as exc:
            store = kwargs.get("store")
            root = Path(store) if store else default_store_root()
            error = read_only_error(root, exc)
            if error is None:
                raise
            raise error from None

    return run  # type: ignore[return-value]


@runs_app.command("list")
def list_runs(
    status: Annotated[
        str | None, typer.Option(help=f"Only runs with this status: {', '.join(STATUSES)}.")
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            help="Only the runs of this sweep: id or unique prefix (see `algolens sweep`)."
        ),
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List runs, oldest first, with status and how many seeds grokked."""
    st = RunStore(store)
    if sweep is not None:
        sweep = st.resolve_sweep(sweep)  # a unique prefix, as for `report --sweep`
    records = st.list(status, sweep)
    if json_out:
        print_json([r.to_dict() for r in records])
        return
    if not records:
        of = f" of sweep {sweep}" if sweep else ""
        console.print(f"no {status + ' ' if status else ''}runs{of} in {st.root}")
        return
    rows = []
    for r in records:
        s = r.summary
        grok = f"{s['n_grokked']}/{len(s['seeds'])}" if "seeds" in s else "-"
        mark = learned_status(s)  # "did not learn" (train/learned.py)
        rows.append(
            [r.id, f"{r.status}, {mark}" if mark else r.status, describe_run(r.config),
             r.config.get("model", "-"),
             len(r.config.get("seeds", [])), s.get("epochs", "-"), grok, r.updated[:19]]
        )  # fmt: skip
    table = Table(title="runs")
    table.add_column("id", no_wrap=True, min_width=max(len(r.id) for r in records))
    for name in ("status", "task", "model", "seeds", "epochs", "grokked", "updated"):
        table.add_column(name)
    for row in rows:
        table.add_row(*(str(x) for x in row))
    console.print(table)


@runs_app.command("show")
def show_run(
    run: Annotated[str, typer.Argument(help="Run id or a unique prefix of one.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a run's config, summary, folder and weights files: every checkpoint (epoch, file)
    and the final weights, each read and its checksum verified (a damaged one is marked; pick
    another with --checkpoint EPOCH in train --resume, analyze, predict and report)."""
    from algolens.train.checkpoint import checkpoint_listing

    st = RunStore(store)
    record = st.get(run)
    paths = st.paths(record.id)
    weights = checkpoint_listing(paths.checkpoints, paths.final)
    if json_out:
        print_json({**record.to_dict(), "path": str(paths.root), "checkpoints": weights})
        return
    console.print(f"[bold]{record.id}[/]  {record.status}  ({record.kind})")
    console.print(f"folder   {st.paths(record.id).root}")
    console.print(f"created  {record.created}   updated {record.updated}")
    if record.sweep is not None:
        console.print(f"sweep    {record.sweep}")
    cfg = ", ".join(f"{k}={v}" for k, v in record.config.items() if v not in (None, {}, []))
    console.print(f"config   {cfg}")
    seeds = record.summary.get("seeds")
    if seeds:
        print_table(
            "seeds",
            ["seed", "grok epoch", "failed", "train acc", "test acc", "test loss"],
            [
                [
                    r.get("seed"),
                    r.get("grok_epoch"),
                    r.get("failed"),
                    f"{r.get('train_acc', 0):.4f}",
                    f"{r.get('test_acc', 0):.4f}",
                    f"{r.get('test_loss', 0):.3g}",
                ]
                for r in seeds
                if isinstance(r, dict)
            ],  # fmt: skip
        )
    if weights:
        print_table(
            "weights (checksums verified now)",
            ["epoch", "file", "checksum"],
            [[w["epoch"], w["file"], "ok" if w["verified"] else "DAMAGED"] for w in weights],
        )


@runs_app.command("rm")
@writes_to_store
def remove_run(
    run: Annotated[str, typer.Argument(help="Run id or a unique prefix of one.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete a run: its folder (checkpoints included) and its index row."""
    st = RunStore(store)
    record = st.get(run)
    if not yes and not _confirm(f"delete run {record.id} and its checkpoints?"):
        print(f"kept run {record.id}: nothing was deleted", file=sys.stderr)
        raise typer.Exit(1)
    removed = st.remove(record.id)
    if json_out:
        print_json({"removed": removed})
    else:
        console.print(f"removed run {removed}")


def _confirm(question: str) -> bool:
    """Ask yes/no on stderr (stdout stays the command's output); Ctrl-C or the end of input count
    as no."""
    try:
        return typer.confirm(question, err=True)
    except typer.Abort:
        return False
    finally:
        if not sys.stdin.isatty():  # a piped answer is not echoed: end the prompt's line
            print(file=sys.stderr)


@runs_app.command("reindex")
@writes_to_store
def reindex_runs(store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Rebuild index.sqlite from the run folders (after the index was lost or corrupted).

    Rows of the old index are kept where it can still be read; other folders get a row from
    their files (status from summary.json, final.safetensors and checkpoints). The new index
    replaces the old one atomically. Run it while no other algolens process uses the store.
    """
    st = RunStore(store)
    result = reindex(st)
    if json_out:
        print_json(result.to_dict())
        return
    console.print(
        f"indexed {len(result.kept) + len(result.recovered)} runs in {st.root}: "
        f"{len(result.kept)} kept from the old index, {len(result.recovered)} recovered from "
        f"their folders; {len(result.dropped)} rows without a folder dropped"
    )
    for name in result.skipped:
        console.print(f"skipped runs/{name}: not a run id, or no readable config.json")
