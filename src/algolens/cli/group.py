"""`algolens group ...`: inspect finite groups given by a spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json, print_table
from algolens.groups import FiniteGroup, export_table, parse_group
from algolens.groups.catalog import SPEC_HELP

group_app = typer.Typer(help="Inspect finite groups: structure, subgroups, irreps, export.")
app.add_typer(group_app, name="group")

Spec = Annotated[str, typer.Argument(help=f"Group spec: {SPEC_HELP}.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead.")]


def group_info(g: FiniteGroup) -> dict[str, Any]:
    """The JSON of `algolens group info` (its keys are part of the interface)."""
    lattice = g.subgroup_lattice
    return {
        "name": g.name,
        "order": g.order,
        "n_conjugacy_classes": g.n_classes,
        "class_sizes": sorted(g.class_sizes),
        "abelian": g.is_abelian,
        "exponent": g.exponent,
        "n_subgroups": len(lattice.subgroups),
        "n_subgroup_classes": len(lattice.classes),
    }


@group_app.command("info")
def info(spec: Spec, json: Json = False) -> None:
    """Order, conjugacy classes, exponent and subgroup counts of a group."""
    g = parse_group(spec)
    with console.status(f"enumerating subgroups of {g.name}", spinner="dots"):
        data = group_info(g)
    if json:
        print_json(data)
        return
    rows = [[k, v] for k, v in data.items()]
    print_table(f"group {g.name}", ["property", "value"], rows)


@group_app.command("subgroups")
def subgroups(spec: Spec, json: Json = False) -> None:
    """The conjugacy classes of subgroups: order, class size, label, normality."""
    g = parse_group(spec)
    with console.status(f"enumerating subgroups of {g.name}", spinner="dots"):
        lattice = g.subgroup_lattice
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
    out: Annotated[Path, typer.Argument(help="Destination .json file (written atomically).")],
) -> None:
    """Write the group's Cayley table and labels to a JSON table file."""
    g = parse_group(spec)
    export_table(g, out)
    console.print(f"wrote {g.name} (order {g.order}) to {out}")
