"""`algolens demo` end to end on a tiny group: every step runs and the report shows this run."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
