"""Read-time schema checks of stored analyses (``<run>/analyses/*.json``).

A stored analysis passes its content hash (:mod:`algolens.analysis.store`) and is then checked
here before any reader touches it: the stamps every method has, and for the ``irreps`` method
(the one the reports and ``analyze`` print field by field) the type of every field the readers
use, irrep names included. Numbers may be ``null`` (a non-finite value is stored as null) but
never strings or booleans. Other methods get the generic check: stamps, and ``instances`` (when
present) a list of objects.

:func:`schema_problem` returns a short description of the first problem, or None.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

_STAMPS: dict[str, type | tuple[type, ...]] = {
    "method": str,
    "schema": int,
    "algolens_version": str,
    "run": str,
    "created": str,
    "config_fingerprint": str,
}

_TEXT_LOSSES = ("excluded_on",)
"""Keys of an irreps analysis's ``losses`` that hold text (the split the excluded loss is on)."""


class _Bad(Exception):
    """A schema problem at a path inside the analysis."""


def _number(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"{where} is {type(value).__name__} {str(value)[:20]!r}, not a number")


def _int(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where} is not an integer")


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"{where} is not a list")
    return value


def _irrep(name: Any, labels: Collection[str], where: str) -> None:
    if not isinstance(name, str) or name not in labels:
        raise _Bad(f"{where} names {str(name)[:20]!r}, not an irrep of the run's group")


def _numbers(value: Any, where: str, labels: Collection[str] | None = None) -> dict[str, Any]:
    d = _dict(value, where)
    for k, v in d.items():
        if labels is not None:
            _irrep(k, labels, f"{where}")
        _number(v, f"{where}.{k}")
    return d


def _irreps_entry(d: Any, where: str, known: Collection[str] | None) -> None:
    """One metric dict of :meth:`IrrepAnalysis.to_dict` (plus instance, seed, epoch)."""
    d = _dict(d, where)
    for key in ("instance", "seed"):
        if key in d:
            _int(d[key], f"{where}.{key}")
    if d.get("epoch") is not None:
        _int(d["epoch"], f"{where}.epoch")
    similarity = _numbers(d.get("similarity"), f"{where}.similarity", known)
    labels = known if known is not None else list(similarity)
    for i, name in enumerate(_list(d.get("key_irreps"), f"{where}.key_irreps")):
        _irrep(name, labels, f"{where}.key_irreps[{i}]")
    _number(d.get("logit_fve", ""), f"{where}.logit_fve")
    _number(d.get("sum_sq_weights", ""), f"{where}.sum_sq_weights")
    _numbers(d.get("weight_fve"), f"{where}.weight_fve")
    by_irrep = _dict(d.get("weight_fve_by_irrep"), f"{where}.weight_fve_by_irrep")
    for w, v in by_irrep.items():
        _numbers(v, f"{where}.weight_fve_by_irrep.{w}", labels)
    losses = _dict(d.get("losses"), f"{where}.losses")
    for k, v in losses.items():
        if k in _TEXT_LOSSES:
            if not isinstance(v, str):
                raise _Bad(f"{where}.losses.{k} is not a string")
        else:
            _number(v, f"{where}.losses.{k}")
    neurons = _dict(d.get("neurons"), f"{where}.neurons")
    for k, v in neurons.items():
        if k == "assigned":
            for lab, count in _dict(v, f"{where}.neurons.assigned").items():
                if lab != "dead":
                    _irrep(lab, labels, f"{where}.neurons.assigned")
                _int(count, f"{where}.neurons.assigned.{lab}")
        elif k == "key_fve":
            _numbers(v, f"{where}.neurons.key_fve")
        elif not isinstance(v, list):
            _number(v, f"{where}.neurons.{k}")


def _irreps(data: dict[str, Any], known: Collection[str] | None) -> None:
    if "series" in data:  # one instance over checkpoints
        for key in ("instance", "seed"):
            _int(data.get(key), key)
        for i, e in enumerate(_list(data.get("epochs"), "epochs")):
            _int(e, f"epochs[{i}]")
        for i, row in enumerate(_list(data["series"], "series")):
            _irreps_entry(row, f"series[{i}]", known)
        measures = _dict(data.get("measures"), "measures")
        for i, name in enumerate(_list(measures.get("learning_order"), "learning_order")):
            _irrep(name, known if known is not None else [name], f"learning_order[{i}]")
        return
    for i, inst in enumerate(_list(data.get("instances"), "instances")):
        _irreps_entry(inst, f"instances[{i}]", known)


def schema_problem(
    method: str, data: dict[str, Any], irreps: Collection[str] | None = None
) -> str | None:
    """The first schema problem of stored analysis ``data`` of ``method``, or None.

    Args:
        irreps: the labels of the run's group's irreps, when the caller has them (``irreps``
            method: every irrep name must be one of them).

    Examples:
        >>> schema_problem("cosets", {"method": "cosets", "instances": 3})
        'schema is missing or not int'
    """
    try:
        for key, kind in _STAMPS.items():
            if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
                raise _Bad(f"{key} is missing or not {kind.__name__}")  # type: ignore[union-attr]
        if "instances" in data:
            for i, inst in enumerate(_list(data["instances"], "instances")):
                _dict(inst, f"instances[{i}]")
        if method == "irreps":
            _irreps(data, irreps)
    except _Bad as exc:
        return str(exc)
    return None
