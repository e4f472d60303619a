"""A run is a pure function of what it stores: the group is resolved once, into group.json."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load_file

from algolens.analysis.ensure import ensure_defaults
from algolens.errors import CheckpointError, ConfigError
from algolens.groups import FiniteGroup, parse_group
from algolens.report.composition import composition_report
from algolens.store import RunStore
from algolens.tasks.composition.training import build_task
from algolens.train.checkpoint import list_checkpoints, read_metadata, save_checkpoint
from algolens.train.config import validate_config
from algolens.train.load import load_run_group, load_run_model, run_config
from algolens.train.run import resume_run, start_run
from algolens.train.run_group import (
    GROUP_FILE,
    group_sha256,
    pin_group,
    read_group_file,
    write_group_file,
)
from tests.train.conftest import composition_trainer, tiny_config
from tests.train.tiny_runs import C4_TABLE, KLEIN_TABLE, train_tiny, write_table

LABELS = ["e", "r", "r2", "r3"]


@pytest.fixture
def two_dirs(tmp_path, monkeypatch):
    """Folders ``a`` (g.json = C4 with labels) and ``b`` (g.json = C2xC2); cwd = ``a``."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_table(a / "g.json", C4_TABLE, LABELS)
    write_table(b / "g.json", KLEIN_TABLE, LABELS)
    monkeypatch.chdir(a)
    return a, b


def _forbid_resolving_specs(monkeypatch) -> None:
    """Make every import of parse_group fail: nothing may resolve a stored spec again."""
    import algolens.groups
    import algolens.groups.catalog
    import algolens.report.composition
    import algolens.tasks.composition.task
    import algolens.train.run

    def forbidden(spec: str) -> FiniteGroup:
        raise AssertionError(f"parse_group({spec!r}) called on a stored run")

    for module in (
        algolens.groups, algolens.groups.catalog, algolens.tasks.composition.task,
        algolens.train.run, algolens.report.composition,
    ):  # fmt: skip
        monkeypatch.setattr(module, "parse_group", forbidden, raising=False)


@pytest.mark.parametrize("spec", ["S4", "D5", "C3xC2"])
def test_group_file_round_trip(tmp_path, spec):
    group = parse_group(spec)
    write_group_file(tmp_path, group, spec)
    back = read_group_file(tmp_path, group_sha256(group))
    assert back.name == group.name and back.labels == group.labels
    assert np.array_equal(back.table, group.table)
    assert (back.perms is None) == (group.perms is None)
    if group.perms is not None:
        assert np.array_equal(back.perms, group.perms)  # S_n irreps use the permutations
    data = json.loads((tmp_path / GROUP_FILE).read_text())
    assert data["spec"] == spec and data["sha256"] == group_sha256(group)


def test_hash_sees_table_labels_and_name():
    c4 = FiniteGroup(C4_TABLE, name="g", labels=LABELS)
    shas = {
        group_sha256(c4),
        group_sha256(FiniteGroup(KLEIN_TABLE, name="g", labels=LABELS)),
        group_sha256(FiniteGroup(C4_TABLE, name="g", labels=["e", "r", "r3", "r2"])),
        group_sha256(FiniteGroup(C4_TABLE, name="h", labels=LABELS)),
    }
    assert len(shas) == 4
    same = FiniteGroup(np.array(C4_TABLE, dtype=np.int32), name="g", labels=LABELS)
    assert group_sha256(c4) == group_sha256(same)


def test_resume_load_and_report_use_the_stored_group_not_the_spec(two_dirs, tmp_path, monkeypatch):
    a, b = two_dirs
    store = RunStore(tmp_path / "store")
    ref = train_tiny(store, "g.json")
    stopped = train_tiny(store, "g.json", stop_at=25)
    assert (store.paths(stopped).root / GROUP_FILE).is_file()
    write_table(a / "g.json", KLEIN_TABLE)  # edit the table file ...
    monkeypatch.chdir(b)  # ... and work from a folder whose g.json is another group
    _forbid_resolving_specs(monkeypatch)

    summary = resume_run(store, stopped)
    assert summary["resumed_from"] == 20 and summary["epochs"] == 40
    final = store.paths(stopped).final.read_bytes()
    assert final == store.paths(ref).final.read_bytes()  # as if trained without stopping on C4
    group = load_run_group(store, stopped)
    assert group.table.tolist() == C4_TABLE and group.labels == LABELS and group.name == "g"
    config, model = load_run_model(store, stopped)
    assert config.group == "g.json" and model.cfg.d_vocab == 4
    ensure_defaults(store, stopped)
    path, _ = composition_report(store, stopped)
    assert "Group g (order 4)" in path.read_text()


@pytest.mark.parametrize("edit", ["label", "table"])
def test_changed_group_file_is_refused(two_dirs, tmp_path, edit):
    store = RunStore(tmp_path / "store")
    run = train_tiny(store, "g.json", stop_at=5)
    path = store.paths(run).root / GROUP_FILE
    data = json.loads(path.read_text())
    if edit == "label":
        data["labels"][1] = "s"
    else:
        data["table"] = KLEIN_TABLE  # still a group, and the same order
    path.write_text(json.dumps(data))
    for load in (load_run_group, load_run_model, resume_run):
        with pytest.raises(CheckpointError, match="changed after training") as info:
            load(store, run)
        assert "\n" not in str(info.value)
    assert not store.paths(run).final.exists()


def _resign_weights(store: RunStore, run: str, fingerprint: str) -> None:
    """Give every weights file of ``run`` the config fingerprint ``fingerprint`` (validly signed),
    as an older algolens wrote them before the config had ``group_sha256``."""
    paths = store.paths(run)
    for path in [paths.final, *(p for _, p in list_checkpoints(paths.checkpoints))]:
        if path.is_file():
            meta = read_metadata(path)
            fmt = meta.pop("format")
            save_checkpoint(
                path, load_file(str(path)), meta | {"fingerprint": fingerprint}, fmt=fmt
            )


def test_run_without_stored_group_is_refused_with_how_to_recover(two_dirs, tmp_path):
    store = RunStore(tmp_path / "store")
    missing = train_tiny(store, "g.json", stop_at=5)
    (store.paths(missing).root / GROUP_FILE).unlink()
    unpinned = train_tiny(store, "g.json", stop_at=5)
    config_path = store.paths(unpinned).config
    config = json.loads(config_path.read_text())
    del config["group_sha256"]  # as written before group_sha256 existed
    config_path.write_text(json.dumps(config))
    _resign_weights(store, unpinned, validate_config(config).fingerprint())
    for run in (missing, unpinned):
        for load in (load_run_group, load_run_model, resume_run):
            with pytest.raises(CheckpointError, match="no stored group.*retrain"):
                load(store, run)


def test_one_spec_naming_two_tables_gives_two_fingerprints(two_dirs, tmp_path, monkeypatch):
    _, b = two_dirs
    store = RunStore(tmp_path / "store")
    in_a = train_tiny(store, "g.json", epochs=2)
    monkeypatch.chdir(b)
    in_b = train_tiny(store, "g.json", epochs=2)
    cfg_a, cfg_b = run_config(store, in_a), run_config(store, in_b)
    assert cfg_a.group == cfg_b.group == "g.json"
    assert cfg_a.group_sha256 != cfg_b.group_sha256
    assert cfg_a.fingerprint() != cfg_b.fingerprint()
    assert load_run_group(store, in_b).table.tolist() == KLEIN_TABLE


def test_a_pinned_config_refuses_another_table_before_creating_a_run(two_dirs, tmp_path):
    _, b = two_dirs
    pinned = pin_group(tiny_config(group="g.json"), parse_group(str(b / "g.json")))  # C2xC2
    store = RunStore(tmp_path / "store")
    with pytest.raises(ConfigError, match="pins"):
        start_run(pinned, store)  # cwd a: g.json is C4
    assert store.list() == []
    assert start_run(validate_config({**pinned.to_dict(), "group": str(b / "g.json")}), store)


def test_group_is_stored_before_training_starts(two_dirs, tmp_path):
    store = RunStore(tmp_path / "store")
    seen = []

    def on_start(run_id: str) -> None:
        folder = store.paths(run_id).root
        seen.append((folder / GROUP_FILE).is_file() and not any(folder.glob("checkpoints/*")))

    start_run(tiny_config(group="g.json", epochs=2), store, on_start=on_start)
    assert seen == [True]


def test_trainer_and_build_task_take_a_built_group_and_check_the_pin(two_dirs):
    c4 = FiniteGroup(C4_TABLE, name="g", labels=LABELS)
    pinned = pin_group(tiny_config(group="no-such-file.json"), c4)  # the spec is never read
    assert build_task(pinned, c4).targets.tolist() == [t for row in C4_TABLE for t in row]
    assert composition_trainer(pinned, c4).task.group is c4
    with pytest.raises(ConfigError, match="pins"):
        composition_trainer(pinned, FiniteGroup(KLEIN_TABLE, name="g", labels=LABELS))
