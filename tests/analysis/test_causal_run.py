"""`analyze --method probes|patching|lens|scrub` on stored recursion and path-finding runs."""

from __future__ import annotations

import json

import pytest

from tests.models.conftest import _one_thread  # noqa: F401  (autouse: one torch thread)

METHODS = ("probes", "patching", "lens", "scrub")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.store import RunStore
    from algolens.train.config import make_config
    from algolens.train.run import start_run
    from tests.tasks.test_recursion_training import tiny as recursion
    from tests.train.test_pathfinding_training import tiny as pathfinding

    store = RunStore(tmp_path_factory.mktemp("causal") / "store")
    rec = start_run(recursion(epochs=2), store)["run_id"]
    path = start_run(pathfinding(epochs=2), store)["run_id"]
    comp = start_run(make_config("fast", group="S3", seeds=[0], epochs=2), store)["run_id"]
    return store, rec, path, comp


def _json(run_cli, store, run, method, *extra):
    code, out, err = run_cli("analyze", run, "--method", method, "--store", str(store.root),
                             "--json", *extra)  # fmt: skip
    assert code == 0, err
    return json.loads(out)["runs"][0]


@pytest.mark.parametrize("task", ["recursion", "pathfinding"])
def test_every_method_runs_is_stored_and_reused(run_cli, runs, task):
    store, rec, path, _ = runs
    run = rec if task == "recursion" else path
    for method in METHODS:
        out = _json(run_cli, store, run, method)
        assert out["task"] == task and len(out["instances"]) == 2 and not out["reused"]
        assert (store.paths(run).root / "analyses" / f"{method}.json").is_file()
        assert _json(run_cli, store, run, method, "--instance", "1")["reused"]
    lens = _json(run_cli, store, run, "lens")["instances"][0]
    # the last residual layer IS the model's final stream: both lenses read the model's logits
    for curve in (lens["logit"], lens["tuned"]):
        assert curve["kl"][-1] == pytest.approx(0.0, abs=1e-9) and curve["agreement"][-1] == 1.0
    scrub = _json(run_cli, store, run, "scrub")["instances"][0]["hypotheses"]
    # layer 0 is the embedding of each position's token (and the position): exactly true
    assert scrub[0]["name"].startswith("layer 0") and scrub[0]["loss_recovered"] == 1.0
    probes = _json(run_cli, store, run, "probes")["instances"][0]["grids"]
    assert all(0.0 <= f <= 1.0 for g in probes for row in g["f1"] for f in row)


def test_text_output_and_a_user_hypothesis_file(run_cli, runs, tmp_path):
    store, rec, _, _ = runs
    hyp = tmp_path / "h.json"
    claim = {"hook": "blocks.0.hook_resid_pre", "positions": [0], "agree_on": "token"}
    hyp.write_text(json.dumps([{"name": "first token only", "claims": [claim]}]))
    code, out, err = run_cli("analyze", rec, "--method", "scrub", "--store", str(store.root),
                             "--hypothesis", str(hyp))  # fmt: skip
    assert code == 0, err
    assert "first token only" in out and "loss recovered" in out
    for method in ("probes", "patching", "lens"):
        code, out, err = run_cli("analyze", rec, "--method", method, "--store", str(store.root))
        assert code == 0 and f"{method}: run {rec}" in out, err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--method", "probes", "--hypothesis", "h.json"], "--hypothesis belongs to"),
        (["--method", "lens", "--checkpoints"], "--checkpoints and --tally"),
        (["--method", "scrub", "--hypothesis", "missing.json"], "not a .json file"),
        (["--method", "scrub", "--hypothesis", "BAD"], "not valid UTF-8 JSON"),
        (["--method", "scrub", "--hypothesis", "NOHOOK"], "needs a hook name"),
        (["--method", "scrub", "--hypothesis", "DEEP"], "JSON nested too deep"),
        (
            ["--method", "scrub", "--hypothesis", "NEG"],
            "non-negative ints or feature names, got -1",
        ),
        (
            ["--method", "scrub", "--hypothesis", "BOOL"],
            "non-negative ints or feature names, got true",
        ),
        (["--method", "scrub", "--hypothesis", "FAR"], "position 999 is outside the sequence (0.."),
        (["--method", "patching", "--instance", "5"], "--instance must lie in 0..1"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(run_cli, runs, tmp_path, args, fragment):
    store, rec, _, _ = runs
    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "nohook.json").write_text('{"name": "x", "claims": [{"positions": [0]}]}')
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    files = {"BAD": "bad.json", "NOHOOK": "nohook.json", "DEEP": "deep.json"}
    for name, pos in (("NEG", -1), ("BOOL", True), ("FAR", 999)):
        claim = {"hook": "blocks.0.hook_resid_pre", "positions": [pos]}
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name, "claims": [claim]}))
        files[name] = f"{name}.json"
    args = [str(tmp_path / files[a]) if a in files else a for a in args]
    before = sorted((store.paths(rec).root / "analyses").glob("*")) if (
        store.paths(rec).root / "analyses").exists() else []  # fmt: skip
    code, out, err = run_cli("analyze", rec, "--store", str(store.root), *args)
    assert code == 2 and fragment in err and err.count("\n") == 1, err
    after = sorted((store.paths(rec).root / "analyses").glob("*")) if (
        store.paths(rec).root / "analyses").exists() else []  # fmt: skip
    assert after == before


def test_a_composition_run_is_refused(run_cli, runs):
    store, _, _, comp = runs
    code, _, err = run_cli("analyze", comp, "--method", "lens", "--store", str(store.root))
    assert code == 2 and "needs a sequence-task run" in err and err.count("\n") == 1
