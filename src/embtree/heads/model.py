"""The batched heads: ``H`` DINO-style MLP heads as stacked weights (paper 002 section 3).

:class:`BatchedHeads` (one GEMM / ``bmm`` per layer for all heads, no loop over heads).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["BatchedHeads"]


class _NormalizedLogits(torch.autograd.Function):
    """``F.normalize(h, dim=-1) @ last^T`` per head, with a hand-written backward.

    h : (H, n, b) float32 or bfloat16; last : (H, C, b) float32. Returns (H, n, C) float32.
    Autograd's version differentiates through the (H, n, b) normalisation (three passes
    over that tensor) and runs the skinny ``(n, C) @ (C, b)`` gradient GEMM in float32,
    ~10x slower than in bfloat16 on CPU; here ``grad_h`` is one GEMM plus one fused
    update, in h's dtype (bfloat16 gradients for bfloat16 activations, as autocast gives).
    With ``u = h / |h|`` and ``y = u W^T``: ``dW = G^T u``,
    ``dh = (G W - <G, y> u) / |h|`` (the normalisation's Jacobian ``(I - u u^T) / |h|``).
    """

    @staticmethod
    def forward(ctx, h, last):
        hf = h.to(torch.promote_types(h.dtype, last.dtype))
        norm = torch.linalg.vector_norm(hf, dim=-1, keepdim=True).clamp_min_(1e-12)  # eps as F.normalize
        u = hf / norm if hf is h else hf.div_(norm)  # never write into the caller's h
        y = torch.bmm(u, last.transpose(1, 2))
        ctx.save_for_backward(h, u, norm, last, y)
        return y

    @staticmethod
    def backward(ctx, G):
        h, u, norm, last, y = ctx.saved_tensors
        grad_last = torch.bmm(G.transpose(1, 2), u) if ctx.needs_input_grad[1] else None
        grad_h = None
        if ctx.needs_input_grad[0]:
            # dh = (G / |h|) W - (<G, y> / |h|^2) h: the scalings on the small (H, n, C) and
            # (H, n, 1) tensors, one GEMM and one in-place update over (H, n, b).
            dt = h.dtype
            coef = (G * y).sum(-1, keepdim=True).div_(norm.square())
            grad_h = torch.bmm((G / norm).to(dt), last.to(dt)).addcmul_(coef.to(dt), h, value=-1)
        return grad_h, grad_last


class BatchedHeads(torch.nn.Module):
    """``H`` independent MLP heads as stacked weights.

    Input ``x`` of shape (n, d) -> logits of shape (H, n, C). Layer ``l`` of every head is
    one tensor ``[H, in, out]``; the first layer (shared input) is a single GEMM, the
    others ``bmm``. The last layer is weight-normalised, ``w = g * v / ||v||`` per output
    row, without bias (the official code's DINOHead with ``norm_last_layer=False``).
    """

    def __init__(self, in_dim, n_clusters, *, num_heads=16, nlayers=2, hidden_dim=512, bottleneck_dim=256,
                 generator=None):
        super().__init__()
        H = num_heads
        dims = [in_dim] + [hidden_dim] * (nlayers - 1) + [bottleneck_dim]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            w = torch.empty(H, a, b)
            torch.nn.init.trunc_normal_(w, std=0.02, a=-2.0, b=2.0, generator=generator)
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(torch.zeros(H, b)))
        # nn.Linear's default init of the direction v; gain g = 1 (weight_norm then fill_(1)).
        bound = 1.0 / math.sqrt(bottleneck_dim)
        v = torch.empty(H, n_clusters, bottleneck_dim).uniform_(-bound, bound, generator=generator)
        self.last_v = torch.nn.Parameter(v)
        self.last_g = torch.nn.Parameter(torch.ones(H, n_clusters, 1))
        self.num_heads, self.in_dim, self.n_clusters = H, in_dim, n_clusters

    def forward(self, x, dtype=None):
        """Logits (H, n, C) of ``x`` (n, d).

        ``dtype=torch.bfloat16`` runs the hidden layers' GEMMs and GELUs in bfloat16 (weights
        cast per call, gradients flow back to the float32 parameters); the normalisation and
        the last layer stay in float32. CPUs with AVX512-BF16 / AMX run these GEMMs ~3x faster.
        """
        H = self.num_heads
        dt = dtype or self.weights[0].dtype
        # First layer: the shared input broadcast over heads; out (H, n, hidden) contiguous.
        h = torch.baddbmm(self.biases[0].to(dt)[:, None, :], x.to(dt).expand(H, -1, -1),
                          self.weights[0].to(dt))
        for w, b in zip(self.weights[1:], self.biases[1:]):
            h = torch.baddbmm(b.to(dt)[:, None, :], F.gelu(h), w.to(dt))
        last = self.last_g * F.normalize(self.last_v, dim=-1)  # (H, C, bottleneck)
        return _NormalizedLogits.apply(h, last)

    def last_layer_parameters(self):
        return [self.last_v, self.last_g]
