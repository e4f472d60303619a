"""`algolens group ...`: inspect finite groups given by a spec."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from algolens.cli.app import app
from algolens.cli.output import print_json, print_table, print_text, status
from algolens.errors import SizeLimitError
from algolens.groups import FiniteGroup, export_table, parse_group
from algolens.groups.catalog import SPEC_HELP
from algolens.groups.reps import irreps_rows, irreps_summary
from algolens.groups.subgroups import (
    MAX_SUBGROUPS,
    SubgroupLattice,
    count_elementary_abelian_subgroups,
    subgroup_lattice,
)
from algolens.groups.subgroups import (
    Progress as SubgroupProgress,
)
from algolens.groups.table_file import check_export_destination

group_app = typer.Typer(help="Inspect finite groups: structure, subgroups, irreps, export.")
app.add_typer(group_app, name="group")

Spec = Annotated[str, typer.Argument(help=escape(f"Group spec: {SPEC_HELP}."), show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead.")]
MaxSubgroups = Annotated[
    int,
    typer.Option(
        min=1,
        help="Stop with an error once the group has more subgroups than this (enumerating "
        "subgroup-rich groups such as C2^8 takes long); raise it to enumerate them anyway.",
    ),
]


@contextmanager
def subgroup_progress(name: str, limit: int) -> Iterator[SubgroupProgress]:
    """A spinner on stderr counting the subgroups found while the body enumerates them (shown
    on a terminal only, and cleared when done)."""
    err = Console(stderr=True)
    if not err.is_terminal:  # nothing at all on a pipe or file: stderr stays the error line
        yield lambda count: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(escape(f"subgroups of {name}: enumerating"))

        def update(count: int) -> None:
            bar.update(
                task, description=escape(f"subgroups of {name}: {count} found (limit {limit})")
            )

        yield update


def lattice_of(g: FiniteGroup, max_subgroups: int) -> SubgroupLattice:
    """``g``'s subgroup lattice under ``max_subgroups``, with :func:`subgroup_progress`."""
    with subgroup_progress(g.name, max_subgroups) as progress:
        return subgroup_lattice(g, max_subgroups, progress)


def group_info(g: FiniteGroup, max_subgroups: int = MAX_SUBGROUPS) -> dict[str, Any]:
    """The JSON of `algolens group info` (its keys are part of the interface). Elementary abelian
    groups are counted by formula; others enumerated under ``max_subgroups``.

    Raises:
        SizeLimitError: more than ``max_subgroups`` subgroups to enumerate.
    """
    counted = count_elementary_abelian_subgroups(g)
    if counted is None:
        lattice = lattice_of(g, max_subgroups)
        n_subgroups, n_classes = len(lattice.subgroups), len(lattice.classes)
    else:  # abelian: every subgroup is its own conjugacy class
        n_subgroups = n_classes = counted
    return {
        "name": g.name,
        "order": g.order,
        "n_conjugacy_classes": g.n_classes,
        "class_sizes": sorted(g.class_sizes),
        "abelian": g.is_abelian,
        "exponent": g.exponent,
        "n_subgroups": n_subgroups,
        "n_subgroup_classes": n_classes,
        **_irreps_or_why_not(g),
    }


def _irreps_or_why_not(g: FiniteGroup) -> dict[str, Any]:
    """:func:`irreps_summary`, or, for a group past the irreps' size limit, ``None`` for both
    of its fields and ``irreps_not_computed`` saying why (the rest of ``info`` still holds)."""
    try:
        return irreps_summary(g)
    except SizeLimitError as exc:
        return {"character_degrees": None, "irreps": None, "irreps_not_computed": str(exc)}


@group_app.command("info")
def info(spec: Spec, json: Json = False, max_subgroups: MaxSubgroups = MAX_SUBGROUPS) -> None:
    """Order, conjugacy classes, exponent and subgroup counts of a group.

    Subgroups are enumerated (a spinner on stderr counts them) and the command stops with an
    error past --max-subgroups; elementary abelian groups (C2xC2x...) are counted by formula.
    """
    g = parse_group(spec)
    data = group_info(g, max_subgroups)
    if json:
        print_json(data)
        return
    irreps = data["irreps"]
    shown = dict(
        data,
        irreps="not computed"
        if irreps is None
        else ", ".join(f"{r['label']} ({r['real_dim']})" for r in irreps),
    )
    rows = [[k, v] for k, v in shown.items()]
    print_table(f"group {g.name}", ["property", "value"], rows)


@group_app.command("subgroups")
def subgroups(spec: Spec, json: Json = False, max_subgroups: MaxSubgroups = MAX_SUBGROUPS) -> None:
    """The conjugacy classes of subgroups: order, class size, label, normality.

    Stops with an error past --max-subgroups subgroups (a spinner on stderr counts them).
    """
    g = parse_group(spec)
    lattice = lattice_of(g, max_subgroups)
    classes = [
        {
            "index": c.index,
            "order": c.order,
            "class_size": c.size,
            "label": c.label,
            "normal": c.normal,
            "generators": [g.labels[x] for x in lattice.subgroups[c.members[0]].generators],
        }
        for c in lattice.classes
    ]
    if json:
        print_json({"name": g.name, "n_subgroups": len(lattice), "classes": classes})
        return
    rows = [[c["index"], c["order"], c["class_size"], c["label"], c["normal"]] for c in classes]
    title = f"{g.name}: {len(lattice)} subgroups in {len(classes)} conjugacy classes"
    print_table(title, ["class", "order", "size", "label", "normal"], rows)


@group_app.command("export")
def export(
    spec: Spec,
    out: Annotated[
        Path,
        typer.Argument(
            help="Destination file in an existing folder, written atomically: .json (table and "
            "labels) or .csv (n rows of n integers). Symlinks, devices, FIFOs and folders are "
            "refused.",
            show_default=False,
        ),
    ],
    json: Json = False,
) -> None:
    """Write the group's Cayley table (and labels, in JSON) to a .json or .csv table file."""
    check_export_destination(out)  # before a possibly slow group build
    g = parse_group(spec)
    export_table(g, out)
    if json:
        fmt = "json" if out.suffix.lower() == ".json" else "csv"
        print_json({"name": g.name, "order": g.order, "path": str(out), "format": fmt})
        return
    print_text(f"wrote {g.name} (order {g.order}) to {out}")


@group_app.command("irreps")
def irreps_cmd(spec: Spec, json: Json = False) -> None:
    """Every real irreducible representation, with a check of each one.

    Columns: label, real dimension, complex character degree, Frobenius–Schur indicator
    (1 real, 0 complex pair, -1 quaternionic), and the measured errors of the homomorphism
    property max|ρ(ab) − ρ(a)ρ(b)| and of orthogonality max|ρ(a)ρ(a)ᵀ − I|.
    """
    g = parse_group(spec)
    with status(f"building the irreps of {g.name}"):
        rows = irreps_rows(g)
    if json:
        print_json({"name": g.name, "order": g.order, "irreps": rows})
        return
    print_table(
        f"{g.name}: {len(rows)} real irreps",
        ["label", "real dim", "complex degree", "indicator", "hom error", "orth error"],
        [
            [
                r["label"],
                r["real_dim"],
                r["complex_degree"],
                r["indicator"],
                f"{r['hom_error']:.1e}",
                f"{r['orth_error']:.1e}",
            ]
            for r in rows
        ],
    )
