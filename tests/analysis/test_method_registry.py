"""The analysis-method registry (analysis/methods.py): a method added from outside the package
with ``register_method`` runs through ``algolens analyze``, is stored and read back, and shows in
the run report; a run whose task lacks a required trait is refused in one line; stored analyses
written before the registry still load."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file

from algolens import __version__
from algolens.analysis.methods import (
    Method,
    Options,
    check_method_run,
    register_method,
    unregister_method,
)
from algolens.analysis.store import analysis_path, cached, read_analysis
from algolens.errors import ConfigError
from algolens.store import RunStore


def _weight_norms(store: RunStore, run_id: str, opts: Options) -> dict:
    """The toy method's compute: each instance's Frobenius norm of every parameter."""
    from algolens.analysis.runs import weights_source
    from algolens.train.load import load_run_model, run_config

    seeds = run_config(store, run_id).seeds

    def body() -> dict:
        _, model = load_run_model(store, run_id)
        params = dict(model.named_parameters())
        return {
            "instances": [
                {"instance": k, "seed": s}
                | {f"norm_{n}": float(p[k].detach().norm()) for n, p in params.items()}
                for k, s in enumerate(seeds)
            ]
        }

    source = weights_source(store, run_id)
    return cached(store, run_id, "toy-norms", body, source=source, force=opts.force)


def _toy_section(report, store, run_id) -> bool:
    """The toy method's report section: its stored norms, or nothing."""
    from algolens.analysis.runs import weights_source

    path = analysis_path(store, run_id, "toy-norms")
    data = read_analysis(path, "toy-norms", weights_source(store, run_id))
    if data is None:
        return False
    report.heading("Toy weight norms")
    rows = [[k, v] for k, v in data["instances"][0].items() if k.startswith("norm_")]
    report.table(["parameter", "norm"], rows)
    return True


TOY = Method(
    name="toy-norms",
    schema=1,
    help=": each parameter's norm per instance (a test method).",
    compute=_weight_norms,
    section=_toy_section,
)
TOY_SEQ = Method(name="toy-seq", schema=1, requires=frozenset({"sequence"}), compute=_weight_norms)


@pytest.fixture
def toys():
    register_method(TOY)
    register_method(TOY_SEQ)
    yield
    unregister_method(TOY.name)
    unregister_method(TOY_SEQ.name)


@pytest.fixture(scope="module")
def s3_run(tmp_path_factory):
    from algolens.train import make_config, start_run

    root = tmp_path_factory.mktemp("registry")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = make_config("fast", group="S3", seeds=[0, 1], epochs=3)
        run_id = start_run(config, RunStore(root))["run_id"]
    finally:
        torch.set_num_threads(threads)
    return root, run_id


def test_a_registered_method_runs_through_analyze_is_stored_and_reported(toys, s3_run, run_cli):
    root, run_id = s3_run
    store = RunStore(root)
    code, out, err = run_cli("analyze", run_id, "--method", "toy-norms", "--json",
                             "--store", str(root))  # fmt: skip
    assert code == 0, err
    (printed,) = json.loads(out)["runs"]
    # the norms are those of the weights file itself, read without the model code
    tensors = load_file(store.paths(run_id).final)
    compared = 0
    for inst in printed["instances"]:
        k = inst["instance"]
        for name, value in tensors.items():
            name = name.removeprefix("model.")  # the checkpoint's prefix of the model's weights
            if f"norm_{name}" in inst:
                assert inst[f"norm_{name}"] == pytest.approx(float(value[k].norm()), rel=1e-6)
                compared += 1
    assert compared >= 6  # at least 3 parameters of each of the 2 instances
    # stored under the method's name with its schema, and reused on the next call
    stored = json.loads(analysis_path(store, run_id, "toy-norms").read_text())
    assert stored["method"] == "toy-norms" and stored["schema"] == 1
    assert stored["instances"] == printed["instances"]
    code, out, err = run_cli("analyze", run_id, "--method", "toy-norms", "--store", str(root))
    assert code == 0 and "toy-norms: run" in out and "norm_" in out
    # the run report shows the registered section
    code, out, err = run_cli("report", run_id, "--store", str(root))
    assert code == 0, err
    html = (store.paths(run_id).root / "report.html").read_text()
    assert "Toy weight norms" in html
    first = next(k for k in printed["instances"][0] if k.startswith("norm_"))
    assert first in html


def test_a_run_lacking_a_required_trait_is_refused_in_one_line(toys, s3_run, run_cli):
    root, run_id = s3_run
    code, out, err = run_cli("analyze", run_id, "--method", "toy-seq", "--store", str(root))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: run {run_id} is a composition mlp run; --method toy-seq needs")
    assert "sequence" in err
    assert not analysis_path(RunStore(root), run_id, "toy-seq").exists()
    with pytest.raises(ConfigError, match="needs a run of a task offering sequence"):
        check_method_run(RunStore(root), run_id, TOY_SEQ)


def test_unknown_and_duplicate_names(toys, run_cli, tmp_path):
    code, _, err = run_cli("analyze", "x", "--method", "nope", "--store", str(tmp_path))
    assert code == 2 and "unknown analysis method 'nope'; use one of irreps," in err
    assert "toy-norms" in err  # a registered method is offered
    with pytest.raises(ConfigError, match="registered already"):
        register_method(TOY)
    with pytest.raises(ConfigError, match="built-in"):
        unregister_method("irreps")
    with pytest.raises(ConfigError, match="unknown option"):
        Method(name="bad", schema=1, options=frozenset({"--nope"}))


def test_option_of_another_method_names_the_methods_that_take_it(toys, run_cli, tmp_path):
    args = ("analyze", "x", "--method", "toy-norms", "--store", str(tmp_path))
    code, _, err = run_cli(*args, "--inputs", "rare")
    assert (
        code == 2
        and err == "error: --inputs belongs to --method failures or shortcuts, not toy-norms\n"
    )


SCHEMAS_OF_MAIN = {
    "irreps": 2, "cosets": 1, "interventions": 1, "verdict": 1, "failures": 1, "shortcuts": 1,
    "logic": 2, "mechanism": 3, "probes": 1, "patching": 1, "lens": 1, "scrub": 1,
}  # fmt: skip
"""analysis/store.py SCHEMAS before the registry, written out."""


def test_schema_versions_are_those_of_stored_analyses():
    from algolens.analysis.store import SCHEMAS

    assert dict(SCHEMAS) == SCHEMAS_OF_MAIN


@pytest.mark.parametrize("method", sorted(set(SCHEMAS_OF_MAIN) - {"irreps"}))
def test_a_stored_analysis_written_before_the_registry_loads(tmp_path, method):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"group": "C3", "seeds": [0]})
    from algolens.analysis.store import run_fingerprint

    data = {
        "method": method,
        "schema": SCHEMAS_OF_MAIN[method],
        "algolens_version": __version__,
        "run": run_id,
        "source": {"file": "final.safetensors", "size": 10, "mtime_ns": 5},
        "config_fingerprint": run_fingerprint(store.paths(run_id).root),
        "created": "2026-12-01T10:00:00+00:00",
        "instances": [{"instance": 0, "seed": 0, "value": 0.25}],
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    data["content_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    path = analysis_path(store, run_id, method)
    path.parent.mkdir()
    path.write_text(json.dumps(data, indent=1))
    found = cached(store, run_id, method, lambda: pytest.fail("recomputed"), source=data["source"])
    assert found["reused"] is True and found["instances"] == data["instances"]


ACCEPTS = {
    ("composition", "mlp"): {"irreps", "cosets", "interventions", "verdict"},
    ("composition", "transformer"): {"irreps"},
    ("recursion", "transformer"): {"failures", "shortcuts", "probes", "patching", "lens", "scrub"},
    ("pathfinding", "transformer"): {"mechanism", "probes", "patching", "lens", "scrub"},
}
"""Which built-in methods take runs of which task and model (as before the registry)."""


@pytest.mark.parametrize(("task", "model"), sorted(ACCEPTS))
def test_built_in_methods_accept_the_runs_they_accepted_before(task, model):
    from types import SimpleNamespace

    from algolens.analysis.methods import analyze_methods

    config = SimpleNamespace(task=task, model=model)
    taken = {m.name for m in analyze_methods() if m.problem(config) is None}
    assert taken == ACCEPTS[task, model]


def test_methods_follow_traits_not_task_names(monkeypatch):
    """A task offering ``tree-paths`` gets the mechanism finder, whatever it is called."""
    from types import SimpleNamespace

    from algolens.analysis import methods
    from algolens.analysis.causal.run import _pathfinding_data, data_function

    monkeypatch.setattr(methods, "task_traits", lambda task: frozenset({"sequence", "tree-paths"}))
    monkeypatch.setattr(
        "algolens.analysis.causal.run.task_traits", methods.task_traits, raising=True
    )
    config = SimpleNamespace(task="mazes", model="transformer")
    assert methods.find_method("mechanism").problem(config) is None
    assert methods.find_method("failures").problem(config) == "--method failures needs " + (
        "a recursion run (e.g. `algolens train --task recursion --function successor`)"
    )
    assert data_function(config) is _pathfinding_data


def test_coset_method_on_a_prime_order_group_is_refused_before_any_work(tmp_path, run_cli):
    from algolens.train import make_config, start_run

    store = RunStore(tmp_path)
    run_id = start_run(make_config("fast", group="C5", seeds=[0], epochs=2), store)["run_id"]
    for method in ("cosets", "interventions", "verdict"):
        code, out, err = run_cli("analyze", run_id, "--method", method, "--store", str(tmp_path))
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"is a composition mlp run; --method {method} needs a group of composite" in err
        assert "C5 has order 5" in err
    assert not (store.paths(run_id).root / "analyses").exists()


def _largest_left(model, group) -> dict:
    """The toy coset method's per-instance function: the largest |entry| of the left
    pre-activation table and the group's order."""
    w_a, _ = model.folded_weights()
    return {"largest_left": float(w_a[0].detach().abs().max()), "order": group.order}


def _overall(results: list[dict]) -> dict:
    """The toy coset method's ``combine``: the largest entry over the instances."""
    return {"overall": max(r["largest_left"] for r in results)}


@pytest.fixture
def toy_coset():
    from algolens.analysis.builtin_methods import coset_method

    method = register_method(coset_method("toy-coset", _largest_left, combine=_overall))
    yield method
    unregister_method(method.name)


def test_a_coset_method_registered_once_reaches_run_method_and_analyze(toy_coset, s3_run, run_cli):
    from algolens.analysis.composition.verdict import METHODS, run_method
    from algolens.train.load import load_run_model

    root, run_id = s3_run
    store = RunStore(root)
    assert METHODS["toy-coset"] is _largest_left
    _, model = load_run_model(store, run_id)
    w_a, _ = model.folded_weights()
    expected = [float(w_a[k].detach().abs().max()) for k in range(2)]
    got = run_method(store, run_id, "toy-coset")
    assert [r["largest_left"] for r in got["instances"]] == expected
    assert [r["order"] for r in got["instances"]] == [6, 6] and got["overall"] == max(expected)
    code, out, err = run_cli("analyze", run_id, "--method", "toy-coset", "--json",
                             "--store", str(root))  # fmt: skip
    assert code == 0, err
    stored = json.loads(analysis_path(store, run_id, "toy-coset").read_text())
    assert stored["overall"] == max(expected) and stored["schema"] == 1
    assert [r["largest_left"] for r in stored["instances"]] == expected


def test_a_method_registered_after_import_is_listed_in_analyze_help(run_cli):
    import algolens.cli.analyze  # noqa: F401  (the command and its help exist before the method)

    code, out, _ = run_cli("analyze", "--help")
    assert code == 0 and "toy-norms" not in out
    register_method(TOY)
    try:
        code, out, _ = run_cli("analyze", "--help")
    finally:
        unregister_method(TOY.name)
    assert code == 0
    flat = " ".join(out.split())
    assert "toy-norms: each parameter's norm per instance" in flat
    assert "toy-norms" in flat[flat.index("--method") :]  # the option's list too
