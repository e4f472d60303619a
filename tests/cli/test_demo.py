"""`algolens demo` end to end on a tiny group: every step runs and the report is written."""

from __future__ import annotations

from pathlib import Path


def test_demo_runs_every_step_on_s3(run_cli, tmp_path):
    code, out, err = run_cli("demo", "--group", "S3", "--seeds", "1", "--store", str(tmp_path))
    assert code == 0, err
    text = " ".join(out.split())  # rich wraps long lines
    assert "S3: order 6, 3 conjugacy classes, 6 subgroups in 4 classes" in text
    assert text.count("done") == 3
    assert "report:" in text
    (report,) = Path(tmp_path).glob("runs/*/report.html")
    assert "Character similarity" in report.read_text()
