"""The registry of analysis methods: one :class:`Method` record per method, the single place that
says what a method is called, how its result is stored, which runs it accepts, which
``algolens analyze`` options it takes, how it is checked, computed and shown, and which report
section shows it.

Everything else derives from here: the ``--method`` list, ``--help`` and option checks of
``algolens analyze`` (:mod:`algolens.cli.analyze`), the stored schema versions
(:data:`algolens.analysis.store.SCHEMAS`), the coset and causal method lists and the run report's
method sections (:mod:`algolens.report.sections`).

Which runs a method accepts is said in *traits* (:mod:`algolens.tasks.traits`), never in task
names: a method applies to a run when ``method.requires <= task_traits(config.task)`` and, if
``method.models`` is given, the run's model kind is one of them. :func:`check_method_run` is the
one check every method runs before any work; a run the method does not apply to is refused with
:class:`~algolens.errors.ConfigError` (:func:`not_applicable`), in one line saying which run
would do.

A method from outside the package is added with :func:`register_method` (see "Add an analysis
method" in ``docs/architecture.md``). This module imports nothing heavy (no torch): the CLI
reads it to build ``--help``; the built-in methods (:mod:`algolens.analysis.builtin_methods`)
import their code only when called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from algolens.errors import ConfigError
from algolens.tasks.traits import task_traits

if TYPE_CHECKING:
    from algolens.store import RunStore
    from algolens.train.config import TrainConfig

OPTIONS: tuple[str, ...] = ("--inputs", "--hypothesis", "--checkpoints", "--tally", "--checkpoint")
"""The method-specific options of ``algolens analyze`` a :class:`Method` may take (every method
takes ``--instance``, ``--force``, ``--json``, ``--store`` and ``--threads``)."""


@dataclass(frozen=True)
class Options:
    """The options of one ``algolens analyze`` call that a method's check and compute read."""

    instance: int | None = None
    force: bool = False
    epoch: int | None = None
    """The checkpoint ``--checkpoint`` names (None: the final weights)."""
    inputs: str | None = None
    hypotheses: tuple[str, ...] = ()
    checkpoints: bool = False
    tally: bool = False


CheckFn = Callable[["RunStore", str, "TrainConfig", Options], None]
ComputeFn = Callable[["RunStore", str, Options], dict[str, Any]]
InstanceFn = Callable[[Any, Any], dict[str, Any]]
"""``fn(one-instance model, group) -> JSON dict``: a coset-family method on one instance."""


@dataclass(frozen=True)
class Method:
    """One analysis method.

    Attributes:
        name: the ``--method`` name; also the stored file's name (``analyses/<name>.json``) and
            its ``method`` field.
        schema: the stored output's schema version (bumped whenever the output changes; a stored
            analysis of another version is recomputed).
        help: what ``algolens analyze --help`` says after the method's name (or after the names
            of its family): ``": what it computes."`` or ``" (which runs): what it computes."``.
        requires: the traits a run's task must offer (:func:`algolens.tasks.traits.task_traits`).
        models: the model kinds it accepts (``mlp``, ``transformer``); None: any.
        needs: the runs it accepts, in words, with an example (the refusal says it); default:
            from ``requires`` and ``models``.
        options: the method-specific options it takes (a subset of :data:`OPTIONS`).
        check: ``check(store, run_id, config, options)``: the method's own checks after the
            shared one (:func:`check_method_run`), raising before any work; None: none.
        compute: ``compute(store, run_id, options) -> dict`` with ``"instances"`` (a list, one
            entry per instance): the stored (or freshly computed) analysis, normally through
            :func:`algolens.analysis.store.cached` with ``name``; None: another command stores it
            (``algolens analyze`` does not offer the method).
        show: ``show(outputs, options)`` prints the outputs of :attr:`compute` as text; None: a
            table of each instance's numbers and strings.
        cli: a whole ``algolens analyze`` flow of its own, ``cli(request)`` (irreps: over
            checkpoints and tallied over runs); None: the shared flow (check every run, compute
            each, ``show``).
        section: the report section showing the stored analysis: a module path whose
            ``section(report, store, run_id) -> bool`` is imported lazily, or that function;
            None: none (or shown by another method's section).
        family: methods of one family are listed together in ``--help`` (default: ``name``).
        called: how messages name it (default ``--method <name>``).
        recompute: how to recompute a refused stored file when ``algolens analyze`` does not
            compute the method (default: ``algolens analyze RUN --method <name> --force``).
        per_instance: a coset-family method's function of one instance,
            ``fn(one-instance MLP, group) -> JSON dict``
            (:func:`algolens.analysis.composition.verdict.run_method` runs it on every instance of
            a run).
        combine: ``combine(per-instance results) -> dict`` of entries added to the run's
            result beside ``"instances"`` (``interventions``: ``"mean"``); None: none.
        ensure: ``ensure(store, run_id)``: compute and store what a run's report shows of the
            method by default, when missing or stale
            (:func:`algolens.analysis.ensure.ensure_defaults` calls it, on the runs the method
            applies to and whose check passes, before ``algolens report`` renders); None: the
            report shows the method only when it is stored already.
    """

    name: str
    schema: int
    help: str = ""
    requires: frozenset[str] = frozenset()
    models: frozenset[str] | None = None
    needs: str | None = None
    options: frozenset[str] = frozenset()
    check: CheckFn | None = None
    compute: ComputeFn | None = None
    show: Callable[[list[dict[str, Any]], Options], None] | None = None
    cli: Callable[[Any], None] | None = None
    section: str | Callable[..., bool] | None = None
    family: str = ""
    called: str = ""
    recompute: str | None = None
    per_instance: InstanceFn | None = None
    combine: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None
    ensure: Callable[[RunStore, str], Any] | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(
                f"analysis method name {self.name!r} must be letters, digits, - and _ only"
            )
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise ConfigError(
                f"method {self.name}: unknown option(s) {', '.join(unknown)}; "
                f"use some of {', '.join(OPTIONS)}"
            )
        object.__setattr__(self, "requires", frozenset(self.requires))
        object.__setattr__(self, "options", frozenset(self.options))
        if self.models is not None:
            object.__setattr__(self, "models", frozenset(self.models))
        object.__setattr__(self, "family", self.family or self.name)
        object.__setattr__(self, "called", self.called or f"--method {self.name}")

    @property
    def analyzable(self) -> bool:
        """Whether ``algolens analyze`` offers it (it has a :attr:`compute`)."""
        return self.compute is not None

    def runs_needed(self) -> str:
        """The runs it accepts, in words (:attr:`needs` or from the traits and models)."""
        if self.needs:
            return self.needs
        models = f" {' or '.join(sorted(self.models))}" if self.models else ""
        traits = ", ".join(sorted(self.requires))
        offers = f" of a task offering {traits}" if traits else ""
        return f"a{models} run{offers}"

    def problem(self, config: TrainConfig) -> str | None:
        """Why the method does not apply to a run of ``config``, or None when it does."""
        missing = self.requires - task_traits(config.task)
        if missing or (self.models is not None and config.model not in self.models):
            return f"{self.called} needs {self.runs_needed()}"
        return None


_METHODS: dict[str, Method] = {}
_BUILT_IN_LOADED = False


def _registry() -> dict[str, Method]:
    """The registry, with the built-in methods registered first (on first use)."""
    global _BUILT_IN_LOADED
    if not _BUILT_IN_LOADED:
        _BUILT_IN_LOADED = True
        from algolens.analysis.builtin_methods import BUILT_IN

        for m in BUILT_IN:
            _METHODS[m.name] = m
    return _METHODS


def register_method(method: Method, *, replace: bool = False) -> Method:
    """Add ``method`` to the registry (after every method registered before it), so
    ``algolens analyze --method NAME``, the analysis store and the run report know it.

    Raises:
        ConfigError: a method of that name is registered already (unless ``replace``).
    """
    reg = _registry()
    if method.name in reg and not replace:
        raise ConfigError(
            f"analysis method {method.name!r} is registered already; pick another name"
        )
    reg[method.name] = method
    return method


def unregister_method(name: str) -> None:
    """Remove a method added by :func:`register_method` (tests); a built-in one cannot be."""
    from algolens.analysis.builtin_methods import BUILT_IN

    if any(m.name == name for m in BUILT_IN):
        raise ConfigError(f"{name} is a built-in analysis method; it cannot be removed")
    _registry().pop(name, None)


def methods() -> list[Method]:
    """Every registered method, built-in ones first, in registration order."""
    return list(_registry().values())


def analyze_methods() -> list[Method]:
    """The methods ``algolens analyze`` offers (those with a :attr:`Method.compute`)."""
    return [m for m in methods() if m.analyzable]


def family(name: str) -> tuple[str, ...]:
    """Names of the methods of family ``name``, e.g. ``family("cosets")``."""
    return tuple(m.name for m in methods() if m.family == name)


def schemas() -> dict[str, int]:
    """Stored method name -> schema version, of every registered method."""
    return {m.name: m.schema for m in methods()}


def find_method(name: str) -> Method | None:
    """The registered method ``name`` (offered by ``analyze`` or not), or None."""
    return _registry().get(name)


def method_named(name: str) -> Method:
    """The method ``algolens analyze --method NAME`` runs.

    Raises:
        ConfigError: no such method (or one that ``analyze`` does not compute).
    """
    m = _registry().get(name)
    if m is None or not m.analyzable:
        names = ", ".join(m.name for m in analyze_methods())
        raise ConfigError(f"unknown analysis method {name!r}; use one of {names}")
    return m


def or_list(names: Iterable[str]) -> str:
    """``a, b or c``.

    Examples:
        >>> or_list(["a"]), or_list(["a", "b", "c"])
        ('a', 'a, b or c')
    """
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def not_applicable(run_id: str, config: TrainConfig, problem: str) -> ConfigError:
    """The one refusal of a run a method does not apply to: ``run R is a TASK MODEL run;
    --method M needs ...`` (one line)."""
    return ConfigError(f"run {run_id} is a {config.task} {config.model} run; {problem}")


def check_method_run(
    store: RunStore, run: str, method: str | Method, options: Options | None = None
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a run ``method`` applies to, before any work: the run exists, its
    config is valid, its task offers the method's traits and its model kind is accepted, the
    instance asked for exists, it has weights; then the method's own :attr:`Method.check`.

    Raises:
        StoreError: unknown run. ConfigError: a run the method does not apply to
            (:func:`not_applicable`) or an instance out of range. CheckpointError: no weights.
        And whatever the method's own check raises.
    """
    from algolens.analysis.runs import weights_source
    from algolens.train.load import run_config

    m = method if isinstance(method, Method) else find_method(method)
    if m is None:
        raise ConfigError(f"unknown analysis method {method!r}; see `algolens analyze --help`")
    opts = options or Options()
    run_id = store.get(run).id
    config = run_config(store, run_id)
    problem = m.problem(config)
    if problem is not None:
        raise not_applicable(run_id, config, problem)
    n = len(config.seeds)
    if opts.instance is not None and not 0 <= opts.instance < n:
        raise ConfigError(f"--instance must lie in 0..{n - 1}, got {opts.instance}")
    weights_source(store, run_id)
    if m.check is not None:
        m.check(store, run_id, config, opts)
    return run_id, config


def lazy(path: str) -> Callable[..., Any]:
    """A function that imports ``module:name`` on its first call and calls it (so the registry
    and ``--help`` import no analysis code)."""
    module, _, name = path.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    call.__doc__ = f"``{path}`` (imported when called)."
    return call
