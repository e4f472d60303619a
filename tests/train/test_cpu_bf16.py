"""bfloat16 matmuls on a CPU without a native kernel: the run goes on, with one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from algolens.errors import AlgolensWarning
from algolens.models import build_model
from algolens.models.transformer import Transformer, TransformerConfig
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


def test_the_note_is_for_bfloat16_matmuls_on_a_slow_cpu(native) -> None:
    native(False)
    note = slow_bfloat16_note(True, CPU)
    assert note is not None and "no native bfloat16 matmul" in note and "\n" not in note
    assert slow_bfloat16_note(False, CPU) is None
    assert slow_bfloat16_note(True, torch.device("cuda")) is None
    native(True)
    assert slow_bfloat16_note(True, CPU) is None


@pytest.mark.parametrize(
    ("model", "dtype", "matmul_dtype", "expected"),
    [
        ("transformer", "float32", "bfloat16", True),
        ("transformer", "float64", "bfloat16", False),  # the option acts on float32 models only
        ("transformer", "float32", None, False),
        ("mlp", "float32", "bfloat16", True),
        ("mlp", "float64", "bfloat16", True),  # the MLP's fused pass casts whatever the dtype
        ("mlp", "float32", "float32", False),
    ],
)
def test_a_model_says_whether_it_trains_with_bfloat16_matmuls(model, dtype, matmul_dtype, expected):
    if model == "transformer":
        cfg = TransformerConfig(d_vocab=5, d_vocab_out=5, n_ctx=4, d_model=8, d_head=4,
                                dtype=dtype, matmul_dtype=matmul_dtype)  # fmt: skip
        built = Transformer(cfg)
    else:
        built = build_model("mlp", {"d_vocab": 5, "d_embed": 4, "d_mlp": 4, "dtype": dtype,
                                    "matmul_dtype": matmul_dtype})  # fmt: skip
    assert built.trains_with_bfloat16_matmuls() is expected


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
