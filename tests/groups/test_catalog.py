"""Group specs, constructors and table files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algolens.errors import ExternalToolError, SizeLimitError, SpecError, TableError
from algolens.groups import export_table, load_table_file, parse_group
from tests.groups.reference import gap_eval, require_gap


@pytest.mark.parametrize(
    ("spec", "order"),
    [
        ("C113", 113),
        ("D59", 118),
        ("D61", 122),
        ("S5", 120),
        ("A5", 60),
        ("S6", 720),
        ("Q8", 8),
        ("S3xC2", 12),
        ("C2xC2xC2", 8),
        ("perm:(0 1 2 3 4),(0 1)", 120),
        ("perm:(0 1)(2 3)", 2),
    ],
)
def test_spec_orders(spec, order):
    assert parse_group(spec).order == order


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("X5", SpecError),
        ("S", SpecError),
        ("S8", SizeLimitError),
        ("C0", SpecError),
        ("S3x", SpecError),
        ("perm:(0 1", SpecError),
        ("perm:(0 1)(1 2)", SpecError),
        ("missing.json", SpecError),
    ],
)
def test_bad_specs(spec, error):
    with pytest.raises(error) as info:
        parse_group(spec)
    assert "\n" not in str(info.value)


def test_gap_missing_names_the_package(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ExternalToolError, match="apt-get install gap"):
        parse_group("gap:SmallGroup(24,12)")


def test_export_roundtrip(tmp_path):
    g = parse_group("S4")
    path = tmp_path / "s4.json"
    export_table(g, path)
    h = load_table_file(path)
    assert (h.table == g.table).all() and h.labels == g.labels
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind


def test_csv_table(tmp_path):
    path = tmp_path / "c3.csv"
    path.write_text("0,1,2\n1,2,0\n2,0,1\n")
    assert parse_group(str(path)).order == 3


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("bad.json", "{not json", "malformed JSON"),
        ("nokey.json", json.dumps({"rows": []}), 'key "table"'),
        ("nonint.json", json.dumps({"table": [[0, "a"], [1, 0]]}), "integers"),
        ("ragged.json", json.dumps({"table": [[0, 1], [1]]}), "not square"),
        ("bad.csv", "0,1\n1,x\n", "malformed CSV"),
        ("range.csv", "0,1\n1,5\n", "out of range"),
        ("labels.json", json.dumps({"table": [[0, 1], [1, 0]], "labels": ["e"]}), "labels"),
    ],
)
def test_bad_table_files(tmp_path, name, content, pattern):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TableError, match=pattern):
        parse_group(str(path))


def test_dihedral_relations():
    g = parse_group("D5")  # r = element 1, s = element 5
    r, s = 1, 5
    assert g.element_orders[r] == 5 and g.element_orders[s] == 2
    assert g.mul(g.mul(s, r), s) == g.inv(r)  # s r s = r^-1


def test_perm_spec_matches_symmetric():
    a = parse_group("perm:(0 1 2 3),(0 1)")
    b = parse_group("S4")
    assert a.order == b.order and (a.table == b.table).all()


def test_gap_import_smallgroup():
    require_gap()
    g = parse_group("gap:SmallGroup(24,12)")  # S4
    assert g.order == 24 and sorted(g.class_sizes) == [1, 3, 6, 6, 8]
    assert np.isin(g.element_orders, [1, 2, 3, 4]).all()


@pytest.mark.parametrize(
    "expr",
    [
        "SmallGroup(16,3)",
        "SmallGroup(24,3)",
        "SmallGroup(32,49)",
        "SmallGroup(36,9)",
        "SmallGroup(48,29)",
        "PSL(2,7)",
    ],
)
def test_gap_oracle_classes_and_subgroups(expr):
    """Our classes and subgroup lattice against GAP's own algorithms on the same group."""
    require_gap()
    g = parse_group(f"gap:{expr}")
    ccs = f"ConjugacyClassesSubgroups({expr})"
    answer = gap_eval(
        f"[SortedList(List(ConjugacyClasses({expr}), Size)), Sum(List({ccs}, Size)), Length({ccs})]"
    )
    sizes, n_subgroups, n_classes = json.loads(answer.replace(" ", "").replace("\\\n", ""))
    assert sorted(g.class_sizes) == sizes
    lat = g.subgroup_lattice
    assert (len(lat.subgroups), len(lat.classes)) == (n_subgroups, n_classes)


def test_require_gap_fails_under_ci_and_skips_otherwise(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_gap()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_gap()


# -- a built-in name always wins over a file of that name -----------------------------------------


def test_builtin_names_win_over_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("S5", "C2xC2", "Q8"):
        (tmp_path / name).write_text("0\n")  # the trivial group, as CSV
    assert parse_group("S5").order == 120
    assert parse_group("C2xC2").order == 4
    assert parse_group("Q8").order == 8
    assert parse_group("./S5").order == 1  # a path separator makes it a file
    assert parse_group(str(tmp_path / "Q8")).order == 1


def test_suffix_makes_a_file_in_any_case(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "T.CSV").write_text("0,1\n1,0\n")
    assert parse_group("T.CSV").order == 2
    with pytest.raises(SpecError, match="does not exist"):
        parse_group("S5.Json")


# -- perm: specs -------------------------------------------------------------------------------


def test_perm_on_fifteen_points_is_c15():
    g = parse_group("perm:(" + " ".join(map(str, range(15))) + ")")
    assert g.order == 15 and g.is_abelian and 15 in g.element_orders


@pytest.mark.parametrize(
    "cycles",
    [
        ["(36 37 38 39)(0 20 30)", "(36 37)"],
        ["(0 40)(1 39)(2 38)", "(0 1 2)(40 39 38)", "(5 17)"],
        [
            "(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19)",
            "(1 19)(2 18)(3 17)(4 16)(5 15)(6 14)(7 13)(8 12)(9 11)(25 33)",
        ],
    ],
    ids=["S4xC3-on-40", "with-fixed-points", "D20-on-34"],
)
def test_large_degree_perm_group_matches_brute_force(cycles):
    from tests.groups.reference import naive_permutation_group

    spec = "perm:" + ",".join(cycles)
    g = parse_group(spec)
    d = g.perms.shape[1]
    gens = []
    for c in cycles:  # the generators as image lists, parsed independently
        p = list(range(d))
        for cyc in c.strip("()").split(")("):
            pts = [int(x) for x in cyc.split()]
            for a, b in zip(pts, pts[1:] + pts[:1]):
                p[a] = b
        gens.append(p)
    elements = naive_permutation_group(gens)
    assert [tuple(p) for p in g.perms.tolist()] == elements
    index = {p: i for i, p in enumerate(elements)}
    expected = [[index[tuple(a[b[i]] for i in range(d))] for b in elements] for a in elements]
    assert g.table.tolist() == expected


@pytest.mark.parametrize("point", ["1024", "99999999999", "9" * 5000])
def test_perm_points_are_bounded(point):
    with pytest.raises(SizeLimitError, match="0..1023") as info:
        parse_group(f"perm:(0 {point})")
    assert "\n" not in str(info.value)


def test_perm_point_with_leading_zeros():
    assert parse_group("perm:(0000 0001 1023)").perms.shape == (3, 1024)


def test_named_spec_with_thousands_of_digits():
    with pytest.raises(SizeLimitError, match="order limit"):
        parse_group("C" + "7" * 5000)


def test_subgroups_import_without_spec_parser_gap_or_table_files():
    """Issue 19: subgroup enumeration needs the named groups only, not the spec language."""
    import subprocess
    import sys

    code = (
        "import sys, algolens.groups.subgroups;"
        "print(sorted(m for m in sys.modules if m.startswith('algolens.groups.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout
    for heavy in ("algolens.groups.catalog", "algolens.groups.gap", "algolens.groups.table_file"):
        assert repr(heavy) not in loaded, loaded
