"""Finite groups: Cayley tables, constructors and specs, classes, subgroups, cosets, irreps."""

from algolens.groups.catalog import (
    alternating,
    cyclic,
    dihedral,
    direct_product,
    export_table,
    load_table_file,
    parse_group,
    permutation_group,
    quaternion,
    symmetric,
)
from algolens.groups.group import MAX_ORDER, FiniteGroup
from algolens.groups.reps import Irrep, character_table, irreps, rho_basis

__all__ = [
    "MAX_ORDER",
    "FiniteGroup",
    "Irrep",
    "character_table",
    "irreps",
    "rho_basis",
    "alternating",
    "cyclic",
    "dihedral",
    "direct_product",
    "export_table",
    "load_table_file",
    "parse_group",
    "permutation_group",
    "quaternion",
    "symmetric",
]
