"""docs/cli.md is the current `--help` of every command (regenerate: python -m
algolens.cli.reference), and a stale file is detected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from algolens.cli.app import app
from algolens.cli.reference import DOC


def _reference(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "algolens.cli.reference", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_docs_cli_md_is_current_and_covers_every_command(tmp_path):
    fresh = tmp_path / "cli.md"
    proc = _reference("--doc", str(fresh))
    assert proc.returncode == 0, proc.stderr
    text = fresh.read_text()
    root = typer.main.get_command(app)
    for name, cmd in root.commands.items():
        assert f"`algolens {name}`" in text
        assert f"Usage: algolens {name} " in text
        for sub in getattr(cmd, "commands", {}):
            assert f"`algolens {name} {sub}`" in text
    assert "<=1000]" not in text
    assert text == DOC.read_text(), (
        "docs/cli.md is stale: run `python -m algolens.cli.reference` and commit docs/cli.md"
    )


def test_a_stale_reference_is_reported(tmp_path):
    stale = tmp_path / "cli.md"
    stale.write_text(DOC.read_text().replace("Usage: algolens report", "Usage: algolens rapport"))
    proc = _reference("--check", "--doc", str(stale))
    assert proc.returncode == 1
    assert "is stale" in proc.stderr and "+ Usage: algolens report" in proc.stdout
    assert Path(stale).read_text().count("rapport") == 1  # --check writes nothing
