"""`algolens group spectra GROUP`: Fourier spectra of the subgroup indicators of a group."""

from __future__ import annotations

from algolens.cli.group import Json, MaxSubgroups, Spec, group_app, lattice_of
from algolens.cli.output import print_json, print_table, status
from algolens.groups import parse_group
from algolens.groups.subgroups import MAX_SUBGROUPS


@group_app.command("spectra")
def spectra(spec: Spec, json: Json = False, max_subgroups: MaxSubgroups = MAX_SUBGROUPS) -> None:
    """Share of each irrep in the power of every subgroup class's centred indicator.

    One row per conjugacy class of subgroups (a representative's indicator 1_H − |H|/|G|;
    conjugates have the same spectrum). Shares sum to 1; irreps with no power are left out; the
    whole group has an empty spectrum. Stander et al. (2024), Table 5, for any group. Stops with
    an error past --max-subgroups subgroups.
    """
    from algolens.groups.spectra import indicator_spectra

    g = parse_group(spec)
    lattice_of(g, max_subgroups)  # cached on g for indicator_spectra
    with status(f"subgroups and irreps of {g.name}"):
        rows = indicator_spectra(g)
    if json:
        print_json({"name": g.name, "order": g.order, "classes": [r.to_dict() for r in rows]})
        return
    print_table(
        f"{g.name}: spectra of the centred indicators of {len(rows)} subgroup classes",
        ["class", "order", "size", "label", "irrep shares"],
        [
            [r.class_index, r.order, r.class_size, r.label,
             ", ".join(f"{lab} {s:.1%}" for lab, s in r.shares.items()) or "(zero)"]
            for r in rows
        ],
    )  # fmt: skip
