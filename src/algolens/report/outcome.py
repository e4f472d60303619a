"""How a sequence run ended, in its report: where and why early stopping stopped it, and a
"did not learn" line when its greedy test exact match is below the threshold
(:mod:`algolens.train.learned`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from algolens.report.html import HtmlReport
from algolens.train.learned import learned_status


def outcome_section(report: HtmlReport, summary: Mapping[str, Any]) -> None:
    """Append the paragraphs (nothing for a summary without ``early_stop`` or ``learned``)."""
    stop = summary.get("early_stop")
    if isinstance(stop, Mapping):
        best = ", ".join(f"{100 * x:.1f} %" for x in stop.get("val_best", []))
        report.paragraph(
            f"Early stopping on greedy exact match of {stop.get('val_n')} validation inputs held "
            f"back from training (stop at {100 * stop.get('threshold', 0):.0f} % or after "
            f"{stop.get('patience')} checks without improvement): stopped at epoch "
            f"{stop.get('stopped_epoch')} ({stop.get('reason')}); best per seed {best}."
        )
    verdict = summary.get("learned")
    if learned_status(summary) is not None and isinstance(verdict, Mapping):
        exact = ", ".join(f"{100 * x:.1f} %" for x in verdict.get("test_exact", []))
        report.paragraph(
            f"Did not learn: greedy exact match on the in-distribution test split is {exact} "
            f"(per seed), below {100 * verdict.get('threshold', 0):.0f} %. Try more epochs, a "
            "larger model (n_layers, d_model), more training data or another learning rate."
        )
