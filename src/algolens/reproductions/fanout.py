"""``reproduce PAPER --executor local|ray``: train a protocol's independent runs in parallel
through the sweep executors, then let the reproduction module measure them as usual.

A reproduction module whose runs do not depend on each other declares ``planned_configs(scale)``
(the configs of every run it would train, in order). The fan-out plans them as one sweep
(:func:`algolens.sweep.planned.plan_configs`; the same configs name the same sweep, so a second
call resumes it) and runs it with the chosen executor; the module's own ``ensure_run`` then finds
each run completed and reuses it, so the claims table is the one a sequential run gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from algolens.errors import SpecError, StoreError
from algolens.reproductions.claims import Reproduction, Scale
from algolens.reproductions.registry import REPRODUCTIONS, load_reproduction
from algolens.store import RunStore

if TYPE_CHECKING:
    from algolens.sweep.driver import ExecutorSettings


def fans_out(module: Reproduction) -> bool:
    """Whether ``module``'s runs are independent (it declares ``planned_configs``)."""
    return callable(getattr(module, "planned_configs", None))


def check_fan_out(paper: str, module: Reproduction) -> None:
    """Refuse ``--executor`` for a paper that declares no independent runs, before anything runs.

    Raises:
        SpecError: one line naming the papers that fan out.
    """
    if not fans_out(module):
        able = [p for p in REPRODUCTIONS if fans_out(load_reproduction(p))]
        raise SpecError(
            f"{paper} trains its runs in this process, one after another (--executor applies to "
            f"the protocols that declare their independent runs: {', '.join(able)}); "
            "drop --executor"
        )


def train_in_parallel(
    paper: str, module: Reproduction, scale: Scale, store: RunStore, settings: ExecutorSettings,
    *, log: Callable[[str], None],
) -> dict[str, Any]:  # fmt: skip
    """Train (or resume) every run of ``scale``'s protocol with ``settings``; the sweep summary.

    Raises:
        StoreError: a run failed or is busy in another process (rerunning the same command
            resumes the rest and retries the failed ones).
    """
    from algolens.sweep import run_sweep
    from algolens.sweep.planned import plan_configs

    check_fan_out(paper, module)
    configs = module.planned_configs(scale)  # type: ignore[attr-defined]
    plan = plan_configs(configs, f"reproduce {paper} --{scale.mode}")
    log(f"training {len(configs)} runs of {paper} --{scale.mode} as sweep {plan.sweep_id} "
        f"({settings.kind} executor)")  # fmt: skip
    summary = run_sweep(plan, store, settings, retry_failed=True, log=log)
    bad = [row for row in summary["configurations"] if row["status"] != "completed"]
    if bad:
        first = bad[0]
        raise StoreError(
            f"{len(bad)} of {len(configs)} runs of sweep {plan.sweep_id} did not complete (run "
            f"{first['run_id']}: {first.get('error') or first['status']}); run the same command "
            "again to resume them"
        )
    return summary
