"""Indicator spectra against restriction multiplicities from the characters, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algolens.groups import parse_group
from algolens.groups.reps import irreps
from algolens.groups.spectra import indicator_spectra, invariant_irreps


def restriction_shares(g, elements: np.ndarray) -> dict[str, float]:
    """Share of each real irrep: Σ over its complex constituents χ of χ(1)·⟨χ|_H, 1⟩/([G:H]−1).

    ⟨χ|_H, 1⟩ = (1/|H|) Σ_{h∈H} χ(h), straight from the complex character values per class.
    """
    classes = g.class_of[elements]
    index = g.order // len(elements)
    out = {}
    for r in irreps(g):
        mult = r.characters[:, classes].sum(axis=1) / len(elements)  # [m] complex
        deg = r.characters[:, g.class_of[g.identity]].real  # [m] χ(1)
        share = float(np.sum(deg * mult.real)) / (index - 1)
        assert np.allclose(mult.imag, 0) and np.allclose(mult.real, np.round(mult.real))
        if r.label != "trivial" and share > 1e-12:
            out[r.label] = share
    return out


@pytest.mark.parametrize("spec", ["S4", "S5", "A4", "C6", "Q8", "D5", "C3xS3", "C2xC2xC2"])
def test_spectra_equal_restriction_multiplicities(spec):
    g = parse_group(spec)
    lattice = g.subgroup_lattice
    rows = indicator_spectra(g)
    assert [r.class_index for r in rows] == list(range(len(lattice.classes)))
    for row, cls in zip(rows, lattice.classes):
        assert (row.order, row.class_size, row.label) == (cls.order, cls.size, cls.label)
        if cls.order == g.order:
            assert row.shares == {}
            continue
        for member in cls.members:  # every conjugate has the same multiplicities
            want = restriction_shares(g, lattice.subgroups[member].elements)
            assert row.shares.keys() == want.keys(), (row.label, member)
            for lab, s in want.items():
                assert row.shares[lab] == pytest.approx(s, abs=1e-9)
        assert sum(row.shares.values()) == pytest.approx(1.0)


def test_stander_table_5_for_s5():
    g = parse_group("S5")
    by_label = {r.label: r for r in indicator_spectra(g)}  # these four labels are unique
    part = {r.label: r.partition for r in irreps(g)}
    as_partitions = {
        label: {part[lab]: round(s, 3) for lab, s in by_label[label].shares.items()}
        for label in ("S4", "A5", "order-20", "D6")
    }
    assert as_partitions == {
        "S4": {(4, 1): 1.0},
        "A5": {(1, 1, 1, 1, 1): 1.0},
        "order-20": {(2, 2, 1): 1.0},  # F20
        "D6": {(3, 2): 0.556, (4, 1): 0.444},  # S3×S2
    }


@pytest.mark.parametrize("spec", ["S4", "Q8", "C6"])
def test_invariant_irreps_are_the_indicator_support_plus_trivial(spec):
    g = parse_group(spec)
    lattice = g.subgroup_lattice
    labels = [r.label for r in irreps(g)]
    for row in indicator_spectra(g):
        if row.order == g.order:
            continue
        h = lattice.classes[row.class_index].members[0]
        got = {labels[i] for i in invariant_irreps(g, h)}
        assert got == {"trivial", *row.shares}


def test_cli_json_and_table(run_cli):
    code, out, err = run_cli("group", "spectra", "S4", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["name"] == "S4" and len(data["classes"]) == 11
    assert set(data["classes"][0]) == {"class", "order", "class_size", "label", "shares"}
    a4 = [c for c in data["classes"] if c["order"] == 12][0]
    assert a4["shares"] == {"sign": pytest.approx(1.0)}
    code, out, err = run_cli("group", "spectra", "S4")
    assert code == 0 and "standard 100.0%" in out  # the D3 = S3 row


def test_cli_bad_group_is_one_line(run_cli):
    code, out, err = run_cli("group", "spectra", "S9")
    assert code == 2 and len(err.strip().splitlines()) == 1 and out == ""
