"""embtree.faiss_kmeans (and embtree.faiss_support): blobs recovered, seeded determinism, the
inertia's definition, the flat grid's and the cosine baseline's faiss backend, bad input."""

import sys

import numpy as np
import pytest

from conftest import even_blobs
from embtree import clustering, flat, metrics
from embtree.faiss_support import import_faiss


@pytest.fixture
def faiss():
    return pytest.importorskip("faiss")


def test_recovers_separated_blobs_and_reports_the_inertia_of_its_labels(faiss):
    X, y = even_blobs(50, 5, d=16, seed=1)
    from embtree.faiss_kmeans import faiss_kmeans

    labels, centres, inertia = faiss_kmeans(X, 5, seed=0, n_init=2)
    assert metrics.cluster_accuracy(y, labels) == 1.0
    # centres are the class means (float64, the data's own frame: the centring is undone)
    means = np.stack([X[labels == c].mean(axis=0, dtype=np.float64) for c in range(5)])
    np.testing.assert_allclose(centres, means, atol=1e-4)
    np.testing.assert_allclose(inertia, ((X - centres[labels]) ** 2).sum(), rtol=1e-5)


def test_spherical_clusters_directions_not_norms_like_cosine_kmeans(faiss):
    from embtree.cosine_kmeans import cosine_kmeans
    from embtree.faiss_kmeans import faiss_kmeans

    rng = np.random.default_rng(0)
    dirs = np.eye(4)[:3] * 5
    # same directions at very different norms (test_cosine_kmeans' data): cosine groups by direction
    X = np.concatenate([d * s + 0.05 * rng.normal(size=(30, 4)) for d in dirs for s in (1, 20)])
    y = np.repeat(np.arange(3), 60)
    labels, centres, inertia = faiss_kmeans(X, 3, spherical=True, seed=0, n_init=3)
    assert metrics.cluster_accuracy(y, labels) == 1.0
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1, rtol=1e-6)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(inertia, ((Xn - centres[labels]) ** 2).sum(), rtol=1e-4)
    ref_labels, ref_centres = cosine_kmeans(X, 3, seed=0, n_init=3)
    assert metrics.cluster_accuracy(ref_labels, labels) == 1.0
    np.testing.assert_allclose(np.abs(centres @ ref_centres.T).max(axis=1), 1, atol=1e-5)


def test_seeded_runs_are_byte_identical(faiss):
    from embtree.faiss_kmeans import faiss_kmeans

    X = np.random.default_rng(3).normal(size=(600, 12))  # no structure: the start decides the result
    for spherical in (False, True):
        a = faiss_kmeans(X, 8, spherical=spherical, seed=5, n_init=2, init_max_samples=300)
        b = faiss_kmeans(X, 8, spherical=spherical, seed=5, n_init=2, init_max_samples=300)
        assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes() and a[2] == b[2]


def test_inertia_matches_embtree_kmeans_from_the_same_start(faiss):
    # Same k-means++ start (seeded subsample, sklearn's kmeans_plusplus) and Lloyd to convergence:
    # the same local optimum up to float32 rounding.
    from embtree.faiss_kmeans import faiss_kmeans
    from embtree.kmeans import kmeans

    X, _ = even_blobs(60, 6, d=10, seed=2)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape).astype(np.float32)  # overlapping blobs
    ref = kmeans(X, 6, seed=4, init_max_samples=200)
    got = faiss_kmeans(X, 6, seed=4, init_max_samples=200)
    assert metrics.cluster_accuracy(ref[0], got[0]) > 0.99
    assert got[2] == pytest.approx(ref[2], rel=1e-3)


def test_flat_grid_and_registry_take_the_faiss_backend(faiss):
    X, y = even_blobs(40, 4, d=8)
    for method in ("kmeans", "kmeans-cosine"):
        pred = flat.cluster(X, method, n_clusters=4, seed=0, backend="faiss")
        assert metrics.cluster_accuracy(y, pred) == 1.0 and pred.dtype == np.int64
    with pytest.raises(ValueError, match="kmeans: init='random' with backend 'faiss'"):
        flat.cluster(X, "kmeans", n_clusters=4, init="random", backend="faiss")


def test_bad_backend_and_bad_arguments_name_the_key(faiss):
    from embtree.faiss_kmeans import faiss_kmeans

    with pytest.raises(ValueError, match=r"backend='faizz' of clusterer 'kmeans-cosine' must be one of \['embtree', 'faiss'\]"):
        flat.check_params("clusterer", "kmeans-cosine", {"backend": "faizz"})
    with pytest.raises(ValueError, match="backend="):
        clustering.check_params("kmeans", {"backend": "sklearn"})
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match=r"n_clusters=11 must be an int in 1..n_samples=10"):
        faiss_kmeans(X, 11)
    with pytest.raises(ValueError, match="device='tpu'"):
        faiss_kmeans(X, 2, device="tpu")
    with pytest.raises(ValueError, match="init_max_samples=1 must be an int >= 2"):
        faiss_kmeans(X, 2, init_max_samples=1)


def test_missing_faiss_says_what_to_install(monkeypatch):
    from embtree import preflight

    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss -> ImportError
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        import_faiss()
    [msg] = preflight.check_faiss()
    assert msg.startswith("faiss is not installed") and "faiss-cpu" in msg
