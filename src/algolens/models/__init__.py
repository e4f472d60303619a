"""Small torch models with TransformerLens hook names and K seeded instances.

Build one from its kind and a JSON config dict::

    >>> model = build_model("mlp", {"d_vocab": 6, "d_embed": 8, "d_mlp": 4, "n_inst": 2})
    >>> model.init_weights([1, 2])
    >>> type(model).__name__, model.cfg.n_inst
    ('MLP', 2)
"""

from __future__ import annotations

from typing import Any

import torch

from algolens.errors import ConfigError
from algolens.models.config import ModelConfig
from algolens.models.hooks import BatchedModel
from algolens.models.mlp import MLP, MLPConfig
from algolens.models.tl_native import to_tl_native
from algolens.models.transformer import Transformer, TransformerConfig, last_position

MODEL_CONFIGS: dict[str, type[ModelConfig]] = {"mlp": MLPConfig, "transformer": TransformerConfig}
MODEL_CLASSES: dict[str, type[BatchedModel]] = {"mlp": MLP, "transformer": Transformer}


def build_model(kind: str, config: dict[str, Any] | ModelConfig) -> BatchedModel:
    """The model of ``kind`` (``"mlp"`` or ``"transformer"``) for a config dict or object.

    Raises:
        ConfigError: unknown kind, a config of another kind, or invalid/unknown fields.
    """
    if kind not in MODEL_CONFIGS:
        raise ConfigError(f"unknown model kind {kind!r}; use one of {', '.join(MODEL_CONFIGS)}")
    cls = MODEL_CONFIGS[kind]
    if isinstance(config, ModelConfig):
        if not isinstance(config, cls):
            raise ConfigError(
                f"model kind {kind!r} needs a {cls.__name__}, got {type(config).__name__}"
            )
        cfg = config
    else:
        cfg = cls.from_dict(config)
    try:
        return MODEL_CLASSES[kind](cfg)
    except (MemoryError, RuntimeError) as exc:  # e.g. d_mlp = 100000000 in a config file
        if not isinstance(exc, MemoryError | torch.OutOfMemoryError) and "allocate" not in str(exc):
            raise
        raise ConfigError(
            f"the {kind} model of these model_args does not fit in memory (torch could not "
            "allocate its weights); choose smaller sizes (d_model, d_mlp, n_layers, seeds)"
        ) from None


def model_kind(model: BatchedModel) -> str:
    """The registry key of a model (inverse of :func:`build_model`)."""
    for kind, cls in MODEL_CLASSES.items():
        if type(model) is cls:
            return kind
    raise ConfigError(f"{type(model).__name__} is not a registered model class")


__all__ = [
    "MLP",
    "MODEL_CLASSES",
    "MODEL_CONFIGS",
    "BatchedModel",
    "MLPConfig",
    "ModelConfig",
    "Transformer",
    "TransformerConfig",
    "build_model",
    "last_position",
    "model_kind",
    "to_tl_native",
]
