"""`algolens compile RUN`: sizes, agreement, verification, circuit and formula files, bad input."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from algolens.logic.evaluate import evaluate
from algolens.logic.export import read_circuit
from algolens.store import RunStore


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    store = RunStore(tmp_path_factory.mktemp("compile") / "store")
    small = {"d_embed": 8, "d_mlp": 6}
    mlp = start_run(make_config("fast", group="S3", seeds=[0, 1], epochs=2, model_args=small),
                    store)["run_id"]  # fmt: skip
    tiny = {"d_model": 8, "d_head": 4, "n_heads": 2, "d_mlp": 8}
    transformer = start_run(
        make_config("fast", group="C4", model="transformer", seeds=[0], epochs=2,
                    model_args=tiny), store)["run_id"]  # fmt: skip
    return store, mlp, transformer


def test_mlp_json_verify_and_circuit_file(runs, run_cli, tmp_path):
    store, mlp, _ = runs
    out = tmp_path / "c.json.gz"
    code, stdout, err = run_cli(
        "compile",
        mlp,
        "--store",
        str(store.root),
        "--instance",
        "1",
        "--bits",
        "4",
        "--verify",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, err
    r = json.loads(stdout)
    assert (r["kind"], r["bits"], r["inputs"], r["instance"]) == ("mlp", 4, 36, 1)
    assert r["verify"]["proof"] and r["verify"]["mismatches"] == 0
    assert r["gates"] == sum(layer["gates"] for layer in r["layers"])
    assert r["depth"] == 5 and [x["name"] for x in r["layers"]][0] == "mlp.act"
    # the agreement figures are the shares of the 36 pairs, recomputed here
    from algolens.logic.compile import compile_run

    c = compile_run(store, mlp, 1, 4)
    assert r["agreement"]["q_vs_task"] == pytest.approx(np.mean(c.q_pred == c.answers))
    # the written file evaluates like the compiled circuit and like Q
    back = read_circuit(out)
    assert evaluate(back, c.tokens).tolist() == c.q_pred.tolist()


def test_transformer_text_output_and_formula(runs, run_cli, tmp_path):
    store, _, transformer = runs
    code, stdout, err = run_cli(
        "compile", transformer, "--store", str(store.root), "--bits", "3", "--verify"
    )
    assert code == 0, err
    assert "transformer, Q at 3 bits" in stdout and "equivalent on all 16 inputs" in stdout
    out = tmp_path / "f.txt"
    code, stdout, err = run_cli(
        "compile",
        transformer,
        "--store",
        str(store.root),
        "--bits",
        "3",
        "--to",
        "fom",
        "--out",
        str(out),
    )
    assert code == 0, err
    text = out.read_text()
    assert text.strip() and ("out 0" in text or "outline" in text)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--bits", "1"], "--bits must be an integer from 2 to 16"),
        (["--bits", "40"], "--bits must be an integer from 2 to 16"),
        (["--to", "verilog"], "--to must be one of circuit, fom"),
        (["--instance", "5"], "--instance 5 is out of range"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runs, run_cli, tmp_path, args, match):
    store, mlp, _ = runs
    out = tmp_path / "never.json"
    code, stdout, err = run_cli(
        "compile", mlp, "--store", str(store.root), "--out", str(out), *args
    )
    assert code == 2 and match in err and err.count("\n") == 1
    assert not out.exists()


def test_out_folder_and_unknown_run(runs, run_cli, tmp_path):
    store, mlp, _ = runs
    code, _, err = run_cli("compile", mlp, "--store", str(store.root), "--out", str(tmp_path))
    assert code == 2 and "a directory" in err
    code, _, err = run_cli("compile", "nope", "--store", str(store.root))
    assert code == 2 and err.count("\n") == 1


def test_unsupported_layernorm_transformer(tmp_path, run_cli):
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "store")
    args = {"d_model": 8, "d_head": 4, "n_heads": 2, "d_mlp": 8, "layernorm": True}
    run = start_run(make_config("fast", group="C3", model="transformer", seeds=[0], epochs=1,
                                model_args=args), store)["run_id"]  # fmt: skip
    code, _, err = run_cli("compile", run, "--store", str(store.root))
    assert code == 2 and "LayerNorm" in err and err.count("\n") == 1


def test_too_large_to_export(runs, run_cli, tmp_path, monkeypatch):
    import algolens.cli.compile as cli_compile

    store, mlp, _ = runs
    monkeypatch.setattr(cli_compile, "MAX_EXPORT_WIRES", 10)
    out = tmp_path / "big.json"
    code, _, err = run_cli("compile", mlp, "--store", str(store.root), "--out", str(out))
    assert code == 2 and "wires, more than 10 to write" in err and err.count("\n") == 1
    assert not out.exists()


def _make_destination(kind, tmp_path, store):
    """A destination that `compile --out` must refuse, and what the message says."""
    dest = tmp_path / "out.json"
    if kind == "device":
        if os.geteuid() != 0:
            pytest.skip("making a character device needs root")
        os.mknod(dest, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return dest, "character device"
    if kind == "fifo":
        os.mkfifo(dest)
        return dest, "FIFO"
    if kind == "symlink":
        (tmp_path / "real.json").write_text("keep")
        dest.symlink_to(tmp_path / "real.json")
        return dest, "symlink"
    if kind == "dangling":
        dest.symlink_to(tmp_path / "nowhere.json")
        return dest, "symlink"
    if kind == "missing":
        return tmp_path / "new" / "out.json", "does not exist"
    run = store.list()[0].id
    return store.paths(run).final, "run store"


@pytest.mark.parametrize("kind", ["device", "fifo", "symlink", "dangling", "missing", "run"])
def test_out_is_checked_before_compiling(runs, run_cli, tmp_path, monkeypatch, kind):
    import algolens.logic.compile

    store, mlp, _ = runs
    dest, words = _make_destination(kind, tmp_path, store)
    before = sorted((p.name, p.lstat().st_mode) for p in tmp_path.iterdir())
    final = store.paths(mlp).final.read_bytes()

    def never(*args, **kwargs):
        raise AssertionError("compiled before checking --out")

    monkeypatch.setattr(algolens.logic.compile, "compile_run", never)
    code, out, err = run_cli("compile", mlp, "--store", str(store.root), "--out", str(dest))
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err
    assert sorted((p.name, p.lstat().st_mode) for p in tmp_path.iterdir()) == before
    assert store.paths(mlp).final.read_bytes() == final
    assert kind != "symlink" or (tmp_path / "real.json").read_text() == "keep"
