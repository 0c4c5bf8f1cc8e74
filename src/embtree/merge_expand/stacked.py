"""The stacked classifiers of Merge & Expand phases 3-4: B models trained as one.

:func:`train_stacked`
    B classifiers (one-hidden-layer MLPs, or LeNet-5-sized CNNs through ``torch.func.vmap``)
    trained together by one Adam on the stacked parameters.
:func:`predict_stacked`
    Their softmax outputs and argmax labels, in row chunks.
"""

from __future__ import annotations

import math

__all__ = ["train_stacked", "predict_stacked"]


class _StackedMLP:
    """B one-hidden-layer MLPs (ReLU) as stacked weight tensors: one batched matmul per layer.

    Cheaper than ``vmap`` for these tiny models (no per-call functional overhead);
    initialisation as ``torch.nn.Linear`` (uniform +-1/sqrt(fan_in)).
    """

    def __init__(self, n_models, n_in, hidden, n_out, generator):
        import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

        def u(shape, fan_in):
            bound = 1.0 / math.sqrt(fan_in)
            return ((torch.rand(shape, generator=generator) * 2 - 1) * bound).requires_grad_(True)

        self.params = [u((n_models, n_in, hidden), n_in), u((n_models, 1, hidden), n_in),
                       u((n_models, hidden, n_out), hidden), u((n_models, 1, n_out), hidden)]

    def __call__(self, X):
        import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

        W1, b1, W2, b2 = self.params
        return torch.baddbmm(b2, torch.relu(torch.matmul(X, W1) + b1), W2)  # (B, n, C)


class _StackedModule:
    """B copies of a ``torch.nn.Module`` stacked with ``torch.func`` and called through ``vmap``."""

    def __init__(self, n_models, arch, generator):
        import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it
        from torch.func import stack_module_state  # deferred with torch

        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        params, self.buffers = stack_module_state([arch() for _ in range(n_models)])
        self.names = list(params)
        self.params = [params[k].detach().clone().requires_grad_(True) for k in self.names]
        self.base = arch().to("meta")

    def __call__(self, X):
        from torch.func import functional_call, vmap  # deferred with torch

        def call(params, buffers, x):
            return functional_call(self.base, ({**dict(zip(self.names, params)), **buffers}), (x,))

        return vmap(call, in_dims=(0, 0, None))(self.params, self.buffers, X)


def _lenet(in_shape, n_out):
    """LeNet-5-sized CNN (LeCun 1998; the paper's 7-layer classifier), padded for small images."""
    import torch.nn as nn  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    c, h, w = in_shape
    hh, ww = h // 2 // 2, w // 2 // 2
    if hh < 1 or ww < 1:
        raise ValueError(f"images of shape {in_shape} are too small for the LeNet-5 classifier (need >= 4x4)")
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * hh * ww, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, n_out),
    )


def _make_models(arch, n_models, n_in, n_out, generator):
    """``arch``: ("mlp", hidden) -> :class:`_StackedMLP`; ("cnn", in_shape) -> LeNet-5 through vmap."""
    kind, spec = arch
    if kind == "mlp":
        return _StackedMLP(n_models, n_in, spec, n_out, generator)
    return _StackedModule(n_models, lambda: _lenet(spec, n_out), generator)


def train_stacked(X, Y, class_mask, *, arch=("mlp", 32), seed=0, steps=200, lr=0.01, weight_decay=1e-4,
                  batch_size=256, min_train_accuracy=0.9):
    """Train B classifiers at once as one stacked model (not a Python loop of training runs).

    Every model sees the same inputs with its own targets; a target ``-1``
    leaves that sample out of that model's loss (leave-one-out predictors), and
    ``class_mask`` switches classes off per model (merged-pair predictors). The
    loss is the sum over models of their mean cross entropy, so one Adam step on
    the stacked parameters is B independent Adam steps (Adam is elementwise).

    Parameters
    ----------
    X : torch.Tensor of shape (n, n_in) or (n, C, H, W), float32, shared inputs
    Y : torch.Tensor of shape (B, n), int64 targets in 0..C-1, or -1 (excluded)
    class_mask : torch.Tensor of shape (B, C), bool, classes each model may predict
    arch : ("mlp", hidden) or ("cnn", (C, H, W))
    steps, batch_size : Adam steps on seeded mini-batches (whole set when n <= batch_size)

    Returns
    -------
    the trained stacked model (callable: X -> logits (B, n, C))

    Raises
    ------
    RuntimeError
        When a model's training accuracy stays below ``min_train_accuracy``.
    """
    import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    B, n = Y.shape
    n_out = class_mask.shape[1]
    gen = torch.Generator().manual_seed(int(seed))
    model = _make_models(arch, B, X.shape[1] if X.ndim == 2 else None, n_out, gen)
    opt = torch.optim.Adam(model.params, lr=lr, weight_decay=weight_decay)
    w = (Y >= 0).float()
    Yc = Y.clamp(min=0)
    neg = torch.where(class_mask, 0.0, float("-inf"))[:, None, :]  # (B, 1, C)
    for _ in range(steps):
        b = slice(None) if n <= batch_size else torch.randint(0, n, (batch_size,), generator=gen)
        logp = torch.log_softmax(model(X[b]) + neg, dim=-1)
        nll = -logp.gather(-1, Yc[:, b, None])[..., 0]
        wb = w[:, b]
        loss = ((nll * wb).sum(dim=1) / wb.sum(dim=1).clamp(min=1)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    pred = predict_stacked(model, X, class_mask)[1]
    keep = Y >= 0
    acc = ((pred == Y) & keep).sum(dim=1).float() / keep.sum(dim=1).clamp(min=1)
    worst = float(acc.min())
    if worst < min_train_accuracy:
        raise RuntimeError(
            f"classifier did not converge: training accuracy {worst:.3f} < merge_expand.min_train_accuracy="
            f"{min_train_accuracy} after merge_expand.steps={steps} (raise steps or lr)"
        )
    return model


def predict_stacked(model, X, class_mask, chunk=2048):
    """Softmax outputs (B, n, C) float32 and argmax labels (B, n) int64, in chunks of ``chunk`` rows."""
    import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    neg = torch.where(class_mask, 0.0, float("-inf"))[:, None, :]
    probs = []
    with torch.no_grad():
        for start in range(0, X.shape[0], chunk):
            probs.append(torch.softmax(model(X[start:start + chunk]) + neg, dim=-1))
    P = torch.cat(probs, dim=1)
    return P, P.argmax(dim=-1)
