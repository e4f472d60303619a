"""Fused training pass of :class:`~algolens.models.mlp.MLP`: losses and gradients, no autograd.

For the trainer only (analyses use the hooked ``forward``). One call computes, for every instance
``k`` of the model, the mean cross-entropy over its rows and the gradient of
``sum_k weight[k] · loss[k]`` (weight 1 for a live instance with a finite loss, else 0): the
gradient autograd gives for the same loss, to float rounding (tests/models/test_mlp_fused.py
checks it in float64). What makes it faster than autograd on a CPU: no graph; scratch buffers
kept between calls (no page faults on fresh multi-MB tensors); gradients written into given
buffers; in-place updates (the pre-activation becomes ReLU's output, the logits become the
softmax and then the logit gradient, the hidden gradient is masked in place), so fewer passes over
the ``[batch, d_mlp]`` and ``[batch, d_vocab]`` tensors.

The backward, with ``pre = W_a[a] + W_b[b] (+ b_in)``, ``h = ReLU(pre)``, ``z = h · W_U (+ b_U)``
and ``s = weight / batch``::

    dz    = (softmax(z) - onehot(target)) · s          # [inst, batch, d_vocab] (kept transposed)
    dW_U  = hᵀ · dz ;  db_U = Σ_rows dz
    dpre  = (dz · W_Uᵀ) where h > 0 ;  db_in = Σ_rows dpre
    dW_a  = index_add over a of dpre ;  dW_b likewise over b        # [inst, d_vocab, d_mlp]
    dE_left = dW_a · W_in_leftᵀ ;  dW_in_left = E_leftᵀ · dW_a      (right side likewise)

Every operation is per instance (batched matmuls, row-wise reductions, an index-add whose rows of
instance k come from instance k only): instance k's result never reads another instance's data,
so changing another instance's values changes no bit of instance k. A K-instance call and a
1-instance call give instance k the same result to float rounding, not necessarily the same bits:
the batched matmuls of different batch counts may run different BLAS kernels (see
docs/training.md, "Where bits are guaranteed").

ReLU's backward runs in place through ``aten.threshold_backward.grad_input`` (a private op: no
mask tensor is allocated); :func:`relu_backward_kernel` falls back to a public ``masked_fill_``
if a torch release removes or changes it (tests/models/test_mlp_fused.py checks both).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from algolens.models.hooks import BatchedModel, Workspace

if TYPE_CHECKING:
    from algolens.models.mlp import MLP

__all__ = ["Workspace", "flat_ids", "fused_ok", "loss_and_grads", "relu_backward_kernel"]


def fused_ok(model: object) -> bool:
    """True if ``model`` declares a fused training pass usable now
    (:meth:`~algolens.models.hooks.BatchedModel.has_fused_pass`: an MLP with no hook attached)."""
    return isinstance(model, BatchedModel) and model.has_fused_pass()


def relu_backward_reference_(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``grad`` set to 0 in place where ReLU's output ``out`` (same shape) is not positive."""
    return grad.masked_fill_(out <= 0, 0.0)


def relu_backward_private_(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """:func:`relu_backward_reference_` by torch's private ``threshold_backward`` op."""
    return torch.ops.aten.threshold_backward.grad_input(grad, out, 0.0, grad_input=grad)


@functools.cache
def relu_backward_kernel() -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The private op if it exists and agrees with the reference on a probe, else the reference
    (decided on the first call; ``relu_backward_kernel.cache_clear()`` forgets it)."""
    out = torch.tensor([-1.0, 0.0, 2.0, 3.0, float("nan")])
    try:
        got = relu_backward_private_(torch.ones(5), out)
    except (AttributeError, TypeError, RuntimeError, NotImplementedError):
        return relu_backward_reference_
    want = relu_backward_reference_(torch.ones(5), out)
    ok = torch.equal(got, want)
    return relu_backward_private_ if ok else relu_backward_reference_


def flat_ids(ids: torch.Tensor, d_vocab: int) -> torch.Tensor:
    """``[inst, batch]`` operand ids -> ``[inst·batch]`` row ids of the flattened ``[inst·d_vocab]``
    tables (instance ``k``'s rows are ``k·d_vocab ...``)."""
    k = ids.shape[0]
    offsets = torch.arange(k, device=ids.device)[:, None] * d_vocab
    return (ids + offsets).reshape(-1)


@torch.no_grad()
def loss_and_grads(
    model: MLP,
    a: torch.Tensor,
    b: torch.Tensor,
    targets: torch.Tensor,
    alive: torch.Tensor,
    loss_dtype: torch.dtype,
    *,
    grads: dict[str, torch.Tensor] | None = None,
    work: Workspace | None = None,
    matmul_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Per-instance mean cross-entropy; sets the gradient of every parameter of ``model``.

    Args:
        model: an :class:`MLP` with ``k`` instances.
        a, b: ``[k·batch]`` flattened row ids (:func:`flat_ids`) of the left/right operands.
        targets: ``[k, batch]`` int64 answers.
        alive: ``[k]`` bool; an instance that is not alive, or whose loss is not finite, has
            weight 0 in the differentiated sum (weight 1 otherwise).
        loss_dtype: the logits are cast to this dtype before the softmax (as the trainer does).
        grads: where to write each parameter's gradient (by parameter name, tensors of the
            parameter's shape, overwritten); default: new tensors assigned to ``p.grad``.
        work: scratch tensors to reuse between calls.
        matmul_dtype: dtype of the three unembedding matmuls (forward logits, ``W_U`` gradient,
            hidden gradient), default the parameters'. ``torch.bfloat16``: their inputs are
            rounded to bfloat16, the BLAS accumulates in float32 and rounds each product to
            bfloat16, which is cast back (logits before the softmax, gradients before they are
            used); parameters, softmax, embedding tables and their gradients stay in the
            parameters' dtype (mixed precision; see docs/training.md for what it changes).

    Returns:
        ``[k]`` losses (in ``loss_dtype``), before any update.
    """
    cfg = model.cfg
    k, batch = targets.shape
    n, d, hid = cfg.d_vocab, cfg.d_embed, cfg.d_mlp
    e_left, e_right, w_u = model.W_E_left, model.W_E_right, model.W_U
    b_in, b_u = model.mlp.b_in, model.b_U
    w_in = model.mlp.W_in
    concat = cfg.embed_mode == "concat"
    w_left, w_right = (w_in[:, :d], w_in[:, d:]) if concat else (w_in, w_in)
    work = Workspace() if work is None else work
    if grads is None:
        params = dict(model.named_parameters())
        grads = {name: torch.empty_like(p) for name, p in params.items()}
        for name, p in params.items():
            p.grad = grads[name]

    # forward: both tables in one buffer, and each row's two lookups summed by one embedding_bag
    tables = work.get("tables", (2, k, n, hid), e_left)  # [W_a; W_b]
    torch.bmm(e_left, w_left, out=tables[0])  # W_a [k, n, hid]
    torch.bmm(e_right, w_right, out=tables[1])  # W_b [k, n, hid]
    pairs = torch.stack([a, b + k * n], 1)  # [k·batch, 2] rows of the two tables
    h = F.embedding_bag(pairs, tables.view(2 * k * n, hid), mode="sum")  # W_a[a] + W_b[b]
    h = h.view(k, batch, hid)
    if b_in is not None:
        h += b_in[:, None, :]
    h.clamp_min_(0.0)  # ReLU in place
    # The logits are kept transposed, [k, n, batch]: the softmax then reduces over an outer axis
    # (vectorised along the batch), about twice as fast on a CPU as over the inner 120.
    low = matmul_dtype is not None and matmul_dtype != w_u.dtype
    if low:  # h, W_U rounded once, for the forward and the backward
        h_mm = work.get("h_low", (k, batch, hid), h, matmul_dtype)
        h_mm.copy_(h)
        w_u_mm = w_u.to(matmul_dtype)  # [k, hid, n]
        z_low = torch.bmm(
            w_u_mm.transpose(1, 2),
            h_mm.transpose(1, 2),
            out=work.get("zT_low", (k, n, batch), h_mm),
        )
        z = work.get("zT", (k, n, batch), h, loss_dtype).copy_(z_low)
    else:
        h_mm, w_u_mm = h, w_u
        z_buf = work.get("zT", (k, n, batch), w_u)
        z = torch.bmm(w_u.transpose(1, 2), h.transpose(1, 2), out=z_buf)  # [k, n, batch]
    if b_u is not None:
        z += b_u[:, :, None]

    # cross-entropy and its gradient, in place on the logits
    if z.dtype != loss_dtype:
        z = z.to(loss_dtype)
    tgt = targets.unsqueeze(1)  # [k, 1, batch]
    z -= z.amax(1, keepdim=True)
    z_target = z.gather(1, tgt)  # [k, 1, batch]
    z.exp_()
    total = z.sum(1, keepdim=True)  # [k, 1, batch]
    losses = (total.log() - z_target).view(k, batch).mean(1)  # [k]
    weight = (alive.to(losses.device) & losses.isfinite()).to(loss_dtype) / batch  # [k]
    weight = weight.view(k, 1, 1)
    z *= weight / total  # softmax · weight
    z.scatter_add_(1, tgt, (-weight).expand_as(z_target))  # minus the one-hot · weight
    dz = z if z.dtype == w_u.dtype else z.to(w_u.dtype)  # [k, n, batch]

    # backward
    if b_u is not None:
        torch.sum(dz, 2, out=grads["b_U"])
    dh = work.get("dh", (k, batch, hid), h)
    if low:
        dz_mm = work.get("dz_low", (k, n, batch), h_mm).copy_(dz)
        grads["W_U"].copy_(torch.bmm(h_mm.transpose(1, 2), dz_mm.transpose(1, 2)))  # [k, hid, n]
        dh_low = work.get("dh_low", (k, batch, hid), h_mm)
        dh.copy_(torch.bmm(dz_mm.transpose(1, 2), w_u_mm.transpose(1, 2), out=dh_low))
    else:
        torch.bmm(h.transpose(1, 2), dz.transpose(1, 2), out=grads["W_U"])  # [k, hid, n]
        torch.bmm(dz.transpose(1, 2), w_u.transpose(1, 2), out=dh)
    relu_backward_kernel()(dh, h)  # dh where h > 0, else 0
    if b_in is not None:
        torch.sum(dh, 1, out=grads["mlp.b_in"])
    dh = dh.view(k * batch, hid)
    d_tables = work.get("d_tables", (2, k, n, hid), dh).zero_()
    dw_a = d_tables[0].view(k * n, hid).index_add_(0, a, dh).view(k, n, hid)
    dw_b = d_tables[1].view(k * n, hid).index_add_(0, b, dh).view(k, n, hid)
    torch.bmm(dw_a, w_left.transpose(1, 2), out=grads["W_E_left"])  # [k, n, d]
    torch.bmm(dw_b, w_right.transpose(1, 2), out=grads["W_E_right"])
    g_in = grads["mlp.W_in"]
    if concat:
        torch.bmm(e_left.transpose(1, 2), dw_a, out=g_in[:, :d])  # [k, d, hid]
        torch.bmm(e_right.transpose(1, 2), dw_b, out=g_in[:, d:])
    else:
        torch.bmm(e_left.transpose(1, 2), dw_a, out=g_in)
        g_in += torch.bmm(e_right.transpose(1, 2), dw_b)
    return losses
