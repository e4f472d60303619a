"""docs/tutorial.ipynb runs: every code cell executed in order in one namespace (no Jupyter), with
the tiny settings (``ALGOLENS_TUTORIAL_TINY=1``), and what it claims to have made exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorial.ipynb"


def _code_cells() -> list[str]:
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for c in cells:
        assert c["outputs"] == [] and c["execution_count"] is None  # stored clean
    return ["".join(c["source"]) for c in cells]


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setenv("ALGOLENS_TUTORIAL_TINY", "1")
    monkeypatch.setenv("ALGOLENS_TUTORIAL_STORE", str(tmp_path))
    threads = torch.get_num_threads()
    ns: dict = {"__name__": "__tutorial__"}
    try:
        for k, source in enumerate(_code_cells()):
            exec(compile(source, f"{NOTEBOOK.name} cell {k}", "exec"), ns)  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    store, run_id = ns["store"], ns["run_id"]
    assert store.root == tmp_path / "store" and store.get(run_id).status == "completed"
    assert ns["report_path"] == store.paths(run_id).root / "report.html"
    assert ns["report_path"].is_file() and ns["index_path"] == tmp_path / "store" / "index.html"
    stored = json.loads((store.paths(run_id).root / "analyses" / "irreps.json").read_text())
    for inst in stored["instances"]:  # the printed key irreps are the stored analysis
        assert f"seed {inst['seed']}: key irreps {', '.join(inst['key_irreps']) or 'none'};" in out
    group = ns["group"]
    # the accuracy it prints, recomputed from the model's own answers
    model = ns["seed0"]
    a, b = torch.meshgrid(torch.arange(group.order), torch.arange(group.order), indexing="ij")
    logits = model(torch.stack([a.flatten(), b.flatten()], 1))
    right = (logits.argmax(-1).reshape(group.order, -1).numpy() == group.table).mean()
    assert f"seed 0 answers {right:.1%}" in out
