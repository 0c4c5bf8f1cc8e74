"""Tests of embtree.clustering: the basic clusterers of the flat grid, the O(N^2) guard, k-means at scale."""

import logging

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_mutual_info_score

from conftest import kmeans_blobs
from embtree import clustering
from embtree import kmeans as km
from embtree.flat import threshold_grid
from embtree.metrics import flat_scores


@pytest.mark.parametrize("method", ["spectral", "affinity-propagation", "agglomerative-average"])
def test_quadratic_guard_subsamples_and_assigns_the_rest(blobs, method, caplog, monkeypatch):
    X, y = blobs
    seen = []
    impl = clustering._CLUSTER_IMPL[method]

    def spy(Xs, **kw):
        seen.append(len(Xs))
        return impl(Xs, **kw)

    monkeypatch.setitem(clustering._CLUSTER_IMPL, method, spy)
    with caplog.at_level(logging.WARNING, logger="embtree.clustering"):
        pred = clustering.cluster(X, method, n_clusters=8, seed=1, max_quadratic_samples=100)
    assert seen == [100]  # the clusterer only ever saw the subsample
    assert "max_quadratic_samples=100" in caplog.text
    assert (pred >= 0).all() and adjusted_mutual_info_score(y, pred) > 0.95
    # Below the cap nothing is subsampled.
    seen.clear()
    clustering.cluster(X, method, n_clusters=8, seed=1, max_quadratic_samples=len(X))
    assert seen == [len(X)]


def test_guard_assigns_to_nearest_fitted_sample():
    # Two tight groups; the cap leaves most of each group unfitted.
    X = np.concatenate([np.zeros((50, 2)), np.full((50, 2), 10.0)]) + np.random.default_rng(0).normal(
        scale=0.1, size=(100, 2)
    )
    pred = clustering.cluster(X, "agglomerative-ward", n_clusters=2, max_quadratic_samples=10, seed=0)
    assert len(np.unique(pred[:50])) == 1 and len(np.unique(pred[50:])) == 1 and pred[0] != pred[-1]


def test_hdbscan_single_cluster_or_all_noise_is_a_result():
    X = np.random.default_rng(0).normal(size=(60, 3))
    one = clustering.cluster(X, "hdbscan", allow_single_cluster=True, max_cluster_fraction=None, min_cluster_size=30)
    assert len(np.unique(one[one >= 0])) <= 1
    noise = clustering.cluster(np.random.default_rng(1).uniform(size=(12, 3)), "hdbscan", min_cluster_size=12)
    scores = flat_scores(np.arange(12) % 2, noise)
    assert (noise == -1).all() and scores["noise_fraction"] == 1.0 and scores["n_clusters"] == 0


def test_hdbscan_caps_the_largest_cluster(blobs):
    X, y = blobs
    # Merge blobs pairwise into 4 groups of 25 %: above the 20 % cap, so HDBSCAN must split them.
    X = X.copy()
    pairs = y // 2
    for p in range(4):
        X[y == 2 * p + 1] += X[y == 2 * p].mean(0) - X[y == 2 * p + 1].mean(0) + 2.5
    capped = clustering.cluster(X, "hdbscan")
    sizes = np.bincount(capped[capped >= 0])
    assert sizes.max() <= 0.2 * len(X) + 1
    uncapped = clustering.cluster(X, "hdbscan", max_cluster_fraction=None)
    assert len(np.unique(uncapped[uncapped >= 0])) <= len(np.unique(capped[capped >= 0]))
    assert adjusted_mutual_info_score(pairs, uncapped) > 0.5


def test_agglomerative_distance_threshold_finds_k_itself(blobs):
    X, y = blobs
    pred = clustering.cluster(X, "agglomerative-ward", distance_threshold=2.0)  # no n_clusters needed
    assert adjusted_mutual_info_score(y, pred) > 0.95


def test_hdbscan_sklearn_is_sklearns_hdbscan_at_its_defaults(blobs):
    from sklearn.cluster import HDBSCAN

    X, _ = blobs
    np.testing.assert_array_equal(clustering.cluster(X, "hdbscan-sklearn"),
                                  HDBSCAN(min_cluster_size=5, copy=True).fit_predict(X))
    # The cap binds on nested data: 8 groups of 60 (3 close sub-blobs of 20 each) are 8
    # clusters uncapped; capped at 5 % (24 samples) the sub-blobs are chosen instead. (On
    # plain blobs of 60 the cap leaves nothing selectable: all noise, which says nothing.)
    rng = np.random.default_rng(0)
    sub = rng.uniform(-20, 20, (8, 1, 12)) + rng.normal(0, 0.5, (8, 3, 12))
    Xn = (sub[:, :, None] + rng.normal(0, 0.3, (8, 3, 20, 12))).reshape(-1, 12)
    uncapped = clustering.cluster(Xn, "hdbscan-sklearn", max_cluster_fraction=None)
    assert np.bincount(uncapped[uncapped >= 0]).max() == 60
    capped = clustering.cluster(Xn, "hdbscan-sklearn", max_cluster_fraction=0.05)
    assert len(np.unique(capped[capped >= 0])) > 8
    assert np.bincount(capped[capped >= 0]).max() <= round(0.05 * len(Xn))


def test_affinity_propagation_non_convergence_message_matches_the_labels(caplog):
    X, _ = make_blobs(200, centers=5, random_state=0)
    with caplog.at_level("WARNING", logger="embtree.clustering"):
        none = clustering.cluster(X, "affinity-propagation", max_iter=5)
    assert (none == -1).all() and "found no exemplar: all samples noise" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="embtree.clustering"):
        some = clustering.cluster(X, "affinity-propagation", max_iter=50)
    k = len(np.unique(some))
    assert (some >= 0).all() and k > 1
    assert "all samples noise" not in caplog.text and f"keeping the {k} clusters" in caplog.text


def test_affinity_propagation_has_a_lower_default_cap():
    assert clustering.CLUSTERERS["affinity-propagation"]["max_quadratic_samples"] == 2000
    assert clustering.CLUSTERERS["spectral"]["max_quadratic_samples"] == 10000


def test_flat_kmeans_switches_to_row_blocks_above_max_sklearn_samples():
    X, y = kmeans_blobs(n=3000, d=8, k=5, seed=2, dtype=np.float32)
    small = clustering.cluster(X, "kmeans", n_clusters=5, seed=0)
    np.testing.assert_array_equal(small, KMeans(5, random_state=0, n_init=1, max_iter=1000).fit(X).labels_)
    big = clustering.cluster(X, "kmeans", n_clusters=5, seed=0, max_sklearn_samples=1000)
    np.testing.assert_array_equal(big, km.kmeans(X, 5, seed=0, max_iter=1000, init_max_samples=1000)[0])
    assert not np.array_equal(big, small)  # the seeding saw a subsample: another start


def test_flat_kmeans_rejects_other_inits_in_row_blocks():
    X, _ = kmeans_blobs(n=300)
    with pytest.raises(ValueError, match="init='random'"):
        clustering.cluster(X, "kmeans", n_clusters=3, init="random", max_sklearn_samples=100)
    with pytest.raises(ValueError, match="max_sklearn_samples=2"):
        clustering.cluster(X, "kmeans", n_clusters=3, max_sklearn_samples=2)


def test_check_params_and_n_clusters_name_what_is_wrong(blobs):
    X, _ = blobs
    # merge-expand is the flat grid's (embtree.flat), not a basic clusterer
    with pytest.raises(ValueError, match="unknown clusterer 'merge-expand'"):
        clustering.check_params("merge-expand")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['dampening'\]"):
        clustering.cluster(X, "affinity-propagation", dampening=0.5)
    with pytest.raises(ValueError, match="needs n_clusters"):
        clustering.cluster(X, "kmeans")
    assert clustering.check_n_clusters("agglomerative-ward", None, 10, {"distance_threshold": 1.0}) is None
    assert clustering.check_n_clusters("hdbscan", 5, 10, {}) is None
    with pytest.raises(ValueError, match="n_samples=10 should be >= n_clusters=11"):
        clustering.check_n_clusters("kmeans", 11, 10, {})
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf in 1 rows"):
        clustering.cluster(bad, "kmeans", n_clusters=2)


def test_agglomerative_options_are_the_papers_13():
    assert len(clustering.AGGLOMERATIVE_OPTIONS) == 13
    assert ("ward", "euclidean") in clustering.AGGLOMERATIVE_OPTIONS
    assert not any(link == "ward" and m != "euclidean" for link, m in clustering.AGGLOMERATIVE_OPTIONS)


@pytest.mark.parametrize("linkage, metric", clustering.AGGLOMERATIVE_OPTIONS)
def test_distance_threshold_recovers_the_number_of_blobs_without_k(blobs, linkage, metric):
    # Without n_clusters the threshold decides k: some threshold of the paper's grid recovers the
    # 8 well-separated blobs exactly, and k never grows as the threshold grows.
    X, y = blobs
    found = []
    for t in threshold_grid(refine=True):
        pred = clustering.cluster(X, "agglomerative-threshold", linkage=linkage, metric=metric, distance_threshold=t)
        found.append(len(np.unique(pred)))
        if found[-1] == 8:
            assert adjusted_mutual_info_score(y, pred) == pytest.approx(1.0)
    assert 8 in found, found
    assert found[0] > 100 and found[-1] == 1 and all(np.diff(found) <= 0)


def test_threshold_agglomerative_is_sklearns_on_the_e7_standardised_features(blobs):
    from sklearn.cluster import AgglomerativeClustering

    X, _ = blobs
    X = X + np.random.default_rng(1).normal(scale=2.0, size=X.shape)  # overlapping: the cut matters
    for linkage, metric, scale in (("ward", "euclidean", np.sqrt(12)), ("complete", "manhattan", 12.0),
                                   ("average", "cosine", 1.0)):
        Z = X - X.mean(axis=0)
        Z = Z / Z.std(axis=0).mean() / scale  # paper E.7: mean per-dim std, then sqrt(d) (L2) or d (L1)
        ref = AgglomerativeClustering(n_clusters=None, linkage=linkage, metric=metric,
                                      distance_threshold=0.5).fit_predict(Z)
        got = clustering.cluster(X, "agglomerative-threshold", linkage=linkage, metric=metric, distance_threshold=0.5)
        np.testing.assert_array_equal(got, ref)
    # with k given ("AC w/ C"): sklearn on the raw features
    ref = AgglomerativeClustering(n_clusters=5, linkage="single", metric="chebyshev").fit_predict(X)
    np.testing.assert_array_equal(clustering.cluster(X, "agglomerative", n_clusters=5, linkage="single",
                                                     metric="chebyshev"), ref)


def test_agglomerative_options_outside_the_search_are_rejected(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="ward linkage needs metric='euclidean'"):
        clustering.cluster(X, "agglomerative", n_clusters=3, metric="cosine")
    with pytest.raises(ValueError, match="linkage='median' must be one of"):
        clustering.cluster(X, "agglomerative", n_clusters=3, linkage="median")
    with pytest.raises(ValueError, match="metric='l2' must be one of"):
        clustering.cluster(X, "agglomerative-threshold", linkage="average", metric="l2")
    with pytest.raises(ValueError, match="needs a distance_threshold"):
        clustering.cluster(X, "agglomerative-threshold", distance_threshold=None)
    with pytest.raises(ValueError, match="distance_threshold=-1 must be a number > 0"):
        clustering.cluster(X, "agglomerative-average", distance_threshold=-1)
    with pytest.raises(ValueError, match="needs n_clusters"):
        clustering.cluster(X, "agglomerative", linkage="complete")
