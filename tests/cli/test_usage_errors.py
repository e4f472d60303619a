"""Usage errors and help: one line and exit code 2, never a traceback; `-h` is `--help`."""

from __future__ import annotations

import subprocess
import sys

import pytest

HELP = [["-h"], ["train", "-h"], ["runs", "-h"], ["runs", "list", "-h"], ["group", "info", "-h"]]


@pytest.mark.parametrize("args", HELP, ids=[" ".join(a) for a in HELP])
def test_dash_h_is_help(run_cli, args):
    code, out, err = run_cli(*args)
    assert code == 0 and "Usage:" in out and "--help" in out and err == ""


USAGE = {
    "unknown-command": (["frobnicate"], "frobnicate"),
    "unknown-option": (["train", "--frobnicate"], "--frobnicate"),
    "not-an-int": (["train", "--epochs", "abc"], "--epochs"),
    "missing-argument": (["runs", "show"], "run"),
    "missing-value": (["runs", "list", "--status"], "--status"),
    "unknown-runs-command": (["runs", "frobnicate"], "frobnicate"),
}


@pytest.mark.parametrize("args, fragment", USAGE.values(), ids=USAGE.keys())
def test_usage_error_is_one_line_exit_2(run_cli, args, fragment):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("error:") and err.count("\n") == 1 and fragment in err
    assert "--help" in err  # says where to look


def test_no_arguments_prints_the_help(run_cli):
    code, out, err = run_cli("runs")
    assert code == 2 and "list" in out + err and "Traceback" not in out + err


@pytest.mark.parametrize("args", [["-h"], ["frobnicate"], ["train", "--epochs", "abc"]])
def test_real_process_prints_no_traceback(args):
    proc = subprocess.run(
        [sys.executable, "-c", "from algolens.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    if args == ["-h"]:
        assert proc.returncode == 0 and "Usage:" in proc.stdout
    else:
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1
