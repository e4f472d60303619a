"""The Ray executor on a local 2-CPU cluster bound to 127.0.0.1 (one cluster for the module):
the same metrics as the local executor, and a worker killed mid-run retried from its
checkpoint."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from algolens.store import RunStore
from algolens.sweep import ExecutorSettings, load_sweep, run_sweep

from .conftest import assert_same_metrics, metric_rows, sweep_text, write

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.xdist_group("ray")  # one local Ray cluster at a time (make test runs -n 2)


@pytest.fixture(scope="module")
def cluster():
    ray.init(
        num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
        log_to_driver=False, configure_logging=False,
    )  # fmt: skip
    yield
    ray.shutdown()


def test_same_sweep_same_metrics_under_both_executors(cluster, tmp_path, reference_rows):
    plan = load_sweep(write(tmp_path, sweep_text()))
    local, remote = RunStore(tmp_path / "local"), RunStore(tmp_path / "ray")
    by_local = run_sweep(plan, local, ExecutorSettings("local", workers=2, threads=1))
    by_ray = run_sweep(plan, remote, ExecutorSettings("ray", cpus=1))
    assert by_ray["executor"] == "ray" and by_ray["statuses"] == {"completed": 2}
    for conf, a, b in zip(plan.configurations, by_local["configurations"],
                          by_ray["configurations"], strict=True):  # fmt: skip
        assert remote.get(b["run_id"]).sweep == plan.sweep_id
        rows_local, rows_ray = metric_rows(local, a["run_id"]), metric_rows(remote, b["run_id"])
        # one torch thread in a separate process on both sides: the same kernels, the same bits
        assert rows_ray == rows_local
        assert_same_metrics(rows_ray, reference_rows(conf.config))
        assert a["grok_epochs"] == b["grok_epochs"]


def test_worker_killed_mid_run_is_retried_from_its_checkpoint(cluster, tmp_path, reference_rows):
    text = sweep_text(epochs=1000, checkpoint_every=50).replace('["C5", "S3"]', '["S3"]')
    plan = load_sweep(write(tmp_path, text))
    store = RunStore(tmp_path / "store")
    result: dict = {}
    driver = threading.Thread(
        target=lambda: result.update(run_sweep(plan, store, ExecutorSettings("ray", cpus=1))),
        daemon=True,
    )
    driver.start()
    deadline = time.monotonic() + 240
    while True:
        assert driver.is_alive(), "the sweep ended before its worker could be killed"
        assert time.monotonic() < deadline
        runs = store.list(sweep=plan.sweep_id)
        if runs:
            paths = store.paths(runs[0].id)
            epochs = [int(p.stem[6:]) for p in paths.checkpoints.glob("epoch_*.safetensors")]
            if max(epochs, default=0) >= 100 and (paths.root / "worker.json").is_file():
                break
        time.sleep(0.02)
    worker = json.loads((paths.root / "worker.json").read_text())
    assert worker["attempt"] == 1 and worker["pid"] != os.getpid()
    os.kill(worker["pid"], signal.SIGKILL)
    driver.join(timeout=240)
    assert not driver.is_alive()
    (row,) = result["configurations"]
    assert row["status"] == "completed" and row["attempts"] == 2
    assert row["resumed_from"] is not None and 100 <= row["resumed_from"] < 1000
    assert_same_metrics(
        metric_rows(store, row["run_id"]), reference_rows(plan.configurations[0].config)
    )


def test_relative_store_path_reaches_the_ray_workers(cluster, tmp_path, monkeypatch, run_cli):
    """Ray workers run in their own working directory: they get absolute run folders."""
    write(tmp_path, sweep_text(epochs=10).replace('["C5", "S3"]', '["C5"]'))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("sweep", "sweep.toml", "--executor", "ray", "--store", "st", "--json")
    assert code == 0, err
    assert json.loads(out)["statuses"] == {"completed": 1}
    assert RunStore(tmp_path / "st").list()[0].status == "completed"
