"""Tests of embtree.flat: reducers, clusterers, the O(N^2) guard, scoring and bad input."""

import logging

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_mutual_info_score, silhouette_score

from embtree import flat
from embtree.metrics import flat_scores


@pytest.fixture(scope="module")
def blobs():
    # 8 equal, well-separated blobs: each holds 12.5 % of the samples, under HDBSCAN's 20 % cap.
    X, y = make_blobs(n_samples=480, centers=8, n_features=12, cluster_std=0.6, center_box=(-20, 20), random_state=3)
    return X, y


def planted_tree(depth=3, dim=24, per_class=60, step=8.0, seed=0):
    """Gaussian classes at the leaves of a binary tree; offsets halve at each level (planted-like)."""
    rng = np.random.default_rng(seed)
    means = [np.zeros(dim)]
    for level in range(depth):
        scale = step * 0.5**level / np.sqrt(dim)
        means = [m + rng.normal(scale=scale, size=dim) for m in means for _ in range(2)]
    X = np.concatenate([m + rng.normal(scale=0.5, size=(per_class, dim)) for m in means])
    return X, np.repeat(np.arange(len(means)), per_class)


@pytest.mark.parametrize("method", sorted(flat.CLUSTERERS))
def test_every_clusterer_recovers_separated_blobs(blobs, method):
    X, y = blobs
    pred = flat.cluster(X, method, n_clusters=8, seed=0)
    assert pred.shape == y.shape and pred.dtype == np.int64
    assert adjusted_mutual_info_score(y, pred) > 0.95


@pytest.mark.parametrize("method", ["none", "pca"])
def test_linear_reducers_keep_blobs_clusterable(blobs, method):
    X, y = blobs
    Z = flat.reduce(X, method, seed=0)
    assert Z.dtype == np.float32 and len(Z) == len(X)
    assert adjusted_mutual_info_score(y, flat.cluster(Z, "kmeans", n_clusters=8)) > 0.95


def test_pca_zscores_then_keeps_variance_fraction():
    rng = np.random.default_rng(0)
    # Column 1 has a huge scale: without the z-score PCA would keep only it.
    X = rng.normal(size=(200, 5)) * np.array([1, 1000, 1, 1, 1])
    X[:, 4] = 3.0  # constant column: must not produce NaN
    Z = flat.reduce(X, "pca", n_components=0.7)
    # 4 informative unit-variance dims after z-scoring: 70 % needs 3 of them.
    assert Z.shape == (200, 3) and np.isfinite(Z).all()
    # Against the reference: z-score by hand, then sklearn's PCA (deterministic up to sign).
    from sklearn.decomposition import PCA

    ref = X[:, :4]
    ref = (ref - ref.mean(0)) / ref.std(0)
    expected = PCA(n_components=3).fit_transform(ref)
    np.testing.assert_allclose(np.abs(Z), np.abs(expected), atol=1e-4)
    assert flat.reduce(X, "pca", n_components=2).shape == (200, 2)
    assert flat.reduce(X, "pca", n_components=50).shape == (200, 5)  # clamped to min(N, d)


# UMAP's numba JIT costs ~15-40 s per process on the shared machine: slow; PCA covers the path fast.
@pytest.mark.parametrize("reducer", ["pca", pytest.param("umap", marks=pytest.mark.slow)])
def test_kmeans_end_to_end_on_planted_tree(reducer):
    X, y = planted_tree()
    Z = flat.reduce(X, reducer, seed=0)  # paper defaults: PCA 90 % variance, UMAP 50 -> 24 dims
    assert len(Z) == len(X) and 1 <= Z.shape[1] <= X.shape[1]
    pred = flat.cluster(Z, "kmeans", n_clusters=8, seed=0)
    scores = flat.evaluate(Z, y, pred, silhouette_sample_size=200, seed=0)
    assert scores["ami"] > 0.9 and scores["n_clusters"] == 8 and scores["noise_fraction"] == 0.0
    assert 0.3 < scores["silhouette"] <= 1.0
    # A fixed seed gives the same reduction.
    np.testing.assert_array_equal(Z, flat.reduce(X, reducer, seed=0))


@pytest.mark.parametrize("method", ["spectral", "affinity-propagation", "agglomerative-average"])
def test_quadratic_guard_subsamples_and_assigns_the_rest(blobs, method, caplog, monkeypatch):
    X, y = blobs
    seen = []
    impl = flat._CLUSTER_IMPL[method]

    def spy(Xs, **kw):
        seen.append(len(Xs))
        return impl(Xs, **kw)

    monkeypatch.setitem(flat._CLUSTER_IMPL, method, spy)
    with caplog.at_level(logging.WARNING, logger="embtree.flat"):
        pred = flat.cluster(X, method, n_clusters=8, seed=1, max_quadratic_samples=100)
    assert seen == [100]  # the clusterer only ever saw the subsample
    assert "max_quadratic_samples=100" in caplog.text
    assert (pred >= 0).all() and adjusted_mutual_info_score(y, pred) > 0.95
    # Below the cap nothing is subsampled.
    seen.clear()
    flat.cluster(X, method, n_clusters=8, seed=1, max_quadratic_samples=len(X))
    assert seen == [len(X)]


def test_guard_assigns_to_nearest_fitted_sample():
    # Two tight groups; the cap leaves most of each group unfitted.
    X = np.concatenate([np.zeros((50, 2)), np.full((50, 2), 10.0)]) + np.random.default_rng(0).normal(
        scale=0.1, size=(100, 2)
    )
    pred = flat.cluster(X, "agglomerative-ward", n_clusters=2, max_quadratic_samples=10, seed=0)
    assert len(np.unique(pred[:50])) == 1 and len(np.unique(pred[50:])) == 1 and pred[0] != pred[-1]


@pytest.mark.parametrize("method", sorted(flat.CLUSTERERS))
def test_fixed_seed_is_deterministic(blobs, method):
    X, _ = blobs
    noisy = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)  # ambiguous: seeds matter
    # Exercise the guard's seeded subsample too where the clusterer has one.
    cap = {"max_quadratic_samples": 300} if "max_quadratic_samples" in flat.CLUSTERERS[method] else {}
    if method == "merge-expand":  # its classifier trains for seconds per round: fewer rounds and steps
        cap.update(n_rounds=2, steps=100)
    a = flat.cluster(noisy, method, n_clusters=8, seed=7, **cap)
    b = flat.cluster(noisy, method, n_clusters=8, seed=7, **cap)
    np.testing.assert_array_equal(a, b)


def test_hdbscan_single_cluster_or_all_noise_is_a_result():
    X = np.random.default_rng(0).normal(size=(60, 3))
    one = flat.cluster(X, "hdbscan", allow_single_cluster=True, max_cluster_fraction=None, min_cluster_size=30)
    assert len(np.unique(one[one >= 0])) <= 1
    noise = flat.cluster(np.random.default_rng(1).uniform(size=(12, 3)), "hdbscan", min_cluster_size=12)
    scores = flat_scores(np.arange(12) % 2, noise)
    assert (noise == -1).all() and scores["noise_fraction"] == 1.0 and scores["n_clusters"] == 0


def test_hdbscan_caps_the_largest_cluster(blobs):
    X, _ = blobs
    # Merge blobs pairwise into 4 groups of 25 %: above the 20 % cap, so HDBSCAN must split them.
    X = X.copy()
    y = make_blobs(n_samples=480, centers=8, n_features=12, cluster_std=0.6, center_box=(-20, 20), random_state=3)[1]
    pairs = y // 2
    for p in range(4):
        X[y == 2 * p + 1] += X[y == 2 * p].mean(0) - X[y == 2 * p + 1].mean(0) + 2.5
    capped = flat.cluster(X, "hdbscan")
    sizes = np.bincount(capped[capped >= 0])
    assert sizes.max() <= 0.2 * len(X) + 1
    uncapped = flat.cluster(X, "hdbscan", max_cluster_fraction=None)
    assert len(np.unique(uncapped[uncapped >= 0])) <= len(np.unique(capped[capped >= 0]))
    assert adjusted_mutual_info_score(pairs, uncapped) > 0.5


def test_agglomerative_distance_threshold_finds_k_itself(blobs):
    X, y = blobs
    pred = flat.cluster(X, "agglomerative-ward", distance_threshold=2.0)  # no n_clusters needed
    assert adjusted_mutual_info_score(y, pred) > 0.95


def test_silhouette_matches_sklearn_and_counts_noise_as_a_cluster(blobs):
    X, y = blobs
    assert flat.silhouette(X, y) == pytest.approx(silhouette_score(X, y))
    pred = y.copy()
    pred[:40] = -1
    assert flat.silhouette(X, pred) == pytest.approx(silhouette_score(X, pred))
    sampled = flat.silhouette(X, y, sample_size=200, seed=0)
    assert sampled == flat.silhouette(X, y, sample_size=200, seed=0)
    assert abs(sampled - silhouette_score(X, y)) < 0.05
    assert np.isnan(flat.silhouette(X, np.zeros(len(X), dtype=int)))  # one cluster: undefined


def test_evaluate_on_a_permuted_labelling_is_perfect(blobs):
    X, y = blobs
    perm = np.array([3, 5, 0, 7, 1, 2, 6, 4])
    scores = flat.evaluate(X, y, perm[y])
    assert scores["ami"] == pytest.approx(1.0) and scores["acc"] == 1.0 and scores["purity"] == 1.0
    assert list(scores) == ["ami", "ari", "nmi", "acc", "purity", "silhouette", "n_clusters", "noise_fraction"]


def test_bad_input_raises_clear_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="unknown clusterer 'kmedoids'"):
        flat.cluster(X, "kmedoids", n_clusters=2)
    with pytest.raises(ValueError, match="unknown reducer 'tsne'"):
        flat.reduce(X, "tsne")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['dampening'\]"):
        flat.cluster(X, "affinity-propagation", dampening=0.5)
    with pytest.raises(ValueError, match=r"\['n_neighbours'\] for reducer 'umap'"):
        flat.reduce(X, "umap", n_neighbours=5)
    with pytest.raises(ValueError, match="n_samples=480 should be >= n_clusters=481"):
        flat.cluster(X, "kmeans", n_clusters=481)
    with pytest.raises(ValueError, match="needs n_clusters"):
        flat.cluster(X, "spectral")
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf in 1 rows"):
        flat.cluster(bad, "kmeans", n_clusters=2)
    with pytest.raises(ValueError, match="NaN or inf"):
        flat.reduce(bad, "pca")
    with pytest.raises(ValueError, match="max_quadratic_samples=5 should be >= n_clusters=8"):
        flat.cluster(X, "spectral", n_clusters=8, max_quadratic_samples=5)
    with pytest.raises(ValueError, match="n_components=1.5"):
        flat.reduce(X, "pca", n_components=1.5)


def test_check_params_merges_defaults_without_mutating_the_registry():
    merged = flat.check_params("clusterer", "hdbscan", {"min_cluster_size": 10})
    assert merged["min_cluster_size"] == 10 and merged["max_cluster_fraction"] == 0.2
    assert flat.CLUSTERERS["hdbscan"]["min_cluster_size"] == 5
    with pytest.raises(ValueError, match="kind='encoder'"):
        flat.check_params("encoder", "kmeans")


def test_hdbscan_sklearn_is_sklearns_hdbscan_at_its_defaults(blobs):
    from sklearn.cluster import HDBSCAN

    X, _ = blobs
    np.testing.assert_array_equal(flat.cluster(X, "hdbscan-sklearn"), HDBSCAN(min_cluster_size=5, copy=True).fit_predict(X))
    # The cap binds on nested data: 8 groups of 60 (3 close sub-blobs of 20 each) are 8
    # clusters uncapped; capped at 5 % (24 samples) the sub-blobs are chosen instead. (On
    # plain blobs of 60 the cap leaves nothing selectable: all noise, which says nothing.)
    rng = np.random.default_rng(0)
    sub = rng.uniform(-20, 20, (8, 1, 12)) + rng.normal(0, 0.5, (8, 3, 12))
    Xn = (sub[:, :, None] + rng.normal(0, 0.3, (8, 3, 20, 12))).reshape(-1, 12)
    uncapped = flat.cluster(Xn, "hdbscan-sklearn", max_cluster_fraction=None)
    assert np.bincount(uncapped[uncapped >= 0]).max() == 60
    capped = flat.cluster(Xn, "hdbscan-sklearn", max_cluster_fraction=0.05)
    assert len(np.unique(capped[capped >= 0])) > 8
    assert np.bincount(capped[capped >= 0]).max() <= round(0.05 * len(Xn))


def test_affinity_propagation_non_convergence_message_matches_the_labels(caplog):
    X, _ = make_blobs(200, centers=5, random_state=0)
    with caplog.at_level("WARNING", logger="embtree.flat"):
        none = flat.cluster(X, "affinity-propagation", max_iter=5)
    assert (none == -1).all() and "found no exemplar: all samples noise" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="embtree.flat"):
        some = flat.cluster(X, "affinity-propagation", max_iter=50)
    k = len(np.unique(some))
    assert (some >= 0).all() and k > 1
    assert "all samples noise" not in caplog.text and f"keeping the {k} clusters" in caplog.text


def test_affinity_propagation_has_a_lower_default_cap():
    assert flat.CLUSTERERS["affinity-propagation"]["max_quadratic_samples"] == 2000
    assert flat.CLUSTERERS["spectral"]["max_quadratic_samples"] == 10000
