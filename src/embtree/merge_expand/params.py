"""Merge & Expand's parameters: defaults, checks and the phase-1 region count.

:data:`DEFAULTS`
    Every tunable with its default (mirrored, and documented, by the config schema's
    ``merge_expand:`` section; a test keeps them equal).
:data:`INPUTS`
    What phases 3-4 train on: ``embeddings`` (an MLP) or ``images`` (a LeNet-5-sized CNN).
:func:`check_params`
    :data:`DEFAULTS` updated with overrides; unknown names or bad values raise ``ValueError``.
:func:`region_count`
    The number of phase-1 regions used for a data set of a given size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INPUTS", "DEFAULTS", "check_params", "region_count"]

INPUTS = ("embeddings", "images")

# The config schema's ``merge_expand:`` section mirrors these (tests/test_merge_expand_params.py).
DEFAULTS: dict = {
    "input": "embeddings",
    "n_regions": 200,
    "min_region_size": 5,
    "distance_samples_per_region": 32,
    "n_neighbors": 10,
    "mixed_filter_ratio": 0.5,
    "seed_size_ratio": 0.5,
    "skip_similarity": 0.95,
    "max_skips": 5,
    "max_seeds": 30,
    "n_rounds": 5,
    "max_train_per_region": 64,
    "top_rank": 2,
    "m1_threshold": 0.01,
    "m3_threshold": 0.2,
    "alpha": 0.25,
    "max_enumerate": 8,
    "homogeneity_threshold": 0.9,
    "max_expand_iterations": 20,
    "input_dims": 64,
    "hidden": 32,
    "steps": 200,
    "batch_size": 256,
    "lr": 0.01,
    "weight_decay": 1e-4,
    "min_train_accuracy": 0.9,
}

_INT_MIN = {
    "n_regions": 2, "min_region_size": 1, "distance_samples_per_region": 1, "n_neighbors": 1,
    "max_skips": 1, "max_seeds": 2, "n_rounds": 1, "max_train_per_region": 1, "top_rank": 1,
    "max_enumerate": 1, "max_expand_iterations": 1, "input_dims": 1, "hidden": 1, "steps": 1,
    "batch_size": 1,
}
_UNIT = ("mixed_filter_ratio", "seed_size_ratio", "skip_similarity", "m1_threshold", "m3_threshold",
         "alpha", "homogeneity_threshold", "min_train_accuracy")


def check_params(params=None) -> dict:
    """:data:`DEFAULTS` updated with ``params``; unknown names or bad values raise ``ValueError``.

    Error messages name the config key (``merge_expand.<name>``).
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown merge_expand parameter(s) {unknown}; allowed: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    for key, least in _INT_MIN.items():
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"merge_expand.{key}={v!r} must be an int >= {least}")
    for key in _UNIT:
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"merge_expand.{key}={v!r} must be a number in [0, 1]")
    for key in ("lr", "weight_decay"):
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (key == "lr" and v == 0):
            raise ValueError(f"merge_expand.{key}={v!r} must be a number {'> 0' if key == 'lr' else '>= 0'}")
    if p["input"] not in INPUTS:
        raise ValueError(f"merge_expand.input={p['input']!r} must be one of {list(INPUTS)}")
    return p


def region_count(n_samples, n_regions, min_region_size=5) -> int:
    """The number of phase-1 regions used for ``n_samples`` samples: ``n_regions`` capped at
    ``max(n_samples // min_region_size, 2)`` (and at ``n_samples``), so small data sets run
    with fewer, larger regions instead of failing."""
    return int(min(n_regions, max(n_samples // min_region_size, 2), n_samples))
