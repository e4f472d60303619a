"""Errors quote at most a short, escaped prefix of user data (errors.quote), everywhere."""

from __future__ import annotations

import pytest

from algolens.errors import AlgolensError, quote
from algolens.groups import parse_group

SECRET = "TOKEN_SECRET_VALUE_42"
ENVIRON = "\x00".join(f"VAR{i}=value{i}" for i in range(40)) + f"\x00API={SECRET}\x00"


def test_quote_escapes_and_cuts():
    assert quote("S5") == "'S5'"
    assert quote("a\nb") == "'a\\nb'"
    long = quote(ENVIRON)
    assert SECRET not in long and "\x00" not in long and "\\x00" in long
    assert long.endswith(f"… ({len(ENVIRON)} characters)") and len(long) < 80
    assert quote("é" * 100, limit=10).startswith("'éééééééé")
    assert len(quote("\x00" * 1000)) < 80  # escapes count towards the limit
    assert quote(list(range(1000))).endswith("characters)")


def test_quote_never_fails_on_huge_integers():
    assert quote(10**5000) == "an integer too long to print"


def test_environment_file_as_a_table_echoes_a_short_prefix(tmp_path):
    env = tmp_path / "environ"  # no .json suffix: read as CSV, like /proc/self/environ
    env.write_text(ENVIRON)
    with pytest.raises(AlgolensError) as info:
        parse_group(str(env))
    message = str(info.value)
    assert SECRET not in message and "VAR5=" not in message and "\x00" not in message
    assert "row 1 column 1" in message and len(message) < len(str(env)) + 200


@pytest.mark.parametrize(
    "spec",
    [
        "Z" + "9" * 10_000,  # unknown family
        "gap:" + "X" * 10_000,  # not on GAP's whitelist
        "gap:Foo" + "o" * 10_000 + "(3)",  # unknown constructor
        "perm:(0 1)," + "(" * 10_000,  # unreadable permutation
        "S" + "7" * 10_000,  # too large
    ],
    ids=["named", "gap", "gap-constructor", "perm", "too-large"],
)
def test_long_group_specs_are_cut(spec):
    with pytest.raises(AlgolensError) as info:
        parse_group(spec)
    assert len(str(info.value)) < 700, str(info.value)[:300]


def test_labels_are_quoted_short(tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"table": [[0, 1], [1, 0]], "labels": ["' + "a" * 5000 + '", 7]}')
    with pytest.raises(AlgolensError) as info:
        parse_group(str(path))
    assert "label 1 is 7, not a string" in str(info.value)
    path.write_text('{"table": [[0, 1], [1, 0]], "labels": ["' + "a" * 5000 + '\\n", "b"]}')
    with pytest.raises(AlgolensError) as info:
        parse_group(str(path))
    assert "newline" in str(info.value) and len(str(info.value)) < 300


@pytest.mark.parametrize(
    "prompt",
    [
        ",".join(f"{i}>{i + 1}" for i in range(10_000)) + "|10000:0",  # every node out of range
        ",".join(f"{i}>{i + 1}" for i in range(10_000)),  # no '|'
        ",".join(["x" * 5000] * 10) + "|1:0",  # an unreadable edge
        "0>1|" + "9" * 10_000 + "x:0",  # an unreadable goal
    ],
    ids=["out-of-range", "no-bar", "bad-edge", "bad-goal"],
)
def test_huge_path_finding_prompt_gives_a_short_error(prompt):
    from algolens.tasks.pathfinding.tree import parse_prompt

    with pytest.raises(AlgolensError) as info:
        parse_prompt(prompt, 6)
    assert len(str(info.value)) < 400, str(info.value)[:400]


def test_huge_recursion_input_gives_a_short_error():
    from algolens.tasks.recursion.tokens import parse

    with pytest.raises(AlgolensError) as info:
        parse(" ".join(["x" * 5000] * 3), ["bin"])
    assert len(str(info.value)) < 400, str(info.value)[:400]


@pytest.mark.parametrize("args", [["sweep", "/dev/zero"], ["train", "--config", "/dev/zero"]])
def test_a_device_is_not_a_regular_file(run_cli, args):
    code, out, err = run_cli(*args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "is a character device, not a regular file" in err and "does not exist" not in err


def test_a_fifo_is_refused_without_blocking(run_cli, tmp_path):
    import os

    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)  # reading it would block until a writer appears
    code, _, err = run_cli("sweep", str(fifo))
    assert code == 2 and "is a FIFO, not a regular file" in err


def test_sweep_file_keys_and_values_are_quoted_short(run_cli, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(f"[base]\n{'k' * 5000} = 1\n[grid]\nlr = [0.1]\n")
    code, _, err = run_cli("sweep", str(sweep), "--plan")
    assert code == 2 and "is not a train config field" in err and len(err) < 800
    values = ", ".join(["0.1"] * 5000)
    sweep.write_text(f'[base]\ngroup = "C3"\n[grid]\nlr = [{values}]\n')
    code, _, err = run_cli("sweep", str(sweep), "--plan")
    assert code == 2 and "repeats a value" in err and len(err) < 300


def test_config_with_many_bad_keys_is_one_short_line(run_cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("".join(f'{"bad" * 50}{i} = "{"v" * 500}"\n' for i in range(500)))
    code, _, err = run_cli("train", "--config", str(config))
    assert code == 2 and err.count("\n") == 1 and "in all)" in err and len(err) < 1500


def test_circuit_file_with_many_unknown_keys_is_one_short_line(tmp_path):
    import json

    from algolens.logic.export import read_circuit

    path = tmp_path / "c.json"
    from algolens.logic.export import FORMAT

    keys = {f"key{i}" + "x" * 100: 0 for i in range(1000)}
    path.write_text(json.dumps({"format": FORMAT, **keys}))
    with pytest.raises(AlgolensError) as info:
        read_circuit(path)
    assert "unknown keys" in str(info.value) and "(1000 in all)" in str(info.value)
    assert len(str(info.value)) < 1000
