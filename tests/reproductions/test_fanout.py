"""`reproduce --executor`: a protocol's independent runs trained as one resumable sweep, then
measured by the reproduction module as usual (it reuses every run; the claims are those of a
sequential run of the same configs)."""

from __future__ import annotations

import json
import sys

import pytest

from algolens.errors import ConfigError
from algolens.reproductions import chughtai2023 as c
from algolens.reproductions import zhang2023 as zhang
from algolens.reproductions.claims import Scale
from algolens.reproductions.fanout import fans_out
from algolens.store import RunStore
from algolens.sweep.planned import plan_configs
from algolens.train import make_config


def test_the_same_configs_name_the_same_sweep_and_each_is_pinned():
    configs = c.planned_configs(Scale("standard"))
    a, b = plan_configs(configs, "x"), plan_configs(list(configs), "x")
    assert a.sweep_id == b.sweep_id != plan_configs(configs[1:], "x").sweep_id
    assert [conf.config.group for conf in a.configurations] == ["S5", "C113", "D59", "A5"]
    assert all(conf.config.group_sha256 for conf in a.configurations)
    assert a.configurations[0].config.cleanup_stop is not None  # the protocol's own config


def test_refusals():
    s3 = make_config("fast", group="S3", seeds=[0])
    with pytest.raises(ConfigError, match="same train config as run 0"):
        plan_configs([s3, s3], "x")
    seq = make_config(None, task="recursion", function="successor", seeds=[0])
    with pytest.raises(ConfigError, match="same train config as run 0"):
        plan_configs([seq, seq], "x")
    with pytest.raises(ConfigError, match="trains nothing"):
        plan_configs([], "x")


def test_local_executor_trains_every_run_then_the_reproduction_reuses_them(
    tiny_chughtai, tmp_path, run_cli
):
    store = tmp_path / "fan"
    code, out, err = run_cli("reproduce", "chughtai2023", "--standard", "--store", str(store),
                             "--json", "--executor", "local", "--workers", "2")  # fmt: skip
    assert code == 0, err
    runs = RunStore(store).list()
    assert len(runs) == 4 and {r.status for r in runs} == {"completed"}
    assert len({r.sweep for r in runs}) == 1 and runs[0].sweep is not None  # one sweep
    assert err.count("reusing run") == 4 and "training S4" not in err  # nothing trained twice
    # the same protocol run one after another in this process: the same claims
    code, out_seq, err_seq = run_cli("reproduce", "chughtai2023", "--standard", "--store",
                                     str(tmp_path / "seq"), "--json")  # fmt: skip
    assert code == 0, err_seq
    assert "reusing run" not in err_seq
    got, want = json.loads(out), json.loads(out_seq)
    assert [r["claim"] for r in got] == [r["claim"] for r in want]
    assert [r["agree"] for r in got] == [r["agree"] for r in want]
    # again: the sweep resumes (every run finished: nothing to train)
    code, _out, err2 = run_cli("reproduce", "chughtai2023", "--standard", "--store", str(store),
                               "--json", "--executor", "local")  # fmt: skip
    assert code == 0 and err2.count("skipped") == 4 and len(RunStore(store).list()) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["chughtai2023", "--workers", "2"], "need --executor local or ray"),
        (["chughtai2023", "--executor", "ray", "--threads", "2"], "--threads do not apply"),
        (["chughtai2023", "--executor", "mpi"], "unknown executor 'mpi'"),
    ],
)
def test_bad_executor_options_are_refused_before_anything_is_created(
    tmp_path, run_cli, args, message
):
    code, _out, err = run_cli("reproduce", *args, "--store", str(tmp_path / "s"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


@pytest.mark.xdist_group("ray")  # its --address auto must find this test's cluster alone
def test_ray_executor_on_a_local_cluster(tiny_chughtai, tmp_path, run_cli):
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
        log_to_driver=False, configure_logging=False,
    )  # fmt: skip
    try:
        code, out, err = run_cli("reproduce", "chughtai2023", "--store", str(tmp_path), "--json",
                                 "--executor", "ray", "--address", "auto")  # fmt: skip
    finally:
        ray.shutdown()
    assert code == 0, err
    runs = RunStore(tmp_path).list()
    assert len(runs) == 4 and {r.status for r in runs} == {"completed"}
    assert err.count("reusing run") == 4
    assert all(json.loads((RunStore(tmp_path).paths(r.id).root / "worker.json").read_text())
               ["attempt"] == 1 for r in runs)  # fmt: skip
    assert any(row["kind"] == "paper" for row in json.loads(out))


def test_every_paper_declares_its_runs_and_a_reproduction_without_them_is_refused(
    tmp_path, run_cli, monkeypatch
):
    import types

    from algolens.reproductions import registry

    for paper in registry.REPRODUCTIONS:
        assert fans_out(registry.load_reproduction(paper)), paper
    sequential = types.ModuleType("sequential_protocol")  # a user's module without planned_configs
    sequential.MODES = ("quick",)  # type: ignore[attr-defined]
    sequential.PAPER = "a protocol trained in order"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sequential_protocol", sequential)
    monkeypatch.setitem(registry.REPRODUCTIONS, "seq", "sequential_protocol")
    code, _out, err = run_cli("reproduce", "seq", "--executor", "local",
                              "--store", str(tmp_path / "s"))  # fmt: skip
    assert code == 2 and "seq trains its runs in this process" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "s").exists()


@pytest.fixture
def tiny_zhang(monkeypatch):
    small = zhang.Protocol(
        functions=("successor", "preorder"), seeds=(0,), epochs=2, n_train=60, bin_max=6,
        tree_max=3, n_analysis=30,
        model_args={"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32},
    )  # fmt: skip
    monkeypatch.setattr(zhang, "PROTOCOLS", {"quick": small, "standard": small, "full": small})


def test_sequence_task_runs_fan_out_and_the_reproduction_reuses_them(tiny_zhang, tmp_path, run_cli):
    store = tmp_path / "fan"
    code, out, err = run_cli("reproduce", "zhang2023", "--quick", "--store", str(store),
                             "--json", "--executor", "local", "--workers", "2")  # fmt: skip
    assert code == 0, err
    runs = RunStore(store).list()
    assert len(runs) == 3 and {r.status for r in runs} == {"completed"}
    assert {r.config["task"] for r in runs} == {"recursion"} and len({r.sweep for r in runs}) == 1
    assert err.count("reusing run") == 3  # trained once, by the sweep's workers
    for r in runs:  # the dataset each worker built is the one the config names
        assert r.config["dataset_sha256"]
        assert not (RunStore(store).paths(r.id).root / "group.json").exists()
    code, out_seq, err_seq = run_cli("reproduce", "zhang2023", "--quick", "--store",
                                     str(tmp_path / "seq"), "--json")  # fmt: skip
    assert code == 0, err_seq
    got, want = json.loads(out), json.loads(out_seq)
    assert [r["claim"] for r in got] == [r["claim"] for r in want]
    assert [r["agree"] for r in got] == [r["agree"] for r in want]
