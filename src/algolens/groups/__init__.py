"""Finite groups: Cayley tables, constructors and specs, classes, subgroups, cosets, irreps.

Exports load lazily, so importing one submodule (e.g. :mod:`algolens.groups.subgroups`) does not
pull in the spec parser, GAP or table files.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "MAX_ORDER": "group",
    "FiniteGroup": "group",
    "Irrep": "reps",
    "character_table": "reps",
    "irreps": "reps",
    "rho_basis": "reps",
    "alternating": "named",
    "cyclic": "named",
    "dihedral": "named",
    "direct_product": "named",
    "quaternion": "named",
    "symmetric": "named",
    "export_table": "table_file",
    "load_table_file": "table_file",
    "permutation_group": "permutations",
    "parse_group": "catalog",
}

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
    "quaternion",
    "symmetric",
    "export_table",
    "load_table_file",
    "permutation_group",
    "parse_group",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'algolens.groups' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"algolens.groups.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from algolens.groups.catalog import parse_group
    from algolens.groups.group import MAX_ORDER, FiniteGroup
    from algolens.groups.named import (
        alternating,
        cyclic,
        dihedral,
        direct_product,
        quaternion,
        symmetric,
    )
    from algolens.groups.permutations import permutation_group
    from algolens.groups.reps import Irrep, character_table, irreps, rho_basis
    from algolens.groups.table_file import export_table, load_table_file
