"""The group of a run, resolved once and stored in the run folder as ``group.json``.

A config names its group by a spec string (``S5``, ``my_table.json``, ``gap:SmallGroup(24,12)``),
but what a spec resolves to depends on the working directory, on the content of a table file and
on an external program. So :func:`~algolens.train.run.start_run` resolves the spec once, writes
the resulting group (table, labels, name, permutations) to ``<run>/group.json`` and pins its
SHA-256 in the config (``group_sha256``, hashed into the config fingerprint). Every later reader
(resume, model loading, reports, analyses) reads the group back from the run folder and checks the
hash; nothing re-resolves a stored spec.

The hash is over a canonical encoding, independent of how the JSON file is laid out::

    sha256( json(name, order, labels, perms shape; sorted keys, no spaces) + "\\n"
            + table as little-endian int64 bytes + perms as little-endian int64 bytes )
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from algolens.errors import AlgolensError, CheckpointError, ConfigError
from algolens.fileio import write_text_atomic
from algolens.groups import FiniteGroup
from algolens.train.config import TrainConfig, validate_config

GROUP_FILE = "group.json"
GROUP_FORMAT = "algolens-group/1"
_RETRAIN = "retrain the run from its config (algolens train --config ...)"


def group_sha256(group: FiniteGroup) -> str:
    """SHA-256 (hex) of the canonical encoding of ``group`` (see the module docstring).

    Examples:
        >>> from algolens.groups import parse_group
        >>> group_sha256(parse_group("C3")) == group_sha256(parse_group("C3"))
        True
        >>> group_sha256(parse_group("C4")) == group_sha256(parse_group("C2xC2"))
        False
    """
    return _sha256(group.name, list(group.labels), group.table, group.perms)


def _sha256(name: str, labels: list[str], table: np.ndarray, perms: np.ndarray | None) -> str:
    perms = None if perms is None else np.ascontiguousarray(perms, dtype="<i8")
    head = {
        "format": GROUP_FORMAT,
        "name": name,
        "order": int(table.shape[0]),
        "labels": labels,
        "perms_shape": None if perms is None else list(perms.shape),
    }
    h = hashlib.sha256(json.dumps(head, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    h.update(np.ascontiguousarray(table, dtype="<i8").tobytes())
    if perms is not None:
        h.update(perms.tobytes())
    return h.hexdigest()


def pin_group(config: TrainConfig, group: FiniteGroup) -> TrainConfig:
    """``config`` with ``group_sha256`` set to ``group``'s hash.

    Raises:
        ConfigError: the config already pins a different group (its spec now resolves to another
            table than the one it was written for).
    """
    sha = group_sha256(group)
    if config.group_sha256 is not None and config.group_sha256 != sha:
        raise ConfigError(
            f"group {config.group!r} now resolves to a table with SHA-256 {sha[:12]}..., but the "
            f"config pins {config.group_sha256[:12]}...; restore that table or drop group_sha256"
        )
    return validate_config({**config.to_dict(), "group_sha256": sha})


def write_group_file(folder: str | Path, group: FiniteGroup, spec: str) -> Path:
    """Write ``folder/group.json`` atomically; returns its path.

    The file holds ``format``, ``spec`` (informational), ``name``, ``order``, ``sha256``,
    ``labels``, ``perms`` (or null) and ``table``, one table row per line.
    """
    path = Path(folder) / GROUP_FILE
    head: dict[str, Any] = {
        "format": GROUP_FORMAT,
        "spec": spec,
        "name": group.name,
        "order": group.order,
        "sha256": group_sha256(group),
        "labels": list(group.labels),
        "perms": None if group.perms is None else np.asarray(group.perms).tolist(),
    }
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    rows = ",\n".join("    " + json.dumps(r, separators=(",", ":")) for r in group.table.tolist())
    write_text_atomic(path, "{\n" + "\n".join(lines) + '\n  "table": [\n' + rows + "\n  ]\n}\n")
    return path


def read_group_file(folder: str | Path, expected_sha256: str | None) -> FiniteGroup:
    """The group stored in ``folder/group.json``, checked against ``expected_sha256``.

    Raises:
        CheckpointError: no such file (a run trained before groups were stored), no pinned hash,
            an unreadable file, or a group whose hash differs from ``expected_sha256``.
    """
    folder = Path(folder)
    path = folder / GROUP_FILE
    if expected_sha256 is None or not path.is_file():
        raise CheckpointError(
            f"run {folder.name} has no stored group ({GROUP_FILE} or group_sha256 missing: it was "
            f"trained by an older algolens, or killed before training began); {_RETRAIN}"
        )
    try:
        data = json.loads(path.read_text())
        name, labels = str(data["name"]), [str(x) for x in data["labels"]]
        table = np.asarray(data["table"], dtype=np.int64)
        perms = None if data["perms"] is None else np.asarray(data["perms"], dtype=np.int64)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} is unreadable ({str(exc)[:80]}); {_RETRAIN}") from None
    sha = _sha256(name, labels, table, perms)
    if sha != expected_sha256:
        raise CheckpointError(
            f"{path} was changed after training: its SHA-256 is {sha[:12]}..., the run's config "
            f"pins {expected_sha256[:12]}...; restore the file or {_RETRAIN}"
        )
    try:
        return FiniteGroup(table, name=name, labels=labels, perms=perms)
    except AlgolensError as exc:  # only if config.json was edited to pin a non-group table
        raise CheckpointError(f"{path} is damaged ({str(exc)[:80]}); {_RETRAIN}") from None
