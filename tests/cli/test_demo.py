"""`algolens demo` end to end on a tiny group: every step runs and the report shows this run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from algolens.cli.train import MAX_THREADS
from algolens.train.config import MAX_SEEDS
from tests.report.checks import assert_report_reflects_run


def test_demo_runs_every_step_on_s3(run_cli, tmp_path):
    code, out, err = run_cli("demo", "--group", "S3", "--seeds", "2", "--store", str(tmp_path))
    assert code == 0, err
    text = " ".join(out.split())  # rich wraps long lines
    assert "S3: order 6, 3 conjugacy classes, 6 subgroups in 4 classes" in text
    assert text.count("done") == 3
    (run_dir,) = [p.parent for p in Path(tmp_path).glob("runs/*/report.html")]
    assert run_dir.name in text  # the run the demo says it trained is the one on disk
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [s["seed"] for s in summary["seeds"]] == [0, 1]
    assert summary["recipe"] == "fast" and summary["group"] == "S3"
    printed = dict(re.findall(r"seed (\d+): key irreps ([^;]+);", text))
    assert sorted(printed) == ["0", "1"]
    keys = {int(s): [] if k == "none" else k.split(", ") for s, k in printed.items()}
    assert_report_reflects_run(run_dir / "report.html", run_dir, keys)


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--threads", "0"], "--threads"),
        (["--threads", str(MAX_THREADS + 1)], f"less than or equal to {MAX_THREADS}"),
        (["--seeds", "-1"], "--seeds"),
        (["--seeds", "0"], "--seeds"),
        (["--seeds", str(MAX_SEEDS + 1)], str(MAX_SEEDS)),
    ],
    ids=["zero-threads", "too-many-threads", "negative-seeds", "zero-seeds", "too-many-seeds"],
)
def test_bad_demo_options_are_one_line_and_create_nothing(run_cli, tmp_path, flags, fragment):
    store = tmp_path / "store"
    code, out, err = run_cli("demo", "--group", "S3", "--store", str(store), *flags)
    assert code == 2 and out == ""  # refused before the first step
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
    assert "Traceback" not in err and "validation" not in err
    assert not store.exists()
