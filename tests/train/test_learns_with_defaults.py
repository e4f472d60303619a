"""Issue 22: a user's own recursive function learns with `algolens train`'s defaults only.

The function (``complement`` in tests/tasks/functions/learn_functions.py, written with ``match``
on ``Z``/``B0``/``B1``) is none of the built-ins and none the preset sweep tuned on alone; the
command gives sizes only (--max-size, --n-train) and no optimiser flag. Before the recursion
preset the defaults were the group recipe ``fast`` (full batch, lr 2.5e-2, weight decay 3), which
does not learn it (checked below on the same data, capped at the same epochs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from algolens.train.learned import LEARNED_THRESHOLD

FUNCTION = f"{Path(__file__).parents[1] / 'tasks/functions/learn_functions.py'}:complement"
SIZES = ("--max-size", "8", "--n-train", "600")
THREADS = ("--threads", str(torch.get_num_threads()))
"""The torch threads of this pytest process when the module is imported, before the fixture of
this folder pins one: all cores in a single-process run (as a fresh ``algolens train`` would use),
its share of the cores under ``make test``'s two pytest-xdist workers (tests/conftest.py), where
a second thread would only compete with the other worker. On an AMD Zen 3 alone: 345 s at one
thread, 212 s at two (2026-12-06, before the split plan); 142 s at two after it."""
LEARN_SIZES = ("--max-size", "8", "--n-train", "1000")
"""Three seeds on 1000 draws: with 600 draws one seed ends at 94-95 % on some CPUs (seed 0 on an
Intel Xeon: 94.2 %, stopped by patience). Its validation split is 29 rows: before the early stop
asked for 100 confirming answers over consecutive checks, all three seeds met 29 of 29 at epoch 48
on an AMD EPYC while seed 2 wrote 94.0 % of the test inputs; with it the run stops at epoch 54
with 100 %, 99.5 %, 98.6 % (AMD EPYC; docs/recursion.md). On an AMD EPYC Zen 3 (2026-12-06) seed 2
holds 27 of 29 validation rows from epoch 48 and the run stops by patience at epoch 68 of 120
with 100 %, 100 %, 98.6 % on test: learned, stopped early, but not "reached"."""


@pytest.mark.slow
def test_a_user_function_learns_with_the_defaults(run_cli, tmp_path):
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", FUNCTION, "--seeds", "0,1,2", *LEARN_SIZES,
        "--store", str(tmp_path / "s"), "--json", *THREADS,
    )  # fmt: skip
    assert code == 0, err
    s = json.loads(out)
    test = s["splits"]["test"]
    assert len(test["greedy_acc"]) == 3
    assert test["n"] > 100 and min(test["greedy_acc"]) >= LEARNED_THRESHOLD
    assert s["learned"]["learned"] is True and "did not learn" not in err
    # it stopped early, on its validation split (all seeds at the threshold, or no seed's best
    # improving for the patience), before the preset's epoch cap
    stop = s["early_stop"]
    assert s["stopped_early"] and stop["reason"] in ("reached", "patience")
    assert s["epochs"] < s["max_epochs"]
    assert stop["stopped_epoch"] == s["epochs"]
    if stop["reason"] == "reached":
        assert min(stop["val_exact"]) >= stop["threshold"]


@pytest.mark.slow
def test_the_old_default_recipe_does_not_learn_it(run_cli, tmp_path):
    """The group recipe that recursion runs used to get, on the same data and epoch budget."""
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", FUNCTION, "--seeds", "0", *SIZES,
        "--recipe", "fast", "--epochs", "60", "--store", str(tmp_path / "s"), "--json",
    )  # fmt: skip
    assert code == 0, err
    s = json.loads(out)
    assert min(s["splits"]["test"]["greedy_acc"]) < LEARNED_THRESHOLD
    assert s["learned"]["learned"] is False
    warnings = [ln for ln in err.splitlines() if "did not learn" in ln]
    assert len(warnings) == 1 and warnings[0].startswith("warning: run ")
    # marked in `runs list` and in the run's report
    code, listing, _ = run_cli("runs", "list", "--store", str(tmp_path / "s"))
    assert code == 0 and "did not learn" in listing
    code, _, err = run_cli("report", s["run_id"], "--store", str(tmp_path / "s"))
    assert code == 0, err
    page = next((tmp_path / "s" / "runs").glob("*/report.html")).read_text()
    assert "Did not learn: greedy exact match on the in-distribution test split" in page
