"""embtree.caec.scores: tables, infiltration ranks, RI / NMI over clustered embeddings, small clusters."""

import numpy as np
import pytest

from conftest import uneven_blobs
from embtree import caec
from embtree.caec import grow_clusters


def test_tables_columns_and_infiltration_ties():
    X, y = uneven_blobs(3, C=4, n=40, spread=0.7)
    res = grow_clusters(X, y, gamma=0.45, step=0.4)
    names = np.array(["a", "b", "c", "d"])
    t = caec.caec_tables(res, y, names, {"dataset": "ds", "encoder": "enc", "metric": "euclidean"})
    assert list(t["per_class"].columns[:19]) == [
        "dataset", "encoder", "metric", "class", "class_name", "r_b", "r_f", "coverage", "purity",
        "n_members", "n_target", "n_other", "r_min", "r_max", "theta_min_half", "theta_max_half",
        "annular", "chi2", "chi2_p"]
    assert list(t["summary"].columns[:13]) == [
        "dataset", "encoder", "metric", "step", "gamma", "purity_mean", "purity_std", "coverage_mean",
        "ri", "nmi", "intrusion_count", "intrusion_fraction", "n_classes"]
    assert list(t["infiltration"].columns) == ["dataset", "encoder", "metric", "class_name", "rank",
                                               "other_class", "count"]
    assert list(t["intrusion"].columns) == ["dataset", "encoder", "metric", "class_a", "class_b", "count"]
    M = caec.cluster_class_counts(res, y)
    for row in t["infiltration"].itertuples():
        k, j = list(names).index(row.class_name), list(names).index(row.other_class)
        assert k != j and M[k, j] == row.count >= 2 and 1 <= row.rank <= 3


def test_infiltration_dense_ranks_ties():
    class R:  # the few fields infiltration() reads
        classes = np.arange(4)
        n_classes = 4
        members = [np.arange(12), np.array([12]), np.array([13]), np.array([14])]

    y = np.array([0] * 5 + [1, 1, 2, 2, 3, 3, 3] + [1, 2, 3])
    rows = caec.infiltration(R(), y)
    # Cluster 0 holds class 3 x3, classes 1 and 2 x2 each: ranks 1, 2, 2.
    assert rows == [(0, 1, 3, 3), (0, 2, 1, 2), (0, 2, 2, 2)]


def test_ri_nmi_over_clustered_embeddings_and_all_variants():
    # Paper section 4.2: scores over the embeddings inside clusters; the *_all columns add
    # one "unassigned" group for the rest. Equal to sklearn on the respective subsets.
    from sklearn.metrics import normalized_mutual_info_score, rand_score

    from embtree.metrics import purity

    X, y = uneven_blobs(4, C=5, spread=1.2)
    res = grow_clusters(X, y, step="auto")
    s = caec.run_scores(res, y)
    inside = res.assignment >= 0
    assert 0 < inside.sum() < len(y), "test data should leave some embeddings outside"
    assert s["ri"] == pytest.approx(rand_score(y[inside], res.assignment[inside]))
    assert s["nmi"] == pytest.approx(normalized_mutual_info_score(y[inside], res.assignment[inside]))
    assert s["ri_all"] == pytest.approx(rand_score(y, res.assignment))
    assert s["nmi_all"] == pytest.approx(normalized_mutual_info_score(y, res.assignment))
    assert s["purity_all"] == pytest.approx(purity(y, res.assignment))
    # A clustered-only score is not dragged down by the unassigned group.
    assert s["ri"] > s["ri_all"]
    summary = caec.caec_tables(res, y, np.array(list("abcde")), {})["summary"].iloc[0]
    for key in ("ri", "nmi", "ri_all", "nmi_all", "purity_all", "n_small_clusters", "degenerate"):
        assert summary[key] == pytest.approx(s[key]), key


def test_small_clusters_flagged_and_a_tiny_step_is_a_degenerate_run():
    X, y = uneven_blobs(2, C=4, n=40, spread=3.0)
    good = grow_clusters(X, y, step="auto")
    pc = caec.per_class_scores(good, y, min_cluster_size=5)
    np.testing.assert_array_equal(pc["small_cluster"], pc["n_members"] < 5)
    assert not caec.run_scores(good, y)["degenerate"]
    # A step far below the distances: eq. 4's argmax lands on r_0 (ties), one-member clusters.
    tiny = grow_clusters(X, y, step=1e-4)
    s = caec.run_scores(tiny, y, min_cluster_size=5)
    assert s["n_small_clusters"] == 4 and s["degenerate"] and s["purity"] == 1.0
    t = caec.caec_tables(tiny, y, np.array(list("abcd")), {}, min_cluster_size=5)
    assert t["per_class"]["small_cluster"].all() and t["summary"]["degenerate"].iloc[0]
    arrays = caec.cluster_arrays(tiny, np.array(list("abcd")), min_cluster_size=5)
    assert arrays["small_cluster"].all() and arrays["min_cluster_size"] == 5


def test_arrival_rates_and_assumption_2_ttest():
    X, y = uneven_blobs(3, spread=6.0)
    res = grow_clusters(X, y, metric="euclidean", step="auto")
    lam1, lam2 = caec.arrival_rates(res)
    # Reference: the mean increment over steps 1..t_f is the growth between r_0 and r_f over t_f.
    for k in range(res.n_classes):
        t = int(res.t_f[k])
        if t >= 1:
            assert lam1[k] == pytest.approx((res.growth_Y[k, t] - res.growth_Y[k, 0]) / t)
            assert lam2[k] == pytest.approx((res.growth_Z[k, t] - res.growth_Z[k, 0]) / t)
        else:
            assert np.isnan(lam1[k]) and np.isnan(lam2[k])
    s = caec.run_scores(res, y)
    ok = np.isfinite(lam1)
    from scipy import stats

    ref = stats.ttest_rel(lam1[ok], lam2[ok])
    assert s["lambda_t"] == pytest.approx(ref.statistic) and s["lambda_p"] == pytest.approx(ref.pvalue)
    assert s["lambda_n"] == ok.sum() and s["lambda_target_mean"] == pytest.approx(lam1[ok].mean())
    # Separated blobs: a cluster grows by its own class far faster than by the others.
    assert s["lambda_target_mean"] > s["lambda_other_mean"]
