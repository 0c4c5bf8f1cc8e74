"""Parameters of the heads: the registry of defaults and their checks.

:data:`HEADS`, :data:`PARAMS`, :data:`KNN_BACKENDS`, :data:`KMEANS_BACKENDS`, :func:`check_params`,
:func:`knn_for`, :func:`is_int`, :func:`resolve_device`, and the number of clusters given as a multiple of
the classes (over-clustering, paper 002 appendix B.4): :func:`parse_n_clusters`, :func:`resolve_n_clusters`.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import torch

__all__ = ["HEADS", "PARAMS", "KNN_BACKENDS", "KMEANS_BACKENDS", "check_params", "knn_for", "is_int", "resolve_device",
           "parse_n_clusters", "resolve_n_clusters"]

log = logging.getLogger(__name__)

HEADS = ("temi", "scanv2")
#: kNN mining (embtree.heads.knn): embtree's exact tiles, faiss's exact index, faiss's inverted file.
KNN_BACKENDS = ("exact", "faiss-flat", "faiss-ivf")
#: The cosine k-means baseline: embtree.cosine_kmeans or embtree.faiss_kmeans (spherical).
KMEANS_BACKENDS = ("embtree", "faiss")

# Defaults = the official code's CIFAR-10 command (its README):
# --batch_size=1024 --lr=1e-4 --warmup_epochs=20 --min_lr=1e-4 --epochs=100 --knn=50
# --num_heads=16 --max_momentum_teacher=0.996, loss args beta=0.6 (TEMI) / alpha=5 (SCAN),
# and its parser defaults for everything else.
PARAMS: dict = {
    "knn": 50,
    "num_heads": 16,
    "n_clusters": None,  # None: number of classes; "2x": twice the classes (parse_n_clusters)
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
    "embed_norm": False,  # standardise each feature (official --embed_norm)
    "l2_norm": False,  # L2-normalise the features before the head (official --l2_norm)
    "knn_chunk_mb": 256,
    "knn_backend": "exact",
    "knn_nlist": None,  # faiss-ivf: None = embtree.heads.ivf_params
    "knn_nprobe": None,
    "knn_recall_rows": 1000,  # approximate backends: recall@k measured on this many seeded rows
    "kmeans_backend": "embtree",  # the cosine k-means baseline (not the heads)
    "precision": "float32",  # or bfloat16: the hidden layers' GEMMs (not in the official code)
    "seed": 0,
}

_LOSS_ONLY = {"temi": {"beta", "prior_momentum"}, "scanv2": {"alpha"}}


def is_int(v) -> bool:
    """True for a Python or NumPy integer, False for a bool (``True`` is not a count)."""
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
            "seed": 0, "knn_chunk_mb": 1, "knn_recall_rows": 1}
    for key, least in ints.items():
        if not is_int(p[key]) or p[key] < least:
            raise ValueError(f"{key}={p[key]!r} must be an int >= {least}")
    for key in ("knn_nlist", "knn_nprobe"):
        if p[key] is not None and (not is_int(p[key]) or p[key] < 1):
            raise ValueError(f"{key}={p[key]!r} must be an int >= 1 or None")
    for key, allowed in (("knn_backend", KNN_BACKENDS), ("kmeans_backend", KMEANS_BACKENDS)):
        if p[key] not in allowed:
            raise ValueError(f"{key}={p[key]!r} must be one of {list(allowed)}")
    parse_n_clusters(p["n_clusters"])  # an int, a multiple of the classes ("2x") or None
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


def knn_for(n_samples, knn) -> int:
    """``knn`` capped at ``n_samples - 1`` (self is excluded), with a logged warning.

    A small data set (a newcomer's 24-sample test) keeps the heads stage running on every
    other sample as neighbour, instead of failing in :func:`embtree.heads.mine_knn`.
    """
    if knn >= n_samples:
        log.warning("heads.knn=%d capped at n_samples - 1 = %d for this small data set", knn, n_samples - 1)
        return max(int(n_samples) - 1, 1)
    return int(knn)


def resolve_device(device) -> str:
    """``"auto"`` or None -> ``"cuda"`` when present, else ``"cpu"``; any other value as given."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


_FACTOR = re.compile(r"^(\d+(?:\.\d+)?)x$")


def parse_n_clusters(spec):
    """What ``n_clusters`` asks for: ``None`` (the classes), ``("count", C)`` or ``("factor", f)``.

    ``spec``: None, an int ``C >= 2``, or a string ``"<f>x"`` (``"2x"``, ``"1.5x"``): ``f`` times
    the number of classes (over-clustering, paper 002 appendix B.4 / fig. 6), ``f > 0``.
    Raises ``ValueError`` naming ``n_clusters`` otherwise.
    """
    if spec is None:
        return None
    if is_int(spec):
        if spec < 2:
            raise ValueError(f"n_clusters={spec!r} must be >= 2")
        return ("count", int(spec))
    m = _FACTOR.match(spec) if isinstance(spec, str) else None
    if m is None or not float(m.group(1)) > 0:
        raise ValueError(f"n_clusters={spec!r} must be an int >= 2, a multiple of the classes such as '2x' "
                         "(a number > 0 followed by x), or None")
    return ("factor", float(m.group(1)))


def resolve_n_clusters(spec, n_targets) -> int:
    """The number of clusters ``spec`` (:func:`parse_n_clusters`) gives for ``n_targets`` classes:
    ``None`` -> ``n_targets``, an int as given, ``"<f>x"`` -> ``round(f * n_targets)``."""
    parsed = parse_n_clusters(spec)
    if parsed is None:
        return int(n_targets)
    kind, value = parsed
    return int(value) if kind == "count" else int(round(value * n_targets))
