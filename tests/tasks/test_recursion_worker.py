"""User functions run in a worker process: what a hostile file does there (exit, fork, cancel
alarms, spin in C, print) cannot end, duplicate, stall or garble the command that called it."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from algolens.tasks.recursion import from_int, to_int
from algolens.tasks.recursion.dataset import build_dataset
from algolens.tasks.recursion.sampling import Sampling
from algolens.tasks.recursion.splits import SplitSpec
from algolens.tasks.recursion.user import (
    UserFunctionError,
    call_all,
    close_worker,
    load_user_function,
    resolve_function,
)

HEADER = "import os, signal, sys, time, pathlib\nfrom algolens.tasks.recursion import B0, B1, Z\n"
INPUTS = [(from_int(v),) for v in range(4)]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "f.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def load(tmp_path: Path, body: str, name: str = "f"):
    """The function ``name`` of a file holding :data:`HEADER` and ``body``."""
    return resolve_function(f"{write(tmp_path, body)}:{name}")


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie that no one reaps counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_os_exit_in_a_call_is_one_line_naming_the_input(tmp_path):
    f = load(tmp_path, "def f(n):\n    os._exit(0)\n", "f")
    with pytest.raises(UserFunctionError) as info:
        call_all(f, INPUTS)
    text = str(info.value)
    assert "\n" not in text and "f.py:f ended the worker process (exit code 0" in text
    assert "on input 'Z'" in text


def test_os_exit_while_loading_is_one_line(tmp_path):
    with pytest.raises(UserFunctionError, match=r"loading .*f\.py' ended the worker process"):
        load_user_function(write(tmp_path, "os._exit(3)\n"), "f")


def test_fork_returns_once_and_the_fork_dies_with_the_worker(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    body = f"""
        def f(n):
            if os.fork() == 0:
                pathlib.Path({str(pids)!r}, str(os.getpid())).write_text("child")
                time.sleep(60)
            return B0(n)
        """
    me = os.getpid()
    f = load(tmp_path, body)
    answers, _ = call_all(f, INPUTS)
    if os.getpid() != me:  # without the worker the test itself forked: end the copy
        os._exit(1)
    assert [to_int(a) for a in answers] == [0, 2, 4, 6]  # one answer per input, no more
    deadline = time.monotonic() + 5
    while len(list(pids.iterdir())) < len(INPUTS) and time.monotonic() < deadline:
        time.sleep(0.01)
    children = [int(p.name) for p in pids.iterdir()]
    assert len(children) == len(INPUTS) and me not in children
    close_worker()  # the command ends: its worker's process group is killed
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(gone(pid) for pid in children)


@pytest.mark.parametrize(
    "body",
    [
        "def f(n):\n    signal.alarm(0)\n    signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "    end = time.time() + 30\n    while time.time() < end:\n        pass\n    return n\n",
        "def f(n):\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    return Z() if sum(range(10**9)) else n\n",
    ],
    ids=["alarm-cancelled", "c-spin-ignoring-sigterm"],
)
def test_the_limit_holds_whatever_the_function_does(tmp_path, body):
    f = load(tmp_path, body)
    start = time.monotonic()
    with pytest.raises(UserFunctionError, match="f.py:f ran over 0.5 s on input 'Z'"):
        call_all(f, INPUTS, limit_s=0.5)
    assert time.monotonic() - start < 5


def test_the_dataset_limit_holds_too(tmp_path):
    f = load(tmp_path, "def f(n):\n    time.sleep(0.05)\n    return n\n", "f")
    with pytest.raises(UserFunctionError, match=r"took over 0.3 s for \d+ of 100 inputs"):
        call_all(f, [(from_int(v),) for v in range(100)], limit_s=1, total_s=0.3)


def test_printed_output_is_kept_apart_and_shown_escaped_only_on_error(tmp_path, capfd):
    body = """
        def f(n):
            print("noise\\non two lines", file=sys.stderr)
            print("more noise")
            if isinstance(n, B1):
                raise ValueError("odd")
            return n
        """
    f = load(tmp_path, body)
    answers, _ = call_all(f, INPUTS[:1])
    assert answers == [INPUTS[0][0]]
    with pytest.raises(UserFunctionError) as info:
        call_all(f, INPUTS)
    text = str(info.value)
    assert "raised on input 'B1 Z': ValueError: odd" in text and "\n" not in text
    assert "it printed" in text and "more noise" in text and "\\n" in text
    out, err = capfd.readouterr()
    assert "noise" not in out and "noise" not in err


def test_a_stopped_worker_is_never_reused(tmp_path):
    f = load(tmp_path, "def f(n):\n    os._exit(0)\n", "f")
    with pytest.raises(UserFunctionError):
        call_all(f, INPUTS)
    with pytest.raises(UserFunctionError, match="stopped after an earlier error"):
        call_all(f, INPUTS)
    g = load(tmp_path, "def g(n):\n    return n\n", "g")
    assert call_all(g, INPUTS)[0] == [x for (x,) in INPUTS]  # a new worker


def test_many_inputs_in_few_messages(tmp_path):
    f = load(tmp_path, "def f(n):\n    return B1(n)\n", "f")
    spec = SplitSpec(Sampling(1, 10), n_train=3000, n_test=200, n_ood=200, ood_max_size=12)
    start = time.monotonic()
    ds = build_dataset(f, spec, seed=0)
    assert time.monotonic() - start < 10
    assert all(
        a == ["B1", *x] for x, a in zip(ds.splits["train"].inputs, ds.splits["train"].answers)
    )


def test_nothing_is_written_beside_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    close_worker()  # the next worker starts with this environment
    f = load(tmp_path, "def f(n):\n    return n\n", "f")
    call_all(f, INPUTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.py"]  # no __pycache__


def test_cli_json_stays_json_and_a_dying_function_creates_nothing(run_cli, tmp_path):
    loud = write(tmp_path, 'def f(n):\n    print("{not json")\n    return B1(n)\n')
    store = tmp_path / "s"
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", f"{loud}:f", "--max-size", "6",
        "--n-train", "40", "--epochs", "1", "--seeds", "0", "--store", str(store), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["function"] == f"{loud}:f"
    dying = tmp_path / "dying.py"
    dying.write_text(HEADER + "def f(n):\n    os._exit(0)\n")
    other = tmp_path / "s2"
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", f"{dying}:f", "--store", str(other), "--json"
    )
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "ended the worker" in err
    assert not (other / "runs").exists() or not any((other / "runs").iterdir())
