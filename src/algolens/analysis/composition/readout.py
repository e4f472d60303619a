"""A trained composition network seen as *features · unembedding*: the shape every analysis reads.

Both architectures of Chughtai et al. (2023) end in an affine read-out of some hidden vector of
the pair (a, b)::

    logits[a, b, :] = h[a, b, :] · U + u          # h: [d_feat], U: [d_feat, |G|], u: [|G|]

* **MLP**: ``h = ReLU(W_a[a] + W_b[b] (+ b_in))`` (the ``d_mlp`` neurons), ``U = W_U``,
  ``u = b_U`` (zero without biases).
* **1-layer transformer** on ``[a, b, =]``, no LayerNorm: at the last position
  ``resid_post = resid_mid + post · W_out + b_out`` and ``logits = resid_post · W_U + b_U``, so
  ``h = [post | resid_mid]`` (neurons first, then the stream that bypasses the MLP),
  ``U = [W_out · W_U ; W_U]`` (the first ``d_mlp`` rows are the *effective unembedding*) and
  ``u = b_out · W_U + b_U``.

The first ``n_neurons`` columns of ``h`` are the hidden neurons that the neuron metrics study; the
rest (transformer only) take part in the logits, the similarity and the losses. A
:class:`Readout` computes ``h`` for a block of left operands in float64, so the analyses never
hold more than one block of ``|G|²`` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models import MLP, BatchedModel, Transformer


@dataclass(frozen=True)
class Readout:
    """One instance of a composition network as ``h(a, b) · U + u``.

    Attributes:
        kind: ``"mlp"`` or ``"transformer"``.
        n: ``|G|``.
        features: ``features(a, dtype) -> [len(a), |G|, d_feat]``: ``h`` for left operands
            ``a`` (int64 ``[B]``) and every right operand b, in ``dtype`` (float64 or float32).
        unembed: ``U`` ``[d_feat, |G|]`` float64.
        bias: ``u`` ``[|G|]`` float64.
        n_neurons: the first ``n_neurons`` features are the hidden neurons.
        weights: the embedding-like matrices for weight FVE, each ``[|G|, k]`` float64 with one
            row per group element: ``W_a``, ``W_b``, ``W_U`` (``W_U`` is the transpose of the
            neurons' (effective) unembedding).
        sq_weights: Σ of squared trainable parameters (the paper's "sum of squared weights").
    """

    kind: str
    n: int
    features: Callable[[torch.Tensor, torch.dtype], torch.Tensor]
    unembed: torch.Tensor
    bias: torch.Tensor
    n_neurons: int
    weights: dict[str, np.ndarray]
    sq_weights: float

    @property
    def d_feat(self) -> int:
        return int(self.unembed.shape[0])

    def logits(self, a: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``[len(a), |G|, |G|]`` (a, b, c) logits of left operands ``a``, every b, in ``dtype``."""
        h = self.features(a, dtype)  # [B, n, d_feat]
        u, b = self.unembed.to(dtype), self.bias.to(dtype)
        return torch.addmm(b, h.reshape(-1, self.d_feat), u).view(len(a), self.n, self.n)


def readout(model: BatchedModel) -> Readout:
    """The :class:`Readout` of a single-instance model (``run_model.instance(k)``).

    Raises:
        ConfigError: a model with several instances, a transformer with more than one layer or
            with LayerNorm (its logits are then no affine function of one hidden vector), or a
            model class without a read-out.
    """
    if model.cfg.n_inst != 1:
        raise ConfigError(
            f"analyses take one instance; got a model with n_inst={model.cfg.n_inst} "
            "(use model.instance(k))"
        )
    if isinstance(model, MLP):
        return _mlp_readout(model)
    if isinstance(model, Transformer):
        return _transformer_readout(model)
    raise ConfigError(f"no irrep read-out for a {type(model).__name__}; use an MLP or transformer")


def _sq_weights(model: BatchedModel) -> float:
    with torch.no_grad():
        return float(sum(p.double().pow(2).sum() for p in model.parameters() if p.requires_grad))


def _mlp_readout(model: MLP) -> Readout:
    n = model.cfg.d_vocab
    with torch.no_grad():
        w_a, w_b = (_f64(w[0]) for w in model.folded_weights())  # [n, d_mlp] ×2
        w_u = _f64(model.W_U[0])  # [d_mlp, n]
        b_u = _zeros_if_none(model.b_U, n)  # [n]
        b_in = model.mlp.b_in
    if b_in is not None:
        w_a = w_a + _f64(b_in[0])  # the bias is one more constant; fold it into the left side
    tables = {torch.float64: (w_a, w_b), torch.float32: (w_a.float(), w_b.float())}

    def features(a: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        left, right = tables[dtype]
        return F.relu(left[a][:, None, :] + right[None, :, :])  # [B, n, d_mlp]

    weights = {"W_a": w_a.numpy(), "W_b": w_b.numpy(), "W_U": w_u.T.numpy()}
    return Readout("mlp", n, features, w_u, b_u, w_u.shape[0], weights, _sq_weights(model))


def _transformer_readout(model: Transformer) -> Readout:
    cfg = model.cfg
    if cfg.n_layers != 1 or cfg.layernorm:
        raise ConfigError(
            f"the irrep read-out needs a 1-layer transformer without LayerNorm; got "
            f"n_layers={cfg.n_layers}, layernorm={cfg.layernorm}"
        )
    n = cfg.d_vocab_out
    if cfg.d_vocab != n + 1 or cfg.n_ctx < 3:
        raise ConfigError(
            f"expected the [a, b, =] format (d_vocab = |G| + 1, n_ctx >= 3); got "
            f"d_vocab={cfg.d_vocab}, d_vocab_out={n}, n_ctx={cfg.n_ctx}"
        )
    block = model.blocks[0]
    with torch.no_grad():
        w_u = _f64(model.unembed.W_U[0])  # [d_model, n]
        b_u = _zeros_if_none(model.unembed.b_U, n)  # [n]
        w_out = _f64(block.mlp.W_out[0])  # [d_mlp, d_model]
        b_out = _zeros_if_none(block.mlp.b_out, cfg.d_model)  # [d_model]
        unembed = torch.cat([w_out @ w_u, w_u])  # [d_mlp + d_model, n]
        bias = b_out @ w_u + b_u  # [n]
        w_e = _f64(model.embed.W_E[0, :n]).numpy()  # [n, d_model], no `=` row
    names = ("blocks.0.mlp.hook_post", "blocks.0.hook_resid_mid")
    model64 = _float64_copy(model)

    def features(a: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        tokens = torch.stack(
            [
                a.repeat_interleave(n),
                torch.arange(n).repeat(len(a)),
                torch.full((len(a) * n,), n),
            ],
            dim=-1,
        )  # [B·n, 3]
        with torch.no_grad():
            _, cache = model64.run_with_cache(tokens, answer=True, names_filter=list(names))
        post = cache[names[0]][:, -1]  # [B·n, d_mlp]
        mid = cache[names[1]][:, -1]  # [B·n, d_model]
        return torch.cat([post, mid], dim=-1).view(len(a), n, -1).to(dtype)  # [B, n, d_feat]

    # the embedding serves both operands; W_U is the effective unembedding of the neurons
    weights = {"W_a": w_e, "W_b": w_e, "W_U": unembed[: cfg.d_mlp].T.numpy()}
    return Readout(
        "transformer", n, features, unembed, bias, cfg.d_mlp, weights, _sq_weights(model)
    )


def _f64(t: torch.Tensor) -> torch.Tensor:
    """A detached float64 copy (never an alias of a parameter)."""
    return t.detach().to(torch.float64, copy=True)


def _zeros_if_none(t: torch.Tensor | None, size: int) -> torch.Tensor:
    return torch.zeros(size, dtype=torch.float64) if t is None else _f64(t[0])


def _float64_copy(model: BatchedModel) -> BatchedModel:
    """The same single-instance model in float64 (the analyses' precision)."""
    copy = type(model)(model.cfg.replace(dtype="float64"))
    copy.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    return copy.eval()
