"""Deep clustering heads on frozen embeddings: TEMI (eq. 1) and SCANv2 (eq. 2).

Paper 002 (Adaloglou et al., "Exploring the limits of deep image clustering using
pretrained models"), section 3, with the details it leaves open settled as in the public
reference implementation (HHU-MMBS/TEMI-official-BMVC2023; read, not copied):

- kNN pairs: cosine similarity, self excluded; every epoch each sample ``x`` (shuffled,
  last incomplete batch dropped) is paired with one of its ``k`` neighbours ``x'`` drawn
  uniformly.
- ``H`` heads, each a DINO-style MLP: ``Linear(d, hidden) -> GELU -> ... ->
  Linear(hidden, bottleneck) -> L2-normalise -> weight-normalised Linear(bottleneck, C)``
  without bias (truncated-normal std 0.02 init, last-layer gain 1, trainable). All heads
  are stacked tensors ``[H, ...]`` run with one GEMM / ``bmm`` per layer: no loop over heads.
- Student trained with AdamW; learning rate ``lr * batch / 256`` after a linear warm-up
  (cosine towards ``min_lr * batch / 256``), weight decay cosine ``weight_decay ->
  weight_decay_end`` (biases not decayed); the last layer is frozen for the first
  ``freeze_last_layer`` epochs. Teacher = EMA of the student, momentum on a cosine
  schedule ``momentum_teacher -> max_momentum_teacher`` per iteration.
- Teacher temperature warmed up linearly over ``warmup_teacher_temp_epochs``; student
  temperature fixed. TEMI's cluster prior ``q~_t`` is an EMA over batches (``prior_momentum``
  λ) updated with the current batch *before* the loss, one per head.
- Both losses are symmetrised over (x, x') and averaged over heads; the per-head epoch
  losses (mean over the epoch's iterations) select the head: lowest loss of the last epoch.
- Evaluation uses the teacher of the selected head; soft assignments are
  ``softmax(logits / teacher_temp)`` (the distribution the teacher is trained with).

Both losses are computed in log space (log-softmax + logsumexp), which is the same
function as the equations but keeps gradients finite when a probability underflows.

Over 600 lines on purpose: kNN mining, the batched heads, both losses and the training loop
are one method (paper 002, section 3) sharing the same tensors and schedules.
"""

from __future__ import annotations

import logging
import math
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from embtree.validation import check_matrix

__all__ = [
    "HEADS",
    "PARAMS",
    "check_params",
    "mine_knn",
    "knn_for",
    "BatchedHeads",
    "temi_loss",
    "scan_loss",
    "update_prior",
    "ema_update",
    "cosine_schedule",
    "train_heads",
    "predict",
    "evaluate",
    "ranked_clusters",
    "calibration_inputs",
    "plot_reliability",
    "plot_msp_histogram",
]

log = logging.getLogger(__name__)

HEADS = ("temi", "scanv2")

# Defaults = the reference implementation's CIFAR-10 command (its README):
# --batch_size=1024 --lr=1e-4 --warmup_epochs=20 --min_lr=1e-4 --epochs=100 --knn=50
# --num_heads=16 --max_momentum_teacher=0.996, loss args beta=0.6 (TEMI) / alpha=5 (SCAN),
# and its parser defaults for everything else.
PARAMS: dict = {
    "knn": 50,
    "num_heads": 16,
    "n_clusters": None,  # None: number of classes
    "epochs": 100,
    "batch_size": 1024,  # capped at n_samples
    "lr": 1e-4,  # per 256 samples (linear scaling rule)
    "min_lr": 1e-4,
    "warmup_epochs": 20,
    "weight_decay": 1e-4,
    "weight_decay_end": 1e-4,
    "momentum_teacher": 0.996,
    "max_momentum_teacher": 0.996,
    "teacher_temp": 0.1,
    "warmup_teacher_temp": 0.1,
    "warmup_teacher_temp_epochs": 30,
    "student_temp": 0.1,
    "beta": 0.6,  # TEMI eq. 1
    "prior_momentum": 0.9,  # TEMI eq. 1, lambda
    "alpha": 5.0,  # SCANv2 eq. 2
    "nlayers": 2,
    "hidden_dim": 512,
    "bottleneck_dim": 256,
    "freeze_last_layer": 1,
    "embed_norm": False,  # standardise each feature (reference --embed_norm)
    "l2_norm": False,  # L2-normalise the features before the head (reference --l2_norm)
    "knn_chunk_mb": 256,
    "precision": "float32",  # or bfloat16: the hidden layers' GEMMs (not in the reference)
    "seed": 0,
}

_LOSS_ONLY = {"temi": {"beta", "prior_momentum"}, "scanv2": {"alpha"}}


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def check_params(head, params=None) -> dict:
    """Full parameter set of ``head`` (:data:`PARAMS` updated with ``params``), validated.

    Raises ``ValueError`` naming the key for an unknown head or parameter, or a value
    out of range.
    """
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; known: {list(HEADS)}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for head {head!r}; allowed: {sorted(PARAMS)}")
    p = {**PARAMS, **params}
    ints = {"knn": 1, "num_heads": 1, "epochs": 1, "batch_size": 2, "warmup_epochs": 0, "nlayers": 1,
            "hidden_dim": 1, "bottleneck_dim": 1, "freeze_last_layer": 0, "warmup_teacher_temp_epochs": 0,
            "seed": 0, "knn_chunk_mb": 1}
    for key, least in ints.items():
        if not _is_int(p[key]) or p[key] < least:
            raise ValueError(f"{key}={p[key]!r} must be an int >= {least}")
    if p["n_clusters"] is not None and not _is_int(p["n_clusters"]):
        raise ValueError(f"n_clusters={p['n_clusters']!r} must be an int or None")
    positive = ("lr", "teacher_temp", "warmup_teacher_temp", "student_temp", "alpha")
    for key in positive:
        if not isinstance(p[key], (int, float)) or isinstance(p[key], bool) or not p[key] > 0:
            raise ValueError(f"{key}={p[key]!r} must be a number > 0")
    for key in ("min_lr", "weight_decay", "weight_decay_end"):
        if not isinstance(p[key], (int, float)) or isinstance(p[key], bool) or p[key] < 0:
            raise ValueError(f"{key}={p[key]!r} must be a number >= 0")
    for key in ("momentum_teacher", "max_momentum_teacher", "prior_momentum"):
        if not isinstance(p[key], (int, float)) or not 0 <= p[key] <= 1:
            raise ValueError(f"{key}={p[key]!r} must lie in [0, 1]")
    if not isinstance(p["beta"], (int, float)) or not 0 < p["beta"] <= 1:
        raise ValueError(f"beta={p['beta']!r} must lie in (0, 1] (paper: (0.5, 1], typically 0.6)")
    if p["precision"] not in ("float32", "bfloat16"):
        raise ValueError(f"precision={p['precision']!r} must be float32 or bfloat16")
    for key in ("embed_norm", "l2_norm"):
        if not isinstance(p[key], bool):
            raise ValueError(f"{key}={p[key]!r} must be true or false")
    return p


# ------------------------------------------------------------------------------- kNN


#: Rows of one kNN similarity tile once all N columns no longer fit beside them: enough
#: for an efficient GEMM, few enough that a 256 MB tile still has 65,536 columns.
KNN_TILE_ROWS = 1024


def knn_for(n_samples, knn) -> int:
    """``knn`` capped at ``n_samples - 1`` (self is excluded), with a logged warning.

    A small data set (a newcomer's 24-sample test) keeps the heads stage running on every
    other sample as neighbour, instead of failing in :func:`mine_knn`.
    """
    if knn >= n_samples:
        log.warning("heads.knn=%d capped at n_samples - 1 = %d for this small data set", knn, n_samples - 1)
        return max(int(n_samples) - 1, 1)
    return int(knn)


def mine_knn(features, k, *, chunk_mb=256, device="cpu", progress=None) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar other samples of every sample.

    Tiles of the similarity matrix (``chunk_mb`` MB of float32 each) are formed one at a
    time and reduced to a running top-k per row, so memory is ``O(chunk_mb + N k)``. Where
    :data:`KNN_TILE_ROWS` rows of all ``N`` columns fit (up to ~65,000 samples at 256 MB)
    a tile is full width with as many rows as fit (1,342 at 50,000 samples); beyond, it
    has :data:`KNN_TILE_ROWS` rows and as many columns as fit (1,024 x 65,536 at 1.28 M):
    full-width blocks of a few dozen rows would read the whole feature matrix once per
    block, and their skinny products ran 1.9x slower (measured at 1.28 M x 768). The features are
    not normalised into a second copy: a tile is ``(x_i / |x_i|) . x_j`` scaled by
    ``1 / |x_j|`` (float32 input, e.g. a memory-mapped ``.npy``, is used in place on the
    CPU). Exact brute force, ``O(N^2 d)``, bound by the GEMMs: at ImageNet-1K train size
    ~11 hours on two CPU cores (measured 32 rows/s) and minutes on a GPU (``device``).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    k : int, ``1 <= k < n_samples``
    chunk_mb : int, similarity block size in MB
    device : "cpu", "cuda" or "auto" (CUDA when present)
    progress : callable(rows_done, n_samples), optional, called after every row block

    Returns
    -------
    ndarray of shape (n_samples, k), int64
        Neighbours by decreasing similarity; the sample itself is never among them.
    """
    X = check_matrix(features, "features", min_rows=2)
    n = X.shape[0]
    if not _is_int(k) or k < 1:
        raise ValueError(f"knn={k!r} must be an int >= 1")
    if k >= n:
        raise ValueError(f"knn={k} must be < n_samples={n} (self is excluded)")
    device = _resolve_device(device)
    with warnings.catch_warnings():  # a read-only memory map: torch warns, and nothing here writes to it
        warnings.filterwarnings("ignore", message=".*not writable.*", category=UserWarning)
        Z = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    cells = max(1, int(chunk_mb * 2**20 // 4))  # float32 similarities per tile
    cols = min(n, max(1, cells // min(n, KNN_TILE_ROWS)))
    rows = min(n, max(1, cells // cols))
    inv = torch.empty(n, dtype=torch.float32, device=device)
    for start in range(0, n, rows):  # eps as F.normalize
        inv[start:start + rows] = 1.0 / torch.linalg.vector_norm(Z[start:start + rows], dim=1).clamp_min(1e-12)
    out = torch.empty((n, k), dtype=torch.int64)
    for r0 in range(0, n, rows):  # loop over tiles (bounded memory), not samples
        r1 = min(r0 + rows, n)
        Q = Z[r0:r1] * inv[r0:r1, None]
        best_sim = best_idx = None
        for c0 in range(0, n, cols):
            c1 = min(c0 + cols, n)
            sim = Q @ Z[c0:c1].T
            sim.mul_(inv[c0:c1])
            lo, hi = max(r0, c0), min(r1, c1)  # the diagonal (self) inside this tile
            if lo < hi:
                sim[torch.arange(lo - r0, hi - r0), torch.arange(lo - c0, hi - c0)] = -math.inf
            s, i = sim.topk(min(k, c1 - c0), dim=1)
            i += c0
            if best_sim is not None:  # merge with the running top-k of the earlier tiles
                s, j = torch.cat([best_sim, s], 1).topk(min(k, s.shape[1] + best_sim.shape[1]), dim=1)
                i = torch.cat([best_idx, i], 1).gather(1, j)
            best_sim, best_idx = s, i
        out[r0:r1] = best_idx.cpu()
        if progress is not None:
            progress(r1, n)
    return out.numpy()


# ----------------------------------------------------------------------------- heads


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
    row, without bias (reference DINOHead with ``norm_last_layer=False``).
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


# ---------------------------------------------------------------------------- losses


def update_prior(prior, teacher_probs, momentum):
    """TEMI's cluster prior EMA: ``q~ <- λ q~ + (1-λ) mean_{x in B} q_t(.|x)`` per head.

    prior : (H, C); teacher_probs : (H, n, C) (both views of the batch). Returns (H, C).
    """
    return momentum * prior + (1 - momentum) * teacher_probs.mean(dim=1)


def temi_loss(student_logits, teacher_logits, prior, *, beta=0.6, student_temp=0.1, teacher_temp=0.1):
    """TEMI loss (eq. 1) per head, symmetrised over the two views.

    Parameters
    ----------
    student_logits, teacher_logits : tensors of shape (H, 2, B, C)
        View 0 = x, view 1 = x' (its sampled neighbour).
    prior : tensor of shape (H, C), the teacher cluster prior q~_t (already updated).

    Returns
    -------
    tensor of shape (H,)
        ``0.5 * sum_{v != w} mean_b  w_b * -log sum_c (q_s^i(c|v) q_t^i(c|w))^beta / q~^i(c)``
        with ``w_b = (1/H) sum_j sum_c q_t^j(c|x) q_t^j(c|x')`` (no gradient).
    """
    log_s = F.log_softmax(student_logits / student_temp, dim=-1)
    with torch.no_grad():
        log_t = F.log_softmax(teacher_logits / teacher_temp, dim=-1)
        t = log_t.exp()
        weight = (t[:, 0] * t[:, 1]).sum(-1).mean(0)  # (B,) ensemble agreement
        log_prior = prior.log()[:, None, :]
    # Pair student view v with teacher view w = 1 - v.
    pmi = torch.logsumexp(beta * (log_s + log_t.flip(1)) - log_prior[:, None], dim=-1)  # (H, 2, B)
    return -(weight * pmi).mean(dim=-1).mean(dim=-1)


def scan_loss(student_logits, teacher_logits, *, alpha=5.0, student_temp=0.1, teacher_temp=0.1):
    """SCANv2 loss (eq. 2) per head, symmetrised over the two views.

    ``0.5 * sum_{v != w} mean_b -log sum_c q_t(c|w) q_s(c|v) + alpha * 0.5 * sum_v
    sum_c q^_s(c) log q^_s(c)`` with ``q^_s = mean_b q_s(.|v)`` (the batch estimate).
    Shapes as :func:`temi_loss`; returns (H,).
    """
    log_s = F.log_softmax(student_logits / student_temp, dim=-1)
    with torch.no_grad():
        log_t = F.log_softmax(teacher_logits / teacher_temp, dim=-1)
    consistency = -torch.logsumexp(log_s + log_t.flip(1), dim=-1).mean(dim=-1).mean(dim=-1)
    q_hat = log_s.exp().mean(dim=2)  # (H, 2, C)
    neg_entropy = (q_hat * q_hat.log()).sum(-1).mean(-1)
    return consistency + alpha * neg_entropy


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


# -------------------------------------------------------------------------- training


def _prepare(features, p):
    X = torch.as_tensor(features, dtype=torch.float32)
    if p["embed_norm"]:
        X = (X - X.mean(0)) / X.std(0).clamp_min(1e-12)
    if p["l2_norm"]:
        X = F.normalize(X, dim=1)
    return X


def _resolve_device(device):
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


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
    if not _is_int(C) or C < 2 or C > n:
        raise ValueError(f"n_clusters={C!r} must be an int with 2 <= n_clusters <= n_samples={n}")
    if n < p["knn"] + 1:
        raise ValueError(f"n_samples={n} must be >= knn + 1 = {p['knn'] + 1}")
    if neighbors is None:
        neighbors = mine_knn(X, p["knn"], chunk_mb=p["knn_chunk_mb"])
    neighbors = np.asarray(neighbors)
    if neighbors.shape[0] != n or neighbors.ndim != 2 or neighbors.shape[1] < p["knn"]:
        raise ValueError(f"neighbors must have shape ({n}, >= {p['knn']}), got {neighbors.shape}")
    device = _resolve_device(device)

    gen = torch.Generator().manual_seed(p["seed"])
    Xt = _prepare(X, p).to(device)
    nbr = torch.as_tensor(neighbors[:, : p["knn"]], dtype=torch.int64, device=device)
    B = min(p["batch_size"], n)
    iters = n // B  # the last incomplete batch is dropped (reference: drop_last)
    E = p["epochs"]
    scale = B / 256.0  # linear scaling rule of the reference
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
                for q in last_layer:  # reference: no update of the last layer at first
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


# ------------------------------------------------------------------------ evaluation


def evaluate(labels, ranked, soft=None, *, multi_labels=None, n_bins=15) -> dict:
    """Scores of one clustering (paper 002 table 1, sections 4.4 and 6).

    Parameters
    ----------
    labels : int array of shape (n_samples,), the classes
    ranked : int array of shape (n_samples, r), clusters by decreasing score (r >= 1;
        top-5 metrics need r >= 5, else they are NaN)
    soft : float array of shape (n_samples, n_clusters), optional soft assignments:
        mean max-softmax probability (MSP) and ECE of the Hungarian-mapped top-1
    multi_labels : bool array of shape (n_samples, n_classes), optional: top-1 -> L and
        top-5 -> L (map estimated from the ground truth label, as for ImageNet21K)

    Returns
    -------
    dict: acc, nmi, ari, ami, top5_acc, msp_mean, ece, n_nonempty (+ top1_l, top5_l)
    """
    from embtree import metrics

    labels = np.asarray(labels)
    ranked = np.asarray(ranked)
    top1 = ranked[:, 0]
    s = metrics.flat_scores(labels, top1)
    out = {"acc": s["acc"], "nmi": s["nmi"], "ari": s["ari"], "ami": s["ami"],
           "top5_acc": metrics.top_k_to_one(labels, ranked, 5) if ranked.shape[1] >= 5 else float("nan"),
           "msp_mean": float("nan"), "ece": float("nan"), "n_nonempty": int(len(np.unique(top1)))}
    if soft is not None:
        mapping = metrics.hungarian_map(labels, top1, n_clusters=soft.shape[1])
        correct = mapping[top1] == labels
        conf = soft.max(axis=1).astype(np.float64)
        out["msp_mean"] = float(conf.mean())
        out["ece"] = metrics.expected_calibration_error(np.clip(conf, 0, 1), correct, n_bins)
    if multi_labels is not None:
        out["top1_l"] = metrics.top_k_to_many(multi_labels, ranked, 1, map_labels=labels)
        out["top5_l"] = (metrics.top_k_to_many(multi_labels, ranked, 5, map_labels=labels)
                         if ranked.shape[1] >= 5 else float("nan"))
    return out


def ranked_clusters(soft, k=5):
    """Top-``k`` clusters of every sample by decreasing soft assignment: (n, min(k, C)) int64."""
    soft = np.asarray(soft)
    k = min(k, soft.shape[1])
    top = np.argpartition(-soft, k - 1, axis=1)[:, :k] if k < soft.shape[1] else np.tile(np.arange(k), (len(soft), 1))
    order = np.argsort(-np.take_along_axis(soft, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1).astype(np.int64)


def calibration_inputs(labels, soft):
    """(MSP, correct) of the Hungarian-mapped top-1 predictions, for the calibration plots."""
    from embtree import metrics

    top1 = np.asarray(soft).argmax(axis=1)
    mapping = metrics.hungarian_map(labels, top1, n_clusters=soft.shape[1])
    return np.clip(soft.max(axis=1).astype(np.float64), 0, 1), mapping[top1] == np.asarray(labels)


def plot_reliability(confidence, correct, *, n_bins=15, title=None):
    """Reliability diagram (paper 002 fig. 3): per-bin accuracy vs confidence, gap shaded, ECE in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from embtree import metrics

    b = metrics.calibration_bins(confidence, correct, n_bins)
    ece = metrics.expected_calibration_error(confidence, correct, n_bins)
    centres = 0.5 * (b["edges"][:-1] + b["edges"][1:])
    width = 1.0 / n_bins
    acc = np.nan_to_num(b["accuracy"])
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.bar(centres, acc, width=width, edgecolor="black", color="tab:blue", label=f"accuracy (ECE {100 * ece:.2f} %)")
    gap = np.where(b["count"] > 0, centres - acc, 0)
    ax.bar(centres, gap, bottom=acc, width=width, color="tab:red", alpha=0.3, label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max softmax probability)", ylabel="accuracy",
           title=title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_msp_histogram(confidence, *, bins=30, title=None):
    """Histogram of the max softmax probabilities (paper 002 fig. 8, left), mean marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = np.asarray(confidence)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.hist(conf, bins=np.linspace(0, 1, bins + 1), color="tab:blue", edgecolor="black")
    ax.axvline(conf.mean(), color="tab:red", ls="--", label=f"mean MSP {100 * conf.mean():.1f} %")
    ax.set(xlabel="max softmax probability", ylabel="samples", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ per-run tables


def granularity_targets(emb, depth=None, reference=(), multi_labels=(), n_clusters=None, *,
                        ancestor_labels=False, synsets=()):
    """Targets of a run at a granularity: the classes, or coarse labels at max depth ``depth``.

    Parameters
    ----------
    emb : embtree.io.Embeddings
    depth : int or None; None = the classes themselves
    reference : list with the reference Newick path (needed when ``depth`` is set or
        ``ancestor_labels``)
    multi_labels : list with a multi-label JSON path (classes only), or empty
    n_clusters : int or None (None: number of targets)
    ancestor_labels : bool, add every class's ancestor classes in the reference tree to its
        label set (:func:`embtree.granularity.ancestor_label_sets`; classes only)
    synsets : list with the data set's ``synsets.tsv`` (class -> synset), or empty

    Returns
    -------
    (targets (n,) int64, n_clusters, granularity name, multi-label matrix or None)
    """
    from pathlib import Path

    from embtree import granularity

    if depth is None:
        targets = np.asarray(emb.labels, dtype=np.int64)
        name = "classes"
        multi = (granularity.read_multi_labels(multi_labels[0], emb.class_names, len(targets))
                 if multi_labels else None)
        if ancestor_labels:
            if not reference:
                raise ValueError("heads.ancestor_labels needs a reference tree for this dataset")
            syn = None
            if synsets:
                from embtree.reference import read_synset_mapping

                mapping = read_synset_mapping(synsets[0])
                syn = [mapping.get(str(c), "") for c in emb.class_names]
            sets = granularity.ancestor_label_sets(Path(reference[0]).read_text(), emb.class_names, syn)
            n_extra = int(sets.sum() - len(sets))
            if n_extra == 0:
                log.warning("heads.ancestor_labels: no class is an ancestor of another in %s, so every label "
                            "set is the class alone (top-1 -> L = ACC)", reference[0])
            else:
                log.info("heads.ancestor_labels: %d ancestor-class links over %d classes", n_extra, len(sets))
            by_sample = sets[targets]
            multi = by_sample if multi is None else (multi | by_sample)
    else:
        if not reference:
            raise ValueError("heads.coarse_depths needs a reference tree for this dataset")
        coarse, _ = granularity.coarsen_classes(Path(reference[0]).read_text(), emb.class_names, int(depth))
        targets = coarse[emb.labels]
        name, multi = f"depth{int(depth)}", None
    n_targets = int(len(np.unique(targets)))
    K = n_targets if n_clusters is None or depth is not None else int(n_clusters)
    if not 2 <= K <= len(targets):
        raise ValueError(f"n_clusters={K} must lie in 2..n_samples={len(targets)} ({name})")
    return targets, K, name, multi


def metrics_row(key, targets, soft, n_clusters, *, ranked=None, selected=None, multi=None, extra=None) -> dict:
    """One metrics.tsv row (docs/design.md): key columns, then :func:`evaluate`'s scores.

    ``degenerate`` is True when fewer than 2 clusters are used (ACC/NMI then mean little).
    """
    if ranked is None:
        ranked = ranked_clusters(soft, 5)
    scores = evaluate(targets, ranked, soft, multi_labels=multi)
    row = {**key, "n_samples": int(len(targets)), "n_targets": int(len(np.unique(targets))),
           "n_clusters": int(n_clusters), **(extra or {}),
           "selected_head": -1 if selected is None else int(selected), **scores}
    row["degenerate"] = bool(row["n_nonempty"] < 2)
    return row


def per_head_rows(key, targets, all_labels, final_loss, selected):
    """heads.tsv: one row per head (last-epoch loss, ACC, NMI, ARI, non-empty clusters, selected)."""
    import pandas as pd

    from embtree import metrics

    rows = []
    for h, lab in enumerate(all_labels):  # H heads, each scored once
        s = metrics.flat_scores(targets, lab)
        rows.append({**key, "head": h, "loss": float(final_loss[h]), "acc": s["acc"], "nmi": s["nmi"],
                     "ari": s["ari"], "n_nonempty": int(len(np.unique(lab))), "selected": h == selected})
    return pd.DataFrame(rows)


def loss_table(key, epoch_loss, epoch_lr):
    """loss.tsv: per epoch the learning rate, mean / min loss over heads and every head's loss."""
    import pandas as pd

    df = pd.DataFrame({**key, "epoch": np.arange(1, len(epoch_loss) + 1), "lr": epoch_lr,
                       "loss_mean": epoch_loss.mean(1), "loss_min": epoch_loss.min(1)})
    heads_df = pd.DataFrame(epoch_loss, columns=[f"loss_h{h}" for h in range(epoch_loss.shape[1])])
    return pd.concat([df, heads_df], axis=1)
