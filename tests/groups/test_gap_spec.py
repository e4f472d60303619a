"""`gap:` specs: the whitelist grammar, regenerated GAP text, and nothing of the user's run."""

from __future__ import annotations

import os
import stat

import pytest

from algolens.errors import SpecError
from algolens.groups import parse_group
from algolens.groups.gap_spec import MAX_GAP_INT, GapCall, parse_gap_spec, to_gap
from tests.groups.reference import require_gap

HOSTILE = {
    "semicolon-exec": 'SmallGroup(4,1);Exec("touch pwned")',
    "newline-exec": 'SmallGroup(4,1)\nExec("touch pwned");',
    "bare-exec": 'Exec("touch pwned")',
    "process": 'Process(DirectoryCurrent(), "touch", InputTextNone(), OutputTextNone(), ["pwned"])',
    "exec-in-product": 'DirectProduct(Exec("touch pwned"), CyclicGroup(2))',
    "quit": "SmallGroup(4,1); QUIT",
    "comment": "SmallGroup(4,1)#x",
    "single-quote": "SmallGroup(4,'1')",
    "double-quote": 'SmallGroup("4",1)',
    "string-in-list": 'AbelianGroup([2,"3"])',
    "unbalanced-open": "SmallGroup((4,1)",
    "unclosed": "SmallGroup(4,1",
    "extra-close": "SmallGroup(4,1))",
    "huge-int": f"SmallGroup({'9' * 30},1)",
    "just-above-limit": f"CyclicGroup({MAX_GAP_INT + 1})",
    "huge-text": "9" * 5000,
    "operator-pow": "SmallGroup(2^2,1)",
    "operator-plus": "SmallGroup(4+0,1)",
    "negative": "SmallGroup(-4,1)",
    "assignment": "G:=SmallGroup(4,1)",
    "not-whitelisted": "Group((1,2))",
    "filter-argument": "CyclicGroup(IsPermGroup,4)",
    "wrong-arity": "SmallGroup(4)",
    "lowercase": "smallgroup(4,1)",
    "one-factor-product": "DirectProduct(CyclicGroup(2))",
    "nul": "SmallGroup(4,1)\x00",
    "tab": "SmallGroup(4,\t1)",
    "unicode-digit": "SmallGroup(\u0663,1)",
    "empty": "",
    "blank": "   ",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_specs_are_refused_in_one_line(text):
    with pytest.raises(SpecError) as info:
        parse_gap_spec(text)
    message = str(info.value)
    assert "\n" not in message and "allowed: SmallGroup(n,k)" in message


@pytest.mark.parametrize(
    ("text", "gap_text"),
    [
        ("SmallGroup(24,12)", "SmallGroup(24,12)"),
        (" SmallGroup( 24 , 12 ) ", "SmallGroup(24,12)"),
        ("DihedralGroup(008)", "DihedralGroup(8)"),
        ("AbelianGroup([ 2, 3 ,4])", "AbelianGroup([2,3,4])"),
        ("DirectProduct(PSL(2,7), CyclicGroup(2))", "DirectProduct(PSL(2,7),CyclicGroup(2))"),
        (
            "DirectProduct(DirectProduct(CyclicGroup(2),CyclicGroup(2)),QuaternionGroup(8))",
            "DirectProduct(DirectProduct(CyclicGroup(2),CyclicGroup(2)),QuaternionGroup(8))",
        ),
    ],
)
def test_gap_text_is_regenerated_canonically(text, gap_text):
    assert to_gap(parse_gap_spec(text)) == gap_text


def test_the_ast_is_what_was_written():
    call = parse_gap_spec("DirectProduct(SmallGroup(8,3), AbelianGroup([2,3]))")
    assert call == GapCall(
        "DirectProduct", (GapCall("SmallGroup", (8, 3)), GapCall("AbelianGroup", ((2, 3),)))
    )


def test_rendering_refuses_names_outside_the_whitelist():
    with pytest.raises(KeyError):
        to_gap(GapCall('Exec("touch pwned")', ()))


# -- nothing reaches GAP but the regenerated text: a fake `gap` records what it is sent ---------


@pytest.fixture
def fake_gap(tmp_path, monkeypatch):
    """A `gap` on PATH that records its stdin and answers with the table of C2."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gap_stdin.txt"
    exe = bin_dir / "gap"
    exe.write_text(
        "#!/bin/sh\n"
        f"cat > '{log}'\n"
        "printf 'ALGOLENS-BEGIN\\n[ 0, 1 ]\\n[ 1, 0 ]\\nALGOLENS-END\\n'\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.chdir(tmp_path)
    return log


def test_fake_gap_receives_only_the_regenerated_expression(fake_gap):
    g = parse_group("gap: SmallGroup( 2 , 1 ) ")
    assert g.order == 2 and g.name == "gap:SmallGroup(2,1)"
    sent = fake_gap.read_text()
    assert "  G := SmallGroup(2,1);\n" in sent
    assert "SmallGroup( 2" not in sent  # the user's text itself never reaches GAP


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_specs_never_start_gap(fake_gap, text):
    with pytest.raises(SpecError):
        parse_group(f"gap:{text}")
    assert not fake_gap.exists()


def test_cli_refuses_the_exec_spec_and_runs_nothing(fake_gap, run_cli, tmp_path):
    code, _, err = run_cli("group", "info", 'gap:SmallGroup(4,1);Exec("touch pwned")')
    assert code == 2 and err.count("\n") == 1 and "allowed:" in err
    assert not fake_gap.exists() and not (tmp_path / "pwned").exists()


# -- with the real GAP --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order", "n_classes"),
    [
        ("DihedralGroup(8)", 8, 5),  # GAP's argument is the order
        ("AbelianGroup([2,3])", 6, 6),
        ("DirectProduct(SmallGroup(8,3),CyclicGroup(3))", 24, 15),  # D8 x C3: 5 * 3 classes
        ("QuaternionGroup(8)", 8, 5),
    ],
)
def test_real_gap_builds_whitelisted_constructors(text, order, n_classes):
    require_gap()
    g = parse_group(f"gap:{text}")
    assert (g.order, g.n_classes) == (order, n_classes)


def test_real_gap_error_is_one_line():
    require_gap()
    with pytest.raises(SpecError) as info:
        parse_group("gap:DihedralGroup(7)")  # GAP needs an even order
    assert "\n" not in str(info.value) and "GAP could not evaluate" in str(info.value)
