"""Irreps and character tables, checked against theorems and published facts, not our output."""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from algolens.errors import SizeLimitError, SpecError
from algolens.groups import direct_product, parse_group
from algolens.groups import reps as reps_module
from algolens.groups.characters import orthogonality_errors
from algolens.groups.reps import (
    character_table,
    fve,
    irreps,
    irreps_rows,
    irreps_summary,
    rho_basis,
)
from algolens.groups.young import hook_length_dimension, partitions

TOL = 1e-9

SMALL = ["C1", "C2", "C7", "C12", "D4", "D5", "S3", "A4", "S4", "Q8", "S3xC2", "Q8xC3", "C2xC2xC2"]
MEDIUM = ["A5", "S5", "D59", "C113", "Q8xS3"]


def complex_degrees(g) -> list[int]:
    return sorted(r.complex_degree for r in irreps(g) for _ in range(len(r.characters)))


def assert_irreps_valid(g, reps=None) -> None:
    """Every theorem-level property of a complete set of real irreps."""
    reps = irreps(g) if reps is None else reps
    n = g.order
    degrees = [r.complex_degree for r in reps for _ in range(len(r.characters))]
    assert len(degrees) == g.n_classes  # #irreducible complex characters = #classes
    assert sum(d * d for d in degrees) == n  # Σ d² = |G|
    reps_cls = np.array(g.class_representatives)
    sizes = np.array(g.class_sizes)
    for r in reps:
        assert r.matrices.shape == (n, r.real_dim, r.real_dim)
        assert r.real_dim == r.complex_degree * (1 if r.indicator == 1 else 2)
        assert r.hom_error(g, budget=1e8 if g.order <= 200 else 2e6) < TOL, r.label
        assert r.orth_error() < TOL, r.label
        assert np.abs(r.matrices[g.identity] - np.eye(r.real_dim)).max() < TOL
        # trace of the matrices = the stated real character
        traces = np.trace(r.matrices, axis1=1, axis2=2)
        assert np.abs(traces[reps_cls] - r.real_character).max() < TOL
        # real irreducibility: <χ_R, χ_R> = dim End_G(ρ) = 1, 2, 4 for ν = 1, 0, -1
        assert np.sum(traces**2) / n == pytest.approx(r.endomorphism_dim, abs=1e-8)
        for chi in r.characters:  # complex irreducibility: Σ |χ(g)|² = |G|
            assert np.sum(sizes * np.abs(chi) ** 2) == pytest.approx(n, rel=1e-9)
            # Frobenius–Schur indicator from the definition, with g² taken in the table
            sq = g.class_of[g.table[np.arange(n), np.arange(n)]]
            assert np.sum(chi[sq]).real / n == pytest.approx(r.indicator, abs=1e-8)
    errs = character_table(g).check()
    assert errs["row"] < TOL and errs["column"] < TOL and errs["square"] == 0.0


@pytest.mark.parametrize("spec", SMALL + MEDIUM, ids=lambda s: s)
def test_irreps_satisfy_the_theorems(spec):
    assert_irreps_valid(parse_group(spec))


@pytest.mark.parametrize("spec", ["S4", "S5", "S6"], ids=lambda s: s)
def test_general_path_on_symmetric_groups(spec):
    g = parse_group(spec)
    assert_irreps_valid(g, irreps(g, "general"))


def test_order_960_group_general_path():
    g = parse_group("Q8xS5")
    assert_irreps_valid(g)


@pytest.mark.parametrize(
    ("spec", "degrees"),
    [
        ("S3", [1, 1, 2]),
        ("S4", [1, 1, 2, 3, 3]),
        ("A4", [1, 1, 1, 3]),
        ("A5", [1, 3, 3, 4, 5]),
        ("S5", [1, 1, 4, 4, 5, 5, 6]),
        ("S6", [1, 1, 5, 5, 5, 5, 9, 9, 10, 10, 16]),
        ("Q8", [1, 1, 1, 1, 2]),
        ("D4", [1, 1, 1, 1, 2]),
        ("D5", [1, 1, 2, 2]),
        ("C7", [1] * 7),
        ("C12", [1] * 12),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_known_character_degrees(spec, degrees):
    g = parse_group(spec)
    assert complex_degrees(g) == degrees
    assert irreps_summary(g)["character_degrees"] == degrees


def test_a5_three_dimensional_irreps_are_real_with_golden_ratio_characters():
    g = parse_group("A5")
    three = [r for r in irreps(g) if r.complex_degree == 3]
    assert len(three) == 2 and all(r.indicator == 1 and r.real_dim == 3 for r in three)
    five_cycles = [k for k, x in enumerate(g.class_representatives) if g.element_orders[x] == 5]
    phi = (1 + 5**0.5) / 2
    for r in three:
        assert sorted(r.real_character[five_cycles]) == pytest.approx(sorted([phi, 1 - phi]))


def test_q8_has_four_linear_and_one_quaternionic():
    reps = irreps(parse_group("Q8"))
    assert [(r.real_dim, r.complex_degree, r.indicator) for r in reps] == [(1, 1, 1)] * 4 + [
        (4, 2, -1)
    ]


@pytest.mark.parametrize("n", [5, 6, 7, 12], ids=lambda n: f"C{n}")
def test_cyclic_groups_have_n_linear_characters_and_frequency_labels(n):
    g = parse_group(f"C{n}")
    reps = irreps(g)
    assert complex_degrees(g) == [1] * n
    labels = [r.label for r in reps]
    expected = ["trivial"] + ([f"freq-{n // 2}"] if n % 2 == 0 else [])
    expected += [f"freq-{k}" for k in range(1, (n + 1) // 2)]
    assert labels == expected
    for r in reps[1:]:  # freq-k: ρ(1) is the rotation by 2πk/n (or -1 for k = n/2)
        k = r.frequency
        assert r.real_character[g.class_of[1]] == pytest.approx(
            2 * np.cos(2 * np.pi * k / n) if r.real_dim == 2 else np.cos(np.pi)
        )


@pytest.mark.parametrize("m", [3, 4, 5, 6, 59], ids=lambda m: f"D{m}")
def test_dihedral_labels(m):
    g = parse_group(f"D{m}")
    labels = [r.label for r in irreps(g)]
    ones = ["trivial", "sign"] + (["alt", "alt⊗sign"] if m % 2 == 0 else [])
    assert labels == ones + [f"2d-{k}" for k in range(1, (m + 1) // 2)]
    r = g.closure([1])  # element 1 is the rotation r^1 in the catalog's numbering
    assert r.sum() == m
    for rep in irreps(g)[len(ones) :]:
        k = int(rep.label.split("-")[1])
        assert rep.real_character[g.class_of[1]] == pytest.approx(2 * np.cos(2 * np.pi * k / m))


@pytest.mark.parametrize("m", [2, 3, 4, 5, 6], ids=lambda m: f"S{m}")
def test_symmetric_group_labels_and_hook_lengths(m):
    g = parse_group(f"S{m}")
    for method in ("young", "general"):
        reps = irreps(g, method)
        assert sorted(r.partition for r in reps) == sorted(partitions(m))
        for r in reps:
            assert r.real_dim == hook_length_dimension(r.partition) and r.indicator == 1
        by_label = {r.label: r for r in reps}
        assert by_label["trivial"].partition == (m,)
        assert by_label["sign"].partition == (1,) * m
        if m >= 3:
            assert by_label["standard"].partition == (m - 1, 1)
        if m >= 4:
            assert by_label["standard⊗sign"].partition == (2,) + (1,) * (m - 2)
        # sign representation = parity of the permutation
        perms = g.perms
        inversions = (perms[:, :, None] > perms[:, None, :]) & np.triu(np.ones((m, m), bool), 1)
        parity = (-1.0) ** inversions.sum(axis=(1, 2))
        assert np.array_equal(by_label["sign"].matrices[:, 0, 0], parity)


def test_hook_length_formula_known_values():
    assert [hook_length_dimension(lam) for lam in partitions(4)] == [1, 3, 2, 3, 1]
    assert hook_length_dimension((3, 2, 1)) == 16
    assert sum(hook_length_dimension(lam) ** 2 for lam in partitions(7)) == factorial(7)


@pytest.mark.parametrize("spec", ["S3", "S4", "S5"], ids=lambda s: s)
def test_young_form_matches_general_path(spec):
    g = parse_group(spec)
    young, general = irreps(g, "young"), irreps(g, "general")
    assert [r.label for r in young] == [r.label for r in general]
    for a, b in zip(young, general):
        assert a.partition == b.partition
        assert np.abs(a.characters - b.characters).max() < TOL
        assert np.abs(a.real_character - b.real_character).max() < TOL
    assert_irreps_valid(g, young)


def test_generic_labels_are_dimension_letter():
    assert [r.label for r in irreps(parse_group("A5"))] == [
        "trivial",
        "3d-a",
        "3d-b",
        "4d-a",
        "5d-a",
    ]


def test_labels_and_characters_are_deterministic():
    a, b = irreps(parse_group("Q8xC3")), irreps(parse_group("Q8xC3"))  # two group objects
    assert [r.label for r in a] == [r.label for r in b]
    for x, y in zip(a, b):
        assert np.array_equal(x.characters, y.characters)
    dims = [r.real_dim for r in a]
    assert dims == sorted(dims)


def test_irreps_are_cached_on_the_group():
    g = parse_group("S4")
    assert irreps(g) is irreps(g)
    assert irreps(g, "general") is irreps(g, "general")
    assert not hasattr(type(g), "irreps")


def test_character_table_rows_pair_conjugates():
    g = parse_group("C5")
    table = character_table(g)
    assert table.labels == ["trivial", "freq-1", "freq-1*", "freq-2", "freq-2*"]
    assert np.allclose(table.values[2], table.values[1].conj())
    assert table.values[1, g.class_of[1]].imag > 0


def test_orthogonality_check_detects_a_broken_table():
    table = character_table(parse_group("S4"))
    broken = table.values.copy()
    broken[2, 1] += 0.5
    assert orthogonality_errors(broken, table.class_sizes)["row"] > 1e-3
    missing = orthogonality_errors(table.values[:-1], table.class_sizes)
    assert missing["square"] == 1.0


def test_rows_and_summary_for_the_cli():
    g = parse_group("Q8")
    rows = irreps_rows(g)
    assert [set(r) for r in rows] == [
        {"label", "real_dim", "complex_degree", "indicator", "hom_error", "orth_error"}
    ] * 5
    assert all(r["hom_error"] < TOL and r["orth_error"] < TOL for r in rows)
    summary = irreps_summary(g)
    assert summary["irreps"][-1] == {
        "label": "4d-a",
        "real_dim": 4,
        "complex_degree": 2,
        "indicator": -1,
    }


def test_errors_are_typed(monkeypatch):
    g = parse_group("S3xC2")
    with pytest.raises(SpecError, match="unknown irreps method"):
        irreps(g, "fast")
    with pytest.raises(SpecError, match="symmetric group"):
        irreps(g, "young")
    monkeypatch.setattr(reps_module, "MAX_IRREPS_ORDER", 10)
    with pytest.raises(SizeLimitError, match="MAX_IRREPS_ORDER"):
        irreps(parse_group("S3xC2"))


@pytest.mark.parametrize("spec", ["S4", "Q8", "C6", "Q8xC3", "A5"], ids=lambda s: s)
def test_rho_basis_is_orthonormal_and_complete(spec):
    g = parse_group(spec)
    bases = [rho_basis(r) for r in irreps(g)]
    for r, q in zip(irreps(g), bases):
        assert q.shape == (g.order, round(r.real_dim**2 / r.endomorphism_dim))
    full = np.concatenate(bases, axis=1)
    assert full.shape == (g.order, g.order)  # Peter–Weyl: the entries span all functions
    assert np.abs(full.T @ full - np.eye(g.order)).max() < TOL
    rep = irreps(g)[-1]
    e = rep.matrices[:, :, 0]  # [|G|, d] a function made of ρ's entries
    assert fve(rho_basis(rep), e) == pytest.approx(1.0)
    assert fve(rho_basis(irreps(g)[0]), e) == pytest.approx(0.0, abs=1e-12)


# (degree, Frobenius–Schur indicator) of every complex irreducible character, from the
# literature (cyclic: n linear characters, real only for χ = ±1 on the generator).
FACTOR_FACTS = {
    "C2": [(1, 1)] * 2,
    "C3": [(1, 1)] + [(1, 0)] * 2,
    "C4": [(1, 1)] * 2 + [(1, 0)] * 2,
    "C5": [(1, 1)] + [(1, 0)] * 4,
    "S3": [(1, 1), (1, 1), (2, 1)],
    "Q8": [(1, 1)] * 4 + [(2, -1)],
    "D4": [(1, 1)] * 4 + [(2, 1)],
}


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(st.lists(st.sampled_from(sorted(FACTOR_FACTS)), min_size=2, max_size=3))
def test_random_direct_products(factors):
    assume(np.prod([len(FACTOR_FACTS[f]) for f in factors]) <= 64)  # #classes, keeps it fast
    g = direct_product(*(parse_group(f) for f in factors))
    assert_irreps_valid(g)
    # irreducible characters of a direct product: products of the factors' characters, with
    # degrees and Frobenius–Schur indicators multiplying
    expected = [(1, 1)]
    for f in factors:
        expected = [(d1 * d2, i1 * i2) for d1, i1 in expected for d2, i2 in FACTOR_FACTS[f]]
    got = [(r.complex_degree, r.indicator) for r in irreps(g) for _ in range(len(r.characters))]
    assert sorted(got) == sorted(expected)


def test_identity_need_not_be_element_zero():
    """GAP tables put the identity anywhere; relabel Q8xC3 so it is the last element."""
    from algolens.groups import FiniteGroup

    base = parse_group("Q8xC3")
    n = base.order
    perm = np.random.default_rng(5).permutation(n)  # new label of old element i is perm[i]
    perm[[np.flatnonzero(perm == n - 1)[0], base.identity]] = perm[
        [base.identity, np.flatnonzero(perm == n - 1)[0]]
    ]
    table = np.empty_like(base.table)
    table[perm[:, None], perm[None, :]] = perm[base.table]
    g = FiniteGroup(table, name="relabelled")
    assert g.identity == n - 1 and g.class_of[g.identity] == 0  # identity class comes first
    assert_irreps_valid(g)
    assert complex_degrees(g) == complex_degrees(base)


@pytest.mark.parametrize("spec", ["Q8", "C5", "S4", "Q8xC3"], ids=lambda s: s)
def test_frobenius_schur_helper_matches_the_table(spec):
    from algolens.groups.characters import frobenius_schur

    g = parse_group(spec)
    table = character_table(g)
    assert frobenius_schur(g, table.values).tolist() == table.indicators.tolist()


def _libraries_bundling_openblas() -> list[str]:
    """numpy and scipy builds whose own configuration names OpenBLAS as their BLAS."""
    import numpy
    import scipy

    found = []
    for lib in (numpy, scipy):
        config = lib.show_config(mode="dicts")
        if "openblas" in config["Build Dependencies"]["blas"]["name"].lower():
            found.append(lib.__name__)
    return found


def test_blas_threads_context_sets_and_restores_the_thread_count():
    from algolens.groups._blas import _openblas_handles, blas_threads

    bundled = _libraries_bundling_openblas()
    if not bundled:
        pytest.skip("numpy and scipy here are built without OpenBLAS (blas_threads does nothing)")
    handles = _openblas_handles()
    # numpy and scipy each load their own OpenBLAS copy; every copy must be found and set
    assert len(handles) >= len(bundled), f"OpenBLAS of {bundled} not found in /proc/self/maps"
    before = [get() for _, get in handles]
    for n in (1, 2):
        with blas_threads(n):
            assert [get() for _, get in handles] == [n] * len(handles)
        assert [get() for _, get in handles] == before
