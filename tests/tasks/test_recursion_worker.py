"""User functions run in a confined worker process: what a hostile file does there (exit, fork,
write files, run programs, signal the caller, cancel alarms, spin in C, print) cannot end,
duplicate, stall or garble the command that called it, nor change anything outside it."""

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


HOSTILE = {
    "fork": "os.fork()",
    "setsid": "os.setsid()",  # leaving the process group the command kills
    "write": "open({victim!r} + '.new', 'w')",
    "append": "open({victim!r}, 'a')",
    "truncate": "os.truncate({victim!r}, 0)",
    "unlink": "os.unlink({victim!r})",
    "rename": "os.rename({victim!r}, {victim!r} + '.moved')",
    "mkdir": "os.mkdir({victim!r} + '.d')",
    "symlink": "os.symlink('/etc/passwd', {victim!r} + '.link')",
    "chmod": "os.chmod({victim!r}, 0o777)",
    "system": "assert os.system('touch ' + {victim!r} + '.sys') == 0",
    "exec": "os.execv(sys.executable, [sys.executable, '-c', 'pass'])",
    "socket": "__import__('socket').socket()",
    "kill-parent": "os.kill(os.getppid(), signal.SIGTERM)",
    "kill-group": "os.kill(0, signal.SIGCONT)",
    "raise-limit": "__import__('resource').setrlimit(__import__('resource').RLIMIT_AS, (-1, -1))",
    "memory": "bytearray(3 << 30)",
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_the_worker_is_confined(tmp_path, what):
    """Each act fails inside the function (one line naming it and the input), and leaves the
    victim file, its folder and this process as they were."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    line = HOSTILE[what].format(victim=str(victim))
    f = load(tmp_path, f"def f(n):\n    {line}\n    return n\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UserFunctionError) as info:
        call_all(f, INPUTS)
    text = str(info.value)
    assert "\n" not in text and "raised on input 'Z'" in text
    assert ("MemoryError" if what == "memory" else "Error") in text
    assert victim.read_text() == "keep" and oct(victim.stat().st_mode)[-3:] != "777"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_worker_computes_reads_and_runs_threads(tmp_path):
    """What a function may do: import (numpy too), read a file, start a thread, sleep, signal
    itself, print."""
    data = tmp_path / "data.txt"
    data.write_text("2")
    body = f"""
        import threading, math, random, signal
        def f(n):
            import numpy
            k = int(pathlib.Path({str(data)!r}).read_text())
            box = []
            t = threading.Thread(target=lambda: box.append(math.factorial(k)))
            t.start()
            t.join()
            time.sleep(0.001)
            signal.signal(signal.SIGUSR1, lambda *a: None)
            os.kill(os.getpid(), signal.SIGUSR1)
            print("fine", numpy.int64(box[0]))
            return B0(n) if box == [2] else n
        """
    answers, _ = call_all(load(tmp_path, body), INPUTS)
    assert [to_int(a) for a in answers] == [0, 2, 4, 6]


def test_the_worker_sees_no_store_or_secret_variables(tmp_path, monkeypatch):
    close_worker()  # a worker started before the variables were set would not see them
    monkeypatch.setenv("ALGOLENS_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("SOME_API_TOKEN", "secret")
    body = """
        def f(n):
            seen = sorted(k for k in os.environ if "STORE" in k or "TOKEN" in k)
            if seen:
                raise RuntimeError(" ".join(seen))
            return n
        """
    try:
        answers, _ = call_all(load(tmp_path, body), INPUTS)
    finally:
        close_worker()
    assert [to_int(a) for a in answers] == [0, 1, 2, 3]


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


def test_confine_refuses_where_it_cannot_confine(monkeypatch):
    """On another platform the worker runs no user code: one line saying why (checked before
    anything is applied, so this process stays unconfined)."""
    from algolens.tasks.recursion import sandbox

    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    with pytest.raises(sandbox.SandboxUnavailable, match="only on Linux x86-64"):
        sandbox.confine()
    assert open(os.devnull, "w")  # still allowed here: nothing was installed
