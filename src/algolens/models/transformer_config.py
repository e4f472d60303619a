"""The transformer's configuration: shapes, activation, biases, LayerNorm and initialisation.

Examples:
    >>> cfg = TransformerConfig(d_vocab=7, d_vocab_out=6, n_ctx=3, d_model=16, d_head=4,
    ...                         n_heads=4, d_mlp=32)
    >>> cfg.problems(), round(cfg.weight_std, 3)
    ([], 0.2)
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Literal

from algolens.models.config import ModelConfig, check_choice, check_int, check_positive

ACTS: tuple[str, ...] = ("relu", "gelu")
BIAS_MODES: tuple[str, ...] = ("frozen", "trainable", "none")
MATMUL_DTYPES: tuple[str, ...] = ("float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class TransformerConfig(ModelConfig):
    """Config of :class:`Transformer` (defaults: the Chughtai et al. group transformer)."""

    d_vocab: int  # input vocabulary (|G| + 1 for [a, b, =])
    d_vocab_out: int  # output vocabulary (|G|)
    n_ctx: int = 3  # longest sequence (learned positions)
    n_layers: int = 1
    n_heads: int = 4
    d_model: int = 128
    d_head: int = 32
    d_mlp: int = 512
    act: Literal["relu", "gelu"] = "relu"
    layernorm: bool = False
    bias: Literal["frozen", "trainable", "none"] = "frozen"  # frozen: present, zero, no grad
    init_std: float | None = None  # weight std; None = 0.8/sqrt(d_model) (TransformerLens)
    fold_embed: bool = True  # first-layer Q/K/V by table lookup when no hook needs the stream
    n_inst: int = 1  # seeds trained as one computation
    dtype: str = "float32"
    # Training only: "bfloat16" runs the matmuls of a forward entered in
    # Transformer.training_precision() in bfloat16 (mixed precision; see that method) when dtype
    # is float32. None or "float32", or a float64 copy (an analysis's): every matmul in dtype.
    # forward, evaluation and analyses always compute in dtype.
    matmul_dtype: str | None = None

    # Read by transformer_lens.patching and ActivationCache helpers (not fields, not saved).
    n_key_value_heads: ClassVar[None] = None
    device: ClassVar[None] = None
    attn_only: ClassVar[bool] = False

    @property
    def normalization_type(self) -> str | None:
        """TransformerLens's name for the norm: ``"LN"`` or None."""
        return "LN" if self.layernorm else None

    def problems(self) -> list[str]:
        p: list[str] = []
        for name in ("d_vocab", "d_vocab_out", "n_ctx", "n_layers", "n_heads", "d_model"):
            check_int(p, name, getattr(self, name))
        for name in ("d_head", "d_mlp", "n_inst"):
            check_int(p, name, getattr(self, name))
        check_choice(p, "act", self.act, ACTS)
        if not isinstance(self.fold_embed, bool):
            p.append(f"fold_embed must be true or false, got {self.fold_embed!r}")
        if not isinstance(self.layernorm, bool):
            p.append(f"layernorm must be true or false, got {self.layernorm!r}")
        check_choice(p, "bias", self.bias, BIAS_MODES)
        if self.init_std is not None:
            check_positive(p, "init_std", self.init_std)
        check_choice(p, "dtype", self.dtype, ("float32", "float64"))
        if self.matmul_dtype is not None:
            check_choice(p, "matmul_dtype", self.matmul_dtype, MATMUL_DTYPES)
        return p

    @property
    def weight_std(self) -> float:
        return self.init_std if self.init_std is not None else 0.8 / math.sqrt(self.d_model)
