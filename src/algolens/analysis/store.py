"""Analyses stored in the run folder, so reports and sweeps reuse them instead of recomputing.

Layout inside a run folder::

    <run>/analyses/<method>.json               the final weights, every instance
    <run>/analyses/<method>-progress-<k>.json  instance k over the saved checkpoints

Each file is one JSON object written atomically: ``{"method", "schema", "algolens_version",
"run", "source", "created", ...the analysis...}``. A stored analysis is reused only when its
``method``, ``schema`` (:data:`SCHEMAS`, bumped whenever a method's output changes) and
``algolens_version`` equal the running code's and its ``source`` (what it was computed from, e.g.
the weights file's name, size and mtime, or the list of checkpoint epochs) equals the current
one; otherwise, or with ``force``, it is recomputed and overwritten.
Nothing is written when the computation raises. Files are strict JSON: a non-finite number (a
constant neuron's concentration, a correlation over no pairs) is stored, and returned, as
``null``, so a fresh and a reused analysis are the same dict.

Integrity. Like a checkpoint, each file carries ``content_sha256``, the SHA-256 of the canonical
JSON (sorted keys, no spaces) of everything else in it, and ``config_fingerprint``, the run's
:meth:`TrainConfig.fingerprint` when it was computed. On read (:func:`verified_analysis`):

* a file that is not a JSON object, whose hash does not match its content, or (current method,
  schema and version) whose fields fail :func:`algolens.analysis.store_schema.schema_problem`,
  is refused with one line naming the file (:class:`StoreError`); ``--force`` recomputes it;
* a file without ``content_sha256`` (written before stored analyses were hashed), of another schema
  or version, of another config fingerprint (``config.json`` changed) or another ``source``, is
  stale: recomputed, never an error.

The run's ``config.json`` is validated on every read (:func:`algolens.train.load.run_config`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens import __version__
from algolens.analysis.methods import find_method, schemas
from algolens.analysis.store_schema import schema_problem
from algolens.errors import StoreError
from algolens.fileio import write_json_atomic
from algolens.store import RunStore

ANALYSES_DIR = "analyses"


class _Schemas(Mapping[str, int]):
    """Method name -> stored schema version, read from the method registry
    (:attr:`algolens.analysis.methods.Method.schema`) whenever it is looked up, so a method
    registered later (:func:`~algolens.analysis.methods.register_method`) is known."""

    def __getitem__(self, name: str) -> int:
        return schemas()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(schemas())

    def __len__(self) -> int:
        return len(schemas())

    def __repr__(self) -> str:
        return repr(schemas())


SCHEMAS: Mapping[str, int] = _Schemas()
"""Output schema of each analysis method, from the registry (:mod:`algolens.analysis.methods`;
e.g. ``SCHEMAS["irreps"] == 2``)."""


def analysis_path(store: RunStore, run_id: str, method: str, instance: int | None = None) -> Path:
    """The file of ``method``'s final analysis (``instance=None``) or of one instance's
    progress over checkpoints."""
    name = method if instance is None else f"{method}-progress-{instance}"
    return store.paths(run_id).root / ANALYSES_DIR / f"{name}.json"


HASH_KEY = "content_sha256"
"""The key of a stored analysis's content hash (:func:`content_hash`)."""


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``data`` without its :data:`HASH_KEY`.

    Examples:
        >>> content_hash({"a": 1, "b": [2.5]}) == content_hash({"b": [2.5], "a": 1, HASH_KEY: "x"})
        True
    """
    payload = {k: v for k, v in data.items() if k != HASH_KEY}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def run_fingerprint(run_root: Path) -> str:
    """The fingerprint of the config of the run folder ``run_root``, validated (and checked
    against its weights) now (:func:`algolens.train.load.folder_config`)."""
    from algolens.train.load import folder_config

    return folder_config(run_root).fingerprint()


def _refuse(path: Path, method: str, why: str) -> StoreError:
    """The one-line refusal of a stored analysis file, saying how to recompute it."""
    run = path.parent.parent.name
    over = " --checkpoints" if "-progress-" in path.name else ""
    known = find_method(method)
    fix = (known.recompute if known is not None else None) or (
        f"recompute it with `algolens analyze {run} --method {method}{over} --force`"
    )
    return StoreError(f"stored analysis {path} {why}; {fix}")


def verified_analysis(
    path: Path, method: str, fingerprint: str, *, irreps: Collection[str] | None = None
) -> dict[str, Any] | None:
    """The stored analysis at ``path`` when it exists, passes its content hash and schema, and
    is current (``method``, schema, version and config ``fingerprint``); None when missing or
    stale. ``source`` is left to the caller.

    Args:
        irreps: the labels of the run's group's irreps, to check every irrep name against.

    Raises:
        StoreError: a file that is not a JSON object, fails its content hash, or (when current)
            fails the schema check; the message names the file and says ``--force`` recomputes.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _refuse(path, method, f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise _refuse(path, method, "is not valid JSON") from None
    if not isinstance(data, dict):
        raise _refuse(path, method, "is not a JSON object")
    if HASH_KEY not in data:  # written before stored analyses were hashed: stale
        return None
    try:
        valid = data[HASH_KEY] == content_hash(data)
    except ValueError:  # a non-finite number: not what this module writes
        valid = False
    if not valid:
        raise _refuse(path, method, "does not match its content hash (edited or corrupted)")
    current = data.get("method") == method and data.get("schema") == SCHEMAS[method]
    if not (current and data.get("algolens_version") == __version__):
        return None
    problem = schema_problem(method, data, irreps)
    if problem is not None:
        raise _refuse(path, method, f"is malformed: {problem}")
    return data if data.get("config_fingerprint") == fingerprint else None


def read_analysis(
    path: Path, method: str, source: Any = None, *, irreps: Collection[str] | None = None
) -> dict[str, Any] | None:
    """The stored analysis at ``path`` (``<run>/analyses/<name>.json``) if it exists, passes
    :func:`verified_analysis` against the run's current config, and was computed from
    ``source``.

    Raises:
        StoreError: a tampered or malformed file (see :func:`verified_analysis`).
        ConfigError, CheckpointError: the run's ``config.json`` is invalid or does not match
            its weights.
    """
    fingerprint = run_fingerprint(path.parent.parent)  # <run>/analyses/<name>.json
    data = verified_analysis(path, method, fingerprint, irreps=irreps)
    return data if data is not None and data.get("source") == source else None


def cached(
    store: RunStore,
    run_id: str,
    method: str,
    compute: Callable[[], dict[str, Any]],
    *,
    instance: int | None = None,
    source: Any = None,
    force: bool = False,
    irreps: Collection[str] | None = None,
) -> dict[str, Any]:
    """The stored analysis, or ``compute()`` stamped with method, schema, version, config
    fingerprint and ``source`` (JSON-serialisable), hashed, then saved.

    Args:
        irreps: the labels of the run's group's irreps, checked in a stored ``irreps`` analysis.

    Returns:
        the analysis dict, with ``"reused": True`` when it came from the file.

    Raises:
        StoreError: without ``force``, a stored file that is tampered or malformed.
    """
    path = analysis_path(store, run_id, method, instance)
    fingerprint = run_fingerprint(store.paths(run_id).root)
    if not force:
        found = verified_analysis(path, method, fingerprint, irreps=irreps)
        if found is not None and found.get("source") == source:
            return {**found, "reused": True}
    body = compute()
    data = {
        "method": method,
        "schema": SCHEMAS[method],
        "algolens_version": __version__,
        "run": run_id,
        "source": source,
        "config_fingerprint": fingerprint,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **body,
    }
    data = finite_or_none(data)
    data[HASH_KEY] = content_hash(data)
    path.parent.mkdir(exist_ok=True)
    write_json_atomic(path, data)
    return {**data, "reused": False}


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every NaN or ±inf float (nested in dicts, lists, tuples) replaced by None.

    Examples:
        >>> finite_or_none({"a": [1.0, float("nan")], "b": float("inf"), "c": "x"})
        {'a': [1.0, None], 'b': None, 'c': 'x'}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    return obj
