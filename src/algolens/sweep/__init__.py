"""Sweeps: a grid of train configs, one batched run each, on every core or on a Ray cluster.

``spec`` reads and plans a sweep file; ``driver`` matches the plan with the run store, creates
and records runs (the only writer of the SQLite index); ``executors`` train the runs in local
processes or Ray tasks; ``worker`` is what one worker does with one run folder; ``summary``
builds the ``--json`` summary. See docs/sweeps.md.
"""

from algolens.sweep.driver import ExecutorSettings, run_sweep, sweep_status
from algolens.sweep.spec import Configuration, SweepPlan, load_sweep, sweep_id_of

__all__ = [
    "Configuration",
    "ExecutorSettings",
    "SweepPlan",
    "load_sweep",
    "run_sweep",
    "sweep_id_of",
    "sweep_status",
]
