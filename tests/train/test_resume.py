"""A run killed by SIGKILL resumes from its last checkpoint and ends with identical weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from algolens.store import RunStore
from algolens.train.checkpoint import latest_checkpoint
from algolens.train.config import load_toml_config
from algolens.train.run import start_run

CONFIG = """
group = "C5"
train_frac = 0.6
seeds = [0, 1]
epochs = 600
lr = 0.01
batch_size = 8
grokfast_alpha = 0.9
grokfast_lamb = 1.0
loss_dtype = "float32"
eval_every = 25
checkpoint_every = 20
log_checkpoints = 0
early_stop = false
[model_args]
d_embed = 16
d_mlp = 16
"""

CLI = [sys.executable, "-c", "from algolens.cli import main; main()"]


def _metric_epochs(path) -> list[int]:
    return [json.loads(line)["epoch"] for line in path.read_text().splitlines()]


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text(CONFIG)
    ref_store = RunStore(tmp_path / "ref")
    ref = start_run(load_toml_config(toml), ref_store)
    ref_paths = ref_store.paths(ref["run_id"])

    store_dir = tmp_path / "killed"
    proc = subprocess.Popen(
        [*CLI, "train", "--config", str(toml), "--store", str(store_dir), "--threads", "1",
         "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        runs = store_dir / "runs"
        folders = list(runs.iterdir()) if runs.is_dir() else []
        latest = latest_checkpoint(folders[0] / "checkpoints") if folders else None
        if latest is not None and latest[0] >= 40:
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = latest[0]
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert killed_at is not None, f"run ended before the kill: {proc.stderr.read().decode()}"
    assert proc.returncode == -signal.SIGKILL

    store = RunStore(store_dir)
    (record,) = store.list()
    assert record.status == "running"  # SIGKILL leaves no chance to record anything
    assert not store.paths(record.id).final.exists()
    done = subprocess.run(
        [*CLI, "train", "--resume", record.id[:12], "--store", str(store_dir), "--threads", "1",
         "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["resumed_from"] >= killed_at and summary["epochs"] == 600
    paths = store.paths(record.id)
    assert paths.final.read_bytes() == ref_paths.final.read_bytes()
    assert _metric_epochs(paths.metrics) == _metric_epochs(ref_paths.metrics)
    assert store.get(record.id).status == "completed"
    assert [s["grok_epoch"] for s in summary["seeds"]] == [s["grok_epoch"] for s in ref["seeds"]]
