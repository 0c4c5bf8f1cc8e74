"""Training and prediction of the TEMI / SCANv2 heads (paper 002 section 3).

:func:`train_heads` (student trained with AdamW, teacher = EMA of the student, head with
the lowest last-epoch loss selected), :func:`predict`, and the training's schedules
:func:`cosine_schedule` and :func:`ema_update`. The choices the paper leaves open, settled
as in the official code: docs/methods/heads.md.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from embtree.heads.knn import mine_knn
from embtree.heads.losses import scan_loss, temi_loss, update_prior
from embtree.heads.model import BatchedHeads
from embtree.heads.params import PARAMS, check_params, is_int, resolve_device
from embtree.validation import check_matrix

__all__ = ["train_heads", "predict", "cosine_schedule", "ema_update"]


def ema_update(teacher_params, student_params, momentum):
    """Teacher EMA in place: ``θ_t <- m θ_t + (1 - m) θ_s`` (one fused op per list)."""
    with torch.no_grad():
        torch._foreach_mul_(teacher_params, momentum)
        torch._foreach_add_(teacher_params, student_params, alpha=1 - momentum)


def cosine_schedule(base, final, epochs, iters_per_epoch, *, warmup_epochs=0, start_warmup=0.0):
    """Per-iteration schedule: linear warm-up ``start_warmup -> base``, then cosine ``base -> final``."""
    warmup = np.linspace(start_warmup, base, warmup_epochs * iters_per_epoch, endpoint=False) \
        if warmup_epochs > 0 else np.array([])
    n = epochs * iters_per_epoch - len(warmup)
    it = np.arange(n)
    cos = final + 0.5 * (base - final) * (1 + np.cos(np.pi * it / max(n, 1)))
    return np.concatenate([warmup, cos])[: epochs * iters_per_epoch]


def _prepare(features, p):
    """Validated features as a float32 tensor, normalised as the official ``--embed_norm`` / ``--l2_norm``."""
    X = torch.as_tensor(features, dtype=torch.float32)
    if p["embed_norm"]:
        X = (X - X.mean(0)) / X.std(0).clamp_min(1e-12)
    if p["l2_norm"]:
        X = F.normalize(X, dim=1)
    return X


def train_heads(features, head, *, n_clusters=None, neighbors=None, device="auto", progress=None, **params) -> dict:
    """Train ``num_heads`` student/teacher heads with the TEMI or SCANv2 loss.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Frozen embeddings (finite).
    head : {"temi", "scanv2"}
    n_clusters : int, ``2 <= n_clusters <= n_samples`` (overrides ``params['n_clusters']``)
    neighbors : ndarray of shape (n_samples, >= knn), optional
        Precomputed kNN indices (else :func:`mine_knn`).
    device : "auto" (CUDA when present), "cpu" or "cuda"
    progress : callable(epoch, head_losses, teacher), optional
        Called after every epoch with the (H,) mean losses of the epoch and the teacher.
    **params
        Keys of :data:`PARAMS`.

    Returns
    -------
    dict with
        ``model`` (the teacher :class:`BatchedHeads`), ``selected`` (int), ``epoch_loss``
        ndarray (epochs, H) per-head mean loss, ``epoch_lr`` (epochs,), ``neighbors``,
        ``seconds`` (training wall time), ``params`` (the full set), ``iterations``.
    """
    p = check_params(head, params)
    if n_clusters is not None:
        p["n_clusters"] = n_clusters
    X = check_matrix(features, "features", min_rows=2)
    n = X.shape[0]
    C = p["n_clusters"]
    if not is_int(C) or C < 2 or C > n:
        raise ValueError(f"n_clusters={C!r} must be an int with 2 <= n_clusters <= n_samples={n}")
    if n < p["knn"] + 1:
        raise ValueError(f"n_samples={n} must be >= knn + 1 = {p['knn'] + 1}")
    if neighbors is None:
        neighbors = mine_knn(X, p["knn"], backend=p["knn_backend"], chunk_mb=p["knn_chunk_mb"], nlist=p["knn_nlist"],
                             nprobe=p["knn_nprobe"])
    neighbors = np.asarray(neighbors)
    if neighbors.shape[0] != n or neighbors.ndim != 2 or neighbors.shape[1] < p["knn"]:
        raise ValueError(f"neighbors must have shape ({n}, >= {p['knn']}), got {neighbors.shape}")
    device = resolve_device(device)

    gen = torch.Generator().manual_seed(p["seed"])
    Xt = _prepare(X, p).to(device)
    nbr = torch.as_tensor(neighbors[:, : p["knn"]], dtype=torch.int64, device=device)
    B = min(p["batch_size"], n)
    iters = n // B  # the last incomplete batch is dropped (official code: drop_last)
    E = p["epochs"]
    scale = B / 256.0  # linear scaling rule of the official code
    lr_s = cosine_schedule(p["lr"] * scale, p["min_lr"] * scale, E, iters, warmup_epochs=min(p["warmup_epochs"], E))
    wd_s = cosine_schedule(p["weight_decay"], p["weight_decay_end"], E, iters)
    mom_s = cosine_schedule(p["momentum_teacher"], p["max_momentum_teacher"], E, iters)
    wt = min(p["warmup_teacher_temp_epochs"], E)
    tt_s = np.concatenate([np.linspace(p["warmup_teacher_temp"], p["teacher_temp"], wt),
                           np.full(E - wt, p["teacher_temp"])])

    student = BatchedHeads(Xt.shape[1], C, num_heads=p["num_heads"], nlayers=p["nlayers"],
                           hidden_dim=p["hidden_dim"], bottleneck_dim=p["bottleneck_dim"], generator=gen).to(device)
    teacher = BatchedHeads(Xt.shape[1], C, num_heads=p["num_heads"], nlayers=p["nlayers"],
                           hidden_dim=p["hidden_dim"], bottleneck_dim=p["bottleneck_dim"]).to(device)
    teacher.load_state_dict(student.state_dict())
    teacher.requires_grad_(False)
    s_params, t_params = list(student.parameters()), list(teacher.parameters())
    decay = [*student.weights, student.last_v, student.last_g]
    no_decay = list(student.biases)
    opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}])
    last_layer = student.last_layer_parameters()
    prior = torch.full((p["num_heads"], C), 1.0 / C, device=device)

    dtype = torch.bfloat16 if p["precision"] == "bfloat16" else torch.float32
    epoch_loss = np.zeros((E, p["num_heads"]))
    epoch_lr = np.zeros(E)
    t0 = time.perf_counter()
    it = 0
    for epoch in range(E):
        perm = torch.randperm(n, generator=gen)[: iters * B].to(device)
        pick = torch.randint(p["knn"], (n,), generator=gen).to(device)
        partner = nbr[torch.arange(n, device=device), pick]
        sums = torch.zeros(p["num_heads"], device=device)
        temp = float(tt_s[epoch])
        for b in range(iters):  # loop over mini-batches (SGD steps)
            idx = perm[b * B:(b + 1) * B]
            x = torch.cat([Xt[idx], Xt[partner[idx]]])
            opt.param_groups[0]["lr"] = opt.param_groups[1]["lr"] = float(lr_s[it])
            opt.param_groups[0]["weight_decay"] = float(wd_s[it])
            with torch.no_grad():
                t_logits = teacher(x, dtype).view(p["num_heads"], 2, B, C)
            s_logits = student(x, dtype).view(p["num_heads"], 2, B, C)
            if head == "temi":
                with torch.no_grad():
                    prior = update_prior(prior, F.softmax(t_logits.flatten(1, 2) / temp, dim=-1), p["prior_momentum"])
                head_losses = temi_loss(s_logits, t_logits, prior, beta=p["beta"],
                                        student_temp=p["student_temp"], teacher_temp=temp)
            else:
                head_losses = scan_loss(s_logits, t_logits, alpha=p["alpha"],
                                        student_temp=p["student_temp"], teacher_temp=temp)
            loss = head_losses.mean()
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{head} loss is {loss.item()} at epoch {epoch} (iteration {it}); the training diverged: "
                    f"lower heads.lr (now {p['lr']}) or raise heads.teacher_temp / heads.student_temp"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if epoch < p["freeze_last_layer"]:
                for q in last_layer:  # official code: no update of the last layer at first
                    q.grad = None
            opt.step()
            ema_update(t_params, s_params, float(mom_s[it]))
            sums += head_losses.detach()
            it += 1
        epoch_loss[epoch] = (sums / iters).cpu().numpy()
        epoch_lr[epoch] = lr_s[it - 1]
        if progress is not None:
            progress(epoch, epoch_loss[epoch], teacher)
    seconds = time.perf_counter() - t0
    selected = int(np.argmin(epoch_loss[-1]))
    return {"model": teacher.cpu(), "selected": selected, "epoch_loss": epoch_loss, "epoch_lr": epoch_lr,
            "neighbors": neighbors, "seconds": seconds, "params": p, "iterations": it, "batch_size": B}


@torch.no_grad()
def predict(model, features, *, selected, teacher_temp=0.1, params=None, chunk=8192) -> dict:
    """Labels of every head and the selected head's soft assignments.

    Parameters
    ----------
    model : BatchedHeads (the teacher)
    features : ndarray of shape (n_samples, n_features)
    selected : int, the head whose soft assignments are returned
    params : dict, the training parameters (feature normalisation)

    Returns
    -------
    dict with ``all_labels`` (H, n) int64, ``labels`` (n,) int64, ``soft`` (n, C) float32
    (``softmax(logits / teacher_temp)`` of the selected head).
    """
    p = {**PARAMS, **(params or {})}
    X = _prepare(check_matrix(features, "features"), p)
    model.eval()
    all_labels, soft = [], []
    for start in range(0, X.shape[0], chunk):  # bounded memory: (H, chunk, C) logits at a time
        logits = model(X[start:start + chunk])
        all_labels.append(logits.argmax(-1))
        soft.append(F.softmax(logits[selected] / teacher_temp, dim=-1))
    all_labels = torch.cat(all_labels, dim=1).numpy().astype(np.int64)
    return {"all_labels": all_labels, "labels": all_labels[selected].copy(),
            "soft": torch.cat(soft).numpy().astype(np.float32)}
