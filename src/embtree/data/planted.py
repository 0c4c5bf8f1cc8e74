"""The planted tree: synthetic Gaussian classes around the leaves of a known tree.

Public names
------------
:func:`planted_tree` (features, labels, class names and the generating Newick tree),
:func:`planted_params` (its arguments from a ``planted-tree`` dataset entry),
:data:`PLANTED_DEFAULTS`.

:func:`embtree.data.datasets.load_dataset` wraps it as the ``planted-tree`` data-set type.
"""

from __future__ import annotations

import numpy as np

__all__ = ["planted_tree", "planted_params", "PLANTED_DEFAULTS"]

# Defaults of the config schema's planted-tree entry, so direct Python callers get the same;
# in the order of planted_tree's arguments.
PLANTED_DEFAULTS = {
    "depth": 3,
    "branching": 2,
    "dim": 32,
    "samples_per_class": 100,
    "step_scale": 4.0,
    "decay": 0.6,
    "noise": 1.0,
    "seed": 0,
}


def planted_params(spec):
    """The keyword arguments of :func:`planted_tree` that a ``planted-tree`` dataset entry
    ``spec`` (dict) gives, schema defaults (:data:`PLANTED_DEFAULTS`) filled in."""
    return {k: spec.get(k, default) for k, default in PLANTED_DEFAULTS.items()}


def planted_tree(depth=3, branching=2, dim=32, samples_per_class=100, step_scale=4.0, decay=0.6,
                 noise=1.0, seed=0):  # fmt: skip
    """Gaussian classes around the leaves of a complete tree (a known hierarchy).

    Node means follow a branching random walk from the origin: a child's mean is its
    parent's plus ``N(0, s_l^2 I)`` with ``s_l = step_scale * decay**l`` for a parent at
    level ``l`` (root: 0). Each leaf is a class; its samples are the leaf mean plus
    ``N(0, noise^2 I)``. Sibling leaves are therefore closer (in expectation) than
    cousins whenever ``decay < 1``, and the true tree is the generating tree.

    Parameters
    ----------
    depth : int >= 1
    branching : int >= 2
    dim : int >= 1
    samples_per_class : int >= 1
    step_scale, decay, noise : float > 0
    seed : int

    Returns
    -------
    features : ndarray of shape (branching**depth * samples_per_class, dim), float32
        class-major order.
    labels : ndarray of shape (n_samples,), int64
    class_names : ndarray of shape (branching**depth,), str
        ``c`` + the child indices along the path, e.g. ``c0_1_1``.
    newick : str
        the generating tree, leaves named by ``class_names`` (topology only).
    """
    _check_planted(depth, branching, dim, samples_per_class, step_scale, decay, noise)
    rng = np.random.default_rng(seed)
    means, class_names = _leaf_means(rng, depth, branching, dim, step_scale, decay)
    labels = np.repeat(np.arange(len(means)), samples_per_class)
    features = means[labels] + rng.normal(0.0, noise, size=(len(labels), dim))
    return features.astype(np.float32), labels.astype(np.int64), class_names, _newick(depth, branching)


# The pieces of planted_tree, in its order of random draws: a caller that writes the samples
# chunk by chunk (benchmarks/bench_10k.py: 1.28 M x 768 to a memory map) draws
# rng.normal(0, noise, size=(rows, dim)) per chunk after _leaf_means, which gives the
# same stream as planted_tree's one draw (tests/test_benchmarks.py checks the bytes).


def _check_planted(depth, branching, dim, samples_per_class, step_scale, decay, noise):
    """Raise ValueError naming the first invalid argument of :func:`planted_tree`."""
    for name, value, low in (("depth", depth, 1), ("branching", branching, 2), ("dim", dim, 1),
                             ("samples_per_class", samples_per_class, 1)):  # fmt: skip
        if int(value) != value or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}")
    for name, value in (("step_scale", step_scale), ("decay", decay), ("noise", noise)):
        if not value > 0:
            raise ValueError(f"{name}={value!r} should be > 0")
    n_classes = branching**depth
    if n_classes > 100_000:
        raise ValueError(f"branching**depth = {n_classes} classes is too many (max 100000)")


def _leaf_means(rng, depth, branching, dim, step_scale, decay):
    """Leaf means (branching**depth, dim) float64 of the branching random walk, drawn from
    ``rng`` level by level, and the class names (``c`` + the child indices along the path)."""
    means = np.zeros((1, dim))
    paths = [()]
    for level in range(depth):  # breadth-first: level by level, children in order
        steps = rng.normal(0.0, step_scale * decay**level, size=(len(means), branching, dim))
        means = (means[:, None, :] + steps).reshape(-1, dim)
        paths = [p + (k,) for p in paths for k in range(branching)]
    return means, np.array(["c" + "_".join(map(str, p)) for p in paths])


def _newick(depth, branching):
    """The complete tree of :func:`planted_tree` as Newick, leaves named as its class names."""

    def newick(prefix):
        if len(prefix) == depth:
            return "c" + "_".join(map(str, prefix))
        return "(" + ",".join(newick(prefix + (k,)) for k in range(branching)) + ")"

    return newick(()) + ";"
