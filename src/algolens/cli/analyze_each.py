"""What every method of ``algolens analyze`` shares: the request (store, runs, options), the check
of the method-specific options against the method's registry record
(:class:`algolens.analysis.methods.Method`), and the flow that checks every run, then analyses
each in turn (with ``weights``: saying on stderr when it reads a checkpoint, not the final
weights, and adding the weights used as ``"weights"``), keeps the one instance asked for, and
prints JSON when asked or the method's text otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algolens.analysis.methods import Method, Options, analyze_methods, or_list
from algolens.cli.output import print_json, print_table, status
from algolens.errors import ConfigError
from algolens.store import RunStore


@dataclass(frozen=True)
class Request:
    """One ``algolens analyze`` call: ``method`` on ``runs`` of ``store`` with its options."""

    store: RunStore
    runs: list[str]
    method: str
    instance: int | None
    force: bool
    json: bool
    inputs: str | None = None
    hypotheses: tuple[str, ...] = ()
    epoch: int | None = None
    """The checkpoint ``--checkpoint`` names (None: the final weights)."""
    weights: Callable[[str], dict[str, Any]] | None = None
    """``weights(run_id)``: the weights an analysis reads, said on stderr when not the final
    ones (:func:`algolens.cli.weights.note_weights`); added to each output as ``"weights"``."""
    checkpoints: bool = False
    tally: bool = False

    @property
    def options(self) -> Options:
        """The options a method's check and compute read."""
        return Options(
            instance=self.instance, force=self.force, epoch=self.epoch, inputs=self.inputs,
            hypotheses=self.hypotheses, checkpoints=self.checkpoints, tally=self.tally,
        )  # fmt: skip

    def each(
        self, check: Callable[[str], tuple[str, Any]], analyse: Callable[[str], dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        """``check(run)`` for every run first (every input error before any work; returns
        ``(run_id, config)``), then ``analyse(run_id)`` for each (a spinner on a terminal
        meanwhile), each output's ``instances`` cut to ``[instance]`` when one is given.

        Returns:
            The outputs, for the caller to print as text; ``None`` when ``json``: then
            ``{"method": method, "runs": outputs}`` has been printed as JSON.
        """
        run_ids = [check(run)[0] for run in self.runs]
        outputs = []
        for run_id in run_ids:
            with status(f"{self.method}: run {run_id}"):
                out = analyse(run_id)
            used = self.weights(run_id) if self.weights is not None else None
            if self.instance is not None:
                out = {**out, "instances": [out["instances"][self.instance]]}
            outputs.append(out if used is None else {**out, "weights": used})
        if self.json:
            print_json({"method": self.method, "runs": outputs})
            return None
        return outputs


def takers(option: str) -> list[str]:
    """Names of the ``analyze`` methods that take ``option`` (e.g. ``--inputs``)."""
    return [m.name for m in analyze_methods() if option in m.options]


def check_options(method: Method, opts: Options, *, checkpoint: bool = False) -> None:
    """Refuse a method-specific option the method does not take, naming the methods that do
    (``checkpoint``: ``--checkpoint`` was given).

    Raises:
        ConfigError: e.g. ``--inputs belongs to --method failures or shortcuts, not irreps``.
    """
    name = method.name
    for option, given in (("--inputs", opts.inputs is not None), ("--hypothesis", opts.hypotheses)):
        if given and option not in method.options:
            raise ConfigError(f"{option} belongs to --method {or_list(takers(option))}, not {name}")
    if (opts.checkpoints and "--checkpoints" not in method.options) or (
        opts.tally and "--tally" not in method.options
    ):
        raise ConfigError(
            f"--checkpoints and --tally belong to --method {or_list(takers('--checkpoints'))}, "
            f"not {name}"
        )
    if checkpoint and ("--checkpoint" not in method.options or opts.checkpoints):
        users = [
            f"{m} (without --checkpoints)" if m in takers("--checkpoints") else m
            for m in takers("--checkpoint")
        ]
        raise ConfigError(
            f"--checkpoint belongs to --method {or_list(users)}, "
            f"not {name}{' --checkpoints' if opts.checkpoints else ''}"
        )


def run_method(req: Request, method: Method) -> None:
    """Run ``method`` as ``req`` asks: its own flow (:attr:`Method.cli`), or check every run
    (:func:`algolens.analysis.methods.check_method_run`), compute each, then print (JSON, the
    method's :attr:`Method.show`, or a table per run)."""
    from algolens.analysis.methods import check_method_run

    if method.cli is not None:
        method.cli(req)
        return
    assert method.compute is not None  # analyze offers only methods that compute
    compute, opts = method.compute, req.options
    outputs = req.each(
        lambda run: check_method_run(req.store, run, method, opts),
        lambda run_id: compute(req.store, run_id, opts),
    )
    if outputs is None:
        return
    (method.show or show_rows)(outputs, opts)


def show_rows(outputs: list[dict[str, Any]], opts: Options) -> None:
    """The text of a method without its own :attr:`Method.show`: per run, a table of each
    instance's numbers and strings (:func:`scalars`)."""
    for out in outputs:
        title = f"{out.get('method', 'analysis')}: run {out['run']}"
        print_rows(title, [scalars(row) for row in out["instances"]])


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """A table of dict rows, one column per key seen (``-`` where a row lacks it)."""
    columns = list(dict.fromkeys(c for row in rows for c in row))
    print_table(title, columns, [[row.get(c, "-") for c in columns] for row in rows])


def scalars(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Numbers and strings of a result, one level of nested dicts flattened (``a.b``), lists as
    their length (``#name``): a table row for any method's per-instance JSON."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = prefix + k
        if isinstance(v, float):
            out[name] = f"{v:.4g}"
        elif isinstance(v, (int, str)) or v is None:
            out[name] = v
        elif isinstance(v, list):
            out["#" + name] = len(v)
        elif isinstance(v, dict) and not prefix:
            out.update(scalars(v, name + "."))
    return out
