"""User functions from FILE.py:NAME: loading, kinds, time limits, wrong answers, one-line errors;
stored datasets that are read back without running anything."""

from __future__ import annotations

import json
import signal
import textwrap

import pytest

from algolens.errors import CheckpointError, SizeLimitError, SpecError
from algolens.tasks.recursion import FUNCTIONS, from_int, to_int
from algolens.tasks.recursion.dataset import build_dataset, load_dataset, save_dataset
from algolens.tasks.recursion.functions import inorder, mirror
from algolens.tasks.recursion.sampling import Sampling
from algolens.tasks.recursion.splits import SplitSpec
from algolens.tasks.recursion.tokens import parse
from algolens.tasks.recursion.user import UserFunctionError, call_all, resolve_function

HEADER = "from algolens.tasks.recursion import B0, B1, Z, Bin, Leaf, Node, Tree\n"
SPEC = SplitSpec(Sampling(1, 4), n_train=20, n_test=8, n_ood=6, ood_max_size=6)


def write(tmp_path, body: str, name: str = "f.py"):
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text
    return text


@pytest.fixture(autouse=True)
def no_alarm_left():
    before = signal.getsignal(signal.SIGALRM)
    yield
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


def test_double_by_pattern_matching(tmp_path):
    path = write(
        tmp_path,
        """
        def double(n: Bin) -> Bin:
            match n:
                case Z():
                    return Z()
                case _:
                    return B0(n)
        """,
    )
    f = resolve_function(f"{path}:double")
    assert (f.arg_kinds, f.out_kind) == (("bin",), "bin")
    inputs = [(from_int(v),) for v in range(20)]
    answers, kind = call_all(f, inputs)
    assert kind == "bin" and [to_int(a) for a in answers] == [2 * v for v in range(20)]


def test_kinds_from_annotations_or_first_answer(tmp_path):
    path = write(
        tmp_path,
        """
        def flip(t: Tree) -> Tree:
            match t:
                case Leaf():
                    return Leaf()
                case Node(x, l, r):
                    return Node(x, flip(r), flip(l))

        def walk(t: Tree):
            match t:
                case Leaf():
                    return []
                case Node(x, l, r):
                    return walk(l) + [x] + walk(r)

        def labels(t: Tree) -> list[int]:
            return walk(t)

        def plus(a, b):
            return a
        """,
    )
    flip = resolve_function(f"{path}:flip")
    assert (flip.arg_kinds, flip.out_kind) == (("tree",), "tree")
    walk = resolve_function(f"{path}:walk")
    assert walk.out_kind is None
    assert resolve_function(f"{path}:labels").out_kind == "labels"
    assert resolve_function(f"{path}:plus").arg_kinds == ("bin", "bin")
    ds = build_dataset(walk, SPEC, seed=1)
    assert ds.out_kind == "labels" and ds.arg_kinds == ("tree",)
    for x, a in zip(ds.splits["train"].inputs, ds.splits["train"].answers):
        (t,) = parse(x, ("tree",))
        assert parse(a, ("labels",)) == (inorder(t),)
    ds = build_dataset(flip, SPEC, seed=1)
    for x, a in zip(ds.splits["test"].inputs, ds.splits["test"].answers):
        assert parse(a, ("tree",)) == (mirror(parse(x, ("tree",))[0]),)


@pytest.mark.parametrize(
    "body, fragment",
    [
        (
            "def f(n):\n    while True:\n        pass\n",
            "f.py:f ran over 0.2 s on input 'B0 Z'",
        ),
        (
            "def f(n):\n    while True:\n        try:\n            pass\n"
            "        except Exception:\n            pass\n",
            "ran over 0.2 s",
        ),
        ("def f(n):\n    return f(n)\n", "raised on input 'B0 Z': RecursionError"),
        ("def f(n):\n    x = 1\n    return 1 // 0\n", "ZeroDivisionError: integer division or"),
        ("def f(n):\n    return 5\n", "returned a wrong value on input 'B0 Z': expected a binary"),
        ("def f(n):\n    return [1, 12]\n", "list of labels holds ints in 0..9, got 12"),
        (
            "def f(n):\n    return n if isinstance(n, B0) else Leaf()\n",
            "returned a tree on input 'B1 Z' where a bin was expected",
        ),
        ("def f(n) -> Tree:\n    return n\n", "returned a bin on input 'B0 Z' where a tree"),
        ("def f(n):\n    raise SystemExit(3)\n", "SystemExit: 3"),
        (
            "def f(n):\n    return [1] * 1025\n",
            "returned 1025 tokens on input 'B0 Z', more than 1024",
        ),
    ],
    ids=[
        "loop",
        "loop-swallowing",
        "recursion",
        "raises",
        "int",
        "label",
        "mixed",
        "declared",
        "exit",
        "huge",
    ],
)
def test_bad_calls_are_one_line(tmp_path, body, fragment):
    f = resolve_function(f"{write(tmp_path, body)}:f")
    with pytest.raises(UserFunctionError) as info:
        call_all(f, [(from_int(0, 1),), (from_int(1),)], limit_s=0.2)
    assert fragment in one_line(info)


def test_raise_names_the_line(tmp_path):
    path = write(tmp_path, "def f(n):\n    return 1 // 0\n")
    f = resolve_function(f"{path}:f")
    with pytest.raises(UserFunctionError, match=r"\(line 3\)"):  # line 1 is the import
        call_all(f, [(from_int(1),)])


@pytest.mark.parametrize(
    "body, name, error, fragment",
    [
        ("while True:\n    pass\n", "f", UserFunctionError, "took over 0.2 s"),
        ("def f(n):\n  return n\n x\n", "f", UserFunctionError, "IndentationError"),
        ("import no_such_module_x\n", "f", UserFunctionError, "ModuleNotFoundError"),
        ("def g(n):\n    return n\n", "f", UserFunctionError, "no function 'f'; its functions: g"),
        ("f = 3\n", "f", UserFunctionError, "no function 'f'"),
        ("def f(*ns):\n    return Z()\n", "f", UserFunctionError, "ns is keyword-only or var"),
        ("def f():\n    return Z()\n", "f", UserFunctionError, "one or more positional"),
        ("def f(n: int):\n    return n\n", "f", UserFunctionError, "annotate Bin or Tree"),
        ("def f(n) -> str:\n    return n\n", "f", UserFunctionError, "Bin, Tree or list[int]"),
    ],
    ids=[
        "module-loop",
        "syntax",
        "import",
        "missing",
        "not-callable",
        "varargs",
        "no-args",
        "arg-hint",
        "return-hint",
    ],
)
def test_bad_files_are_one_line(tmp_path, body, name, error, fragment):
    from algolens.tasks.recursion.user import load_user_function

    with pytest.raises(error) as info:
        load_user_function(write(tmp_path, body), name, limit_s=0.2)
    assert fragment in one_line(info)


def test_bad_specs(tmp_path):
    with pytest.raises(SpecError, match="neither a built-in .*successor.* nor FILE.py:NAME"):
        resolve_function("sucessor")
    with pytest.raises(SpecError, match="FILE.py:NAME"):
        resolve_function(f"{tmp_path}/f.txt:f")
    with pytest.raises(UserFunctionError, match="does not exist"):
        resolve_function(f"{tmp_path}/missing.py:f")
    big = tmp_path / "big.py"
    big.write_text("#" * 1_000_001)
    with pytest.raises(SizeLimitError):
        resolve_function(f"{big}:f")
    assert resolve_function("successor") is FUNCTIONS["successor"]


def test_stored_dataset_is_read_without_running_the_file(tmp_path):
    path = write(
        tmp_path,
        """
        def succ(n: Bin) -> Bin:
            match n:
                case Z():
                    return B1(Z())
                case B0(m):
                    return B1(m)
                case B1(m):
                    return B0(succ(m))
        """,
    )
    f = resolve_function(f"{path}:succ")
    ds = build_dataset(f, SPEC, seed=4)
    save_dataset(ds, tmp_path / "dataset.json")
    path.write_text("raise RuntimeError('must not run')\n")
    back = load_dataset(tmp_path / "dataset.json")  # running the file again would raise
    assert back == ds
    builtin = build_dataset(FUNCTIONS["successor"], SPEC, seed=4)
    assert builtin.splits == ds.splits  # the user's successor agrees with the built-in


def test_datasets_are_seeded():
    a = build_dataset(FUNCTIONS["add"], SPEC, seed=0)
    assert a == build_dataset(FUNCTIONS["add"], SPEC, seed=0)
    assert a.splits["train"] != build_dataset(FUNCTIONS["add"], SPEC, seed=1).splits["train"]
    for x, ans in zip(a.splits["ood"].inputs, a.splits["ood"].answers):
        p, q = parse(x, ("bin", "bin"))
        assert to_int(parse(ans, ("bin",))[0]) == to_int(p) + to_int(q)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda o: o.update(format="other/1"), "not an algolens-recursion-dataset/1"),
        (lambda o: o["splits"]["test"]["answers"].__setitem__(0, "B1 B2 Z"), "example 0"),
        (lambda o: o["splits"]["train"]["inputs"].pop(), "inputs, 20 answers"),
        (lambda o: o.update(out_kind="int"), "bad kinds"),
        (lambda o: o["spec"].update(n_train=-1), "n_train"),
        (lambda o: o.pop("seed"), "seed"),
    ],
    ids=["format", "token", "count", "kind", "spec", "missing"],
)
def test_malformed_dataset_files(tmp_path, edit, fragment):
    save_dataset(build_dataset(FUNCTIONS["successor"], SPEC, seed=0), tmp_path / "d.json")
    obj = json.loads((tmp_path / "d.json").read_text())
    edit(obj)
    (tmp_path / "d.json").write_text(json.dumps(obj))
    with pytest.raises(CheckpointError) as info:
        load_dataset(tmp_path / "d.json")
    assert fragment in one_line(info)


def test_unreadable_dataset(tmp_path):
    (tmp_path / "d.json").write_text("{")
    with pytest.raises(CheckpointError, match="cannot read dataset"):
        load_dataset(tmp_path / "d.json")


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path):
    path = tmp_path / "a\nb.py"
    path.write_text(HEADER + "def f(n: int):\n    return n\n")
    with pytest.raises(UserFunctionError, match=r"annotated <class 'int'>") as info:
        resolve_function(f"{path}:f")
    assert "\n" not in str(info.value) and "\\n" in str(info.value)
