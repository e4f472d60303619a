"""The local executor: a 2 x 2 sweep against runs trained alone, resume after SIGKILL of the
driver, failed runs reported."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from algolens.store import RunStore
from algolens.store.reindex import is_locked
from algolens.sweep import ExecutorSettings, load_sweep, run_sweep, sweep_status
from algolens.sweep.driver import _create

from .conftest import assert_same_metrics, metric_rows, sweep_text, write

ONE_CORE = ExecutorSettings("local", workers=1, threads=1)


def test_two_configurations_two_seeds_equal_runs_trained_alone(tmp_path, reference_rows, run_cli):
    plan = load_sweep(write(tmp_path, sweep_text()))
    store = RunStore(tmp_path / "store")
    status_cmd = ("sweep", str(plan.path), "--status", "--store", str(store.root))
    code, out, _ = run_cli(*status_cmd, "--json")
    assert code == 0 and json.loads(out)["statuses"] == {"pending": 2}
    assert not store.root.exists()  # --status creates nothing
    summary = run_sweep(plan, store, ExecutorSettings("local", workers=2, threads=1))
    assert summary["statuses"] == {"completed": 2} and summary["actions"] == {"trained": 2}
    assert summary["model_epochs"] == 2 * 2 * 60
    for conf, row in zip(plan.configurations, summary["configurations"], strict=True):
        record = store.get(row["run_id"])
        assert record.sweep == plan.sweep_id and record.status == "completed"
        assert record.config == conf.config.to_dict() and row["point"] == conf.point
        assert_same_metrics(metric_rows(store, row["run_id"]), reference_rows(conf.config))
        assert row["n_seeds"] == 2 and row["attempts"] == 1 and row["cpu_s"] > 0
    # running it again trains nothing and creates nothing
    again = run_sweep(plan, store, ONE_CORE)
    assert again["actions"] == {"skipped": 2} and again["model_epochs"] == 0
    assert again["cpu_s"] == 0 and [r["cpu_s"] for r in again["configurations"]] == [None, None]
    assert len(store.list()) == 2
    code, out, _ = run_cli("runs", "list", "--sweep", plan.sweep_id, "--json",
                           "--store", str(store.root))  # fmt: skip
    assert code == 0 and len(json.loads(out)) == 2
    status = sweep_status(plan, store)
    assert status["statuses"] == {"completed": 2} and status["actions"] == {"none": 2}
    assert [r["run_id"] for r in status["configurations"]] == [
        r["run_id"] for r in summary["configurations"]
    ]
    code, out, _ = run_cli(*status_cmd)
    assert code == 0 and "completed" in out and "model-epochs" not in out


def _digest(path) -> tuple[int, str]:
    return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def _checkpoint_epochs(store: RunStore, run_id: str) -> list[int]:
    names = store.paths(run_id).checkpoints.glob("epoch_*.safetensors")
    return sorted(int(p.stem.removeprefix("epoch_")) for p in names)


def test_sigkill_of_the_driver_then_resume(tmp_path, reference_rows):
    """Config 0 finishes, config 1 is mid-run when the driver gets SIGKILL; its worker ends with
    it; the next sweep skips 0, resumes 1 from its checkpoint; both end as if never stopped."""
    path = write(tmp_path, sweep_text(epochs=1000, checkpoint_every=50))
    plan = load_sweep(path)
    store = RunStore(tmp_path / "store")
    cmd = [os.path.join(os.path.dirname(sys.executable), "algolens")]
    driver = subprocess.Popen(
        [*cmd, "sweep", str(path), "--store", str(store.root), "--workers", "1", "--threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            assert driver.poll() is None, driver.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the sweep never reached its second run"
            runs = {r.config["group"]: r for r in store.list(sweep=plan.sweep_id)}
            done = runs.get("C5") is not None and runs["C5"].status == "completed"
            second = _checkpoint_epochs(store, runs["S3"].id) if "S3" in runs else []
            if done and max(second, default=0) >= 100:
                break
            time.sleep(0.02)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    first, second = runs["C5"].id, runs["S3"].id
    deadline = time.monotonic() + 30  # the orphaned worker notices and exits
    while is_locked(store.paths(second).lock):
        assert time.monotonic() < deadline, "the worker outlived its driver"
        time.sleep(0.05)
    killed_at = max(_checkpoint_epochs(store, second))
    assert 100 <= killed_at < 1000 and not store.paths(second).final.exists()
    final_before = _digest(store.paths(first).final)

    summary = run_sweep(plan, store, ONE_CORE)
    assert [r["action"] for r in summary["configurations"]] == ["skipped", "resumed"]
    assert summary["statuses"] == {"completed": 2}
    assert [r.id for r in store.list(sweep=plan.sweep_id)] == [first, second]  # none added
    assert _digest(store.paths(first).final) == final_before  # not retrained
    row = summary["configurations"][1]
    assert row["resumed_from"] is not None and row["resumed_from"] >= killed_at
    assert row["attempts"] == 2
    for conf, run_id in zip(plan.configurations, (first, second), strict=True):
        assert_same_metrics(metric_rows(store, run_id), reference_rows(conf.config))


def test_failed_run_is_reported_and_retried_only_on_request(tmp_path, run_cli):
    plan = load_sweep(write(tmp_path, sweep_text()))
    store = RunStore(tmp_path / "store")
    damaged = _create(plan.configurations[0], plan, store)
    store.set_status(damaged, "interrupted")
    (store.paths(damaged).checkpoints / "epoch_00000020.safetensors").write_bytes(b"not one")
    summary = run_sweep(plan, store, ONE_CORE)
    first, second = summary["configurations"]
    assert first["run_id"] == damaged and first["status"] == "failed"
    assert "epoch_00000020.safetensors" in first["error"] and "\n" not in first["error"]
    assert second["status"] == "completed"
    assert store.get(damaged).status == "failed"
    code, out, err = run_cli("sweep", str(plan.path), "--store", str(store.root), "--json")
    assert code == 1 and json.loads(out)["actions"] == {"failed": 1, "skipped": 1}
    assert "[1/2] group=C5: failed" in err
    code, out, _ = run_cli("sweep", str(plan.path), "--store", str(store.root))
    assert code == 1 and f"runs list --sweep {plan.sweep_id}" in out and "failed" in out
    assert first["attempts"] == 1
    one_worker = ExecutorSettings("local", workers=1)  # threads default: every core
    retried = run_sweep(plan, store, one_worker, retry_failed=True)["configurations"][0]
    assert retried["status"] == "failed" and retried["attempts"] == 2  # tried again, same error
    worker = json.loads((store.paths(damaged).root / "worker.json").read_text())
    assert worker["threads"] == (os.cpu_count() or 1)


@pytest.mark.parametrize("n_jobs, cpus, layout", [(8, 2, (2, 1)), (1, 2, (1, 2)), (3, 8, (3, 2))])
def test_default_layout(n_jobs, cpus, layout):
    from algolens.sweep.executors import default_layout

    assert default_layout(n_jobs, cpus) == layout


def test_sigterm_stops_the_sweep_and_its_workers(tmp_path):
    """SIGTERM (like Ctrl-C) ends the driver with exit 130 and the resume command; its workers
    are terminated at once, not left to finish their run; the run is marked interrupted."""
    text = sweep_text(epochs=1000, checkpoint_every=50).replace('["C5", "S3"]', '["S3"]')
    path = write(tmp_path, text)
    plan = load_sweep(path)
    store = RunStore(tmp_path / "store")
    driver = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "algolens"), "sweep", str(path),
         "--store", str(store.root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            assert driver.poll() is None, driver.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline
            runs = store.list(sweep=plan.sweep_id)
            if runs and max(_checkpoint_epochs(store, runs[0].id), default=0) >= 100:
                break
            time.sleep(0.02)
        driver.send_signal(signal.SIGTERM)
        _, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130
    assert f"interrupted: sweep {plan.sweep_id} continues with `algolens sweep" in err.decode()
    (record,) = store.list(sweep=plan.sweep_id)
    assert record.status == "interrupted"
    assert not is_locked(store.paths(record.id).lock)  # the worker is gone already
    assert not store.paths(record.id).final.exists()


def test_worker_killed_leaves_the_run_interrupted_and_the_next_sweep_resumes_it(
    tmp_path, reference_rows
):
    text = sweep_text(epochs=1000, checkpoint_every=50).replace('["C5", "S3"]', '["S3"]')
    plan = load_sweep(write(tmp_path, text))
    store = RunStore(tmp_path / "store")
    result: dict = {}
    driver = threading.Thread(
        target=lambda: result.update(run_sweep(plan, store, ONE_CORE)), daemon=True
    )
    driver.start()
    deadline = time.monotonic() + 240
    while True:
        assert driver.is_alive() and time.monotonic() < deadline
        runs = store.list(sweep=plan.sweep_id)
        if runs and max(_checkpoint_epochs(store, runs[0].id), default=0) >= 100:
            worker = store.paths(runs[0].id).root / "worker.json"
            if worker.is_file():
                break
        time.sleep(0.02)
    os.kill(json.loads(worker.read_text())["pid"], signal.SIGKILL)
    driver.join(timeout=120)
    (row,) = result["configurations"]
    assert row["status"] == "interrupted" and row["action"] == "lost"
    assert "worker process died" in row["error"]
    assert store.get(row["run_id"]).status == "interrupted"
    (again,) = run_sweep(plan, store, ONE_CORE)["configurations"]
    assert again["action"] == "resumed" and again["status"] == "completed"
    assert again["attempts"] == 2
    expected = reference_rows(plan.configurations[0].config)
    assert_same_metrics(metric_rows(store, row["run_id"]), expected)


def test_a_run_locked_by_another_process_is_reported_busy_and_left_alone(tmp_path):
    text = sweep_text().replace('["C5", "S3"]', '["C5"]')
    plan = load_sweep(write(tmp_path, text))
    store = RunStore(tmp_path / "store")
    run_id = _create(plan.configurations[0], plan, store)
    with store.lock(run_id):  # as if another `algolens sweep` were training it
        summary = run_sweep(plan, store, ONE_CORE)
    (row,) = summary["configurations"]
    assert row["action"] == "busy" and "being trained by another process" in row["error"]
    assert store.get(run_id).status == "created" and not any(
        store.paths(run_id).checkpoints.iterdir()
    )
