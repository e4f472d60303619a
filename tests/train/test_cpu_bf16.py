"""bfloat16 matmuls on a CPU without a native kernel: the run goes on, with one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from algolens.errors import AlgolensWarning
from algolens.train import cpu_bf16
from algolens.train.cpu_bf16 import _cpu_flags, slow_bfloat16_note
from tests.train.conftest import composition_trainer, tiny_config

CPU = torch.device("cpu")


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch):
    """Set what :func:`native_bfloat16_matmul` answers."""

    def set_to(value: bool) -> None:
        monkeypatch.setattr(cpu_bf16, "native_bfloat16_matmul", lambda: value)

    return set_to


def test_the_note_is_for_bfloat16_matmuls_of_a_float32_model_on_a_slow_cpu(native) -> None:
    native(False)
    note = slow_bfloat16_note("bfloat16", "float32", CPU)
    assert note is not None and "no native bfloat16 matmul" in note and "\n" not in note
    assert slow_bfloat16_note(None, "float32", CPU) is None
    assert slow_bfloat16_note("float32", "float32", CPU) is None
    assert slow_bfloat16_note("bfloat16", "float64", CPU) is None  # MLP: float64 stays
    assert slow_bfloat16_note("bfloat16", "float32", torch.device("cuda")) is None
    native(True)
    assert slow_bfloat16_note("bfloat16", "float32", CPU) is None


def test_the_trainer_warns_once_and_still_builds(native) -> None:
    native(False)
    config = tiny_config(model_args={"d_embed": 16, "d_mlp": 16, "matmul_dtype": "bfloat16"})
    with pytest.warns(AlgolensWarning, match="no native bfloat16 matmul"):
        trainer = composition_trainer(config)
    assert trainer.model.cfg.matmul_dtype == "bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        composition_trainer(tiny_config())  # float32 matmuls: nothing to say


def test_cpu_flags_are_read_from_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512bw\n\n")
    assert _cpu_flags(info) == {"fpu", "avx2", "avx512bw"}
    assert _cpu_flags(tmp_path / "missing") == frozenset()
