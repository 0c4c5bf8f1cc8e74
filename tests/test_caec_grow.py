"""embtree.caec.grow: hand-checked 2-D growth, equivalence with the naive loop, invariants, input checks."""

import sys

import numpy as np
import pytest

from conftest import uneven_blobs
from embtree import caec, validation
from embtree.caec import grow_clusters
from embtree.caec.grow import _grow_clusters_naive, _structure


SQ = np.sqrt(0.5)


def _case_a():
    """Class 0 around the origin at radii 1,1,2.2,2.2,2.6,2.6,3.4,3.4; class 1 around (6, 0)."""
    a, b = 2.6 * SQ, 3.4 * SQ
    X0 = [(1, 0), (-1, 0), (0, 2.2), (0, -2.2), (a, a), (-a, -a), (b, -b), (-b, b)]
    X1 = [(5.5, 0), (6.5, 0), (6, 0.5), (6, -0.5), (0, -3.8), (12, 3.8)]
    X = np.array(X0 + X1, dtype=float)
    y = np.array([0] * 8 + [1] * 6)
    return X, y


def test_hand_case_radii_membership_structure():
    X, y = _case_a()
    res = grow_clusters(X, y, metric="euclidean", gamma=0.3, step=1.0)
    np.testing.assert_allclose(res.centroids, [[0, 0], [6, 0]], atol=1e-12)
    # Class 0: r_0 = 1; Y = 2,2,6,8,8,8 and Z = 0,0,0,1,1,2 at r = 1..6; at r = 7 Z = 5 > 0.3*13.
    # r_b = 6; increments Y_{t+1}-Y_t for t = 0..4: 0,4,2,0,0 -> r_f = 2 (lower end of the 4).
    np.testing.assert_allclose(res.r0, [1.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(res.r_b, [6.0, 4.5], atol=1e-12)
    np.testing.assert_allclose(res.r_f, [2.0, 0.5], atol=1e-12)
    np.testing.assert_array_equal(res.growth_Y[0, :7], [2, 2, 6, 8, 8, 8, 8])
    np.testing.assert_array_equal(res.growth_Z[0, :7], [0, 0, 0, 1, 1, 2, 5])
    assert res.bounded.all()
    # Class 1: four points at 0.5 from (6, 0); the first step with a class-0 point is
    # r = 5.5 (4.33 and 4.55 and 5.0 inside: Z = 3 > 0.3*7): r_b = 4.5, no increase -> r_f = r_0.
    np.testing.assert_array_equal(res.members[0], [0, 1])
    np.testing.assert_array_equal(res.members[1], [8, 9, 10, 11])
    np.testing.assert_array_equal(res.n_target, [2, 4])
    np.testing.assert_array_equal(res.n_other, [0, 0])
    np.testing.assert_allclose(res.recall, [2 / 8, 4 / 6])
    np.testing.assert_allclose(res.coverage, [1.0, 1.0])  # section 4.2: |Y| / |X|
    # Structure: cluster 0 = {(1,0), (-1,0)}: mu = 0, so the angles are undefined (NaN).
    np.testing.assert_allclose(res.r_min, [1.0, 0.5])
    np.testing.assert_allclose(res.r_max, [1.0, 0.5])
    np.testing.assert_allclose(res.mu[0], [0, 0], atol=1e-12)
    assert np.isnan(res.theta_max_half[0]) and np.isnan(res.theta_min_half[0])
    # No infiltrators here, so P (mean of the own-class members) equals G^f.
    np.testing.assert_allclose(res.final_centroids, res.mmp, atol=1e-12)
    assert res.parameters().shape == (2, 2 * 2 + 4)


def test_hand_case_single_class_growth():
    # One class, no other: r_b is the first radius holding everything. Radii 1, 1, 2, 2, 2, 2:
    # r_0 = 1, r_b = 2, the only step (t = 0) adds 4 -> r_f = r_0 = 1: the inner pair.
    X = np.array([(2, 0), (0, 2), (-2, 0), (0, -2), (1, 0), (-1, 0)], dtype=float)
    res = grow_clusters(X, np.zeros(6, dtype=int), step=1.0)
    np.testing.assert_allclose([res.r_b[0], res.r_f[0]], [2.0, 1.0])
    assert not res.bounded[0]
    np.testing.assert_array_equal(res.members[0], [4, 5])


def test_hand_case_structure_and_angles():
    # Cluster {(3,0), (0,3), (1,1)} around G = 0: mu = (4/3, 4/3) (eq. 7), r_min = sqrt 2,
    # r_max = 3; rim set (eq. 8, r in [2, 3]) = the two points at radius 3, both equally far
    # from P, so e_rim = e_min = the first; the angle to mu is 45 degrees (eq. 10).
    X = np.array([(3, 0), (0, 3), (-3, 0), (0, -3), (1, 1), (-1, -1)], dtype=float)
    members = np.array([0, 1, 4])
    d = np.linalg.norm(X[members], axis=1)
    Gf, mu, P, r_min, r_max, n_rim, e_rim, e_min, th_max, th_min = _structure(
        X, np.zeros(2), members, np.ones(3, bool), d, 1.0, "euclidean")
    np.testing.assert_allclose(mu, [4 / 3, 4 / 3])
    np.testing.assert_allclose(P, Gf)
    np.testing.assert_allclose([r_min, r_max], [np.sqrt(2), 3.0])
    assert n_rim == 2 and e_rim == 0 and e_min == 0
    np.testing.assert_allclose([th_max, th_min], [np.pi / 4, np.pi / 4])
    # Add (2.5, -0.6) (radius 2.57, in the rim set): P = (1.625, 0.85); distances to P are
    # (3,0) 1.62, (0,3) 2.69, (2.5,-0.6) 1.69 -> e_rim = (0,3), e_min = (3,0).
    X2 = np.vstack([X, [(2.5, -0.6)]])
    members = np.array([0, 1, 4, 6])
    d = np.linalg.norm(X2[members], axis=1)
    _, mu, P, _, _, n_rim, e_rim, e_min, th_max, th_min = _structure(
        X2, np.zeros(2), members, np.ones(4, bool), d, 1.0, "euclidean")
    np.testing.assert_allclose(P, [1.625, 0.85])
    assert n_rim == 3 and e_rim == 1 and e_min == 0
    np.testing.assert_allclose(th_max, np.arccos(0.85 / np.hypot(1.625, 0.85)))  # ~62 degrees
    np.testing.assert_allclose(th_min, np.arccos(1.625 / np.hypot(1.625, 0.85)))  # ~28 degrees


def test_degenerate_start_and_single_sample_class():
    # Class 0's nearest embedding to its centroid is a class-1 point: r_b = r_f = r_0.
    X = np.array([[0.0, 0.0], [4.0, 0.0], [1.9, 0.0], [2.2, 0.0], [2.0, 3.0]])
    y = np.array([0, 0, 1, 1, 2])
    res = grow_clusters(X, y, step=0.5)
    np.testing.assert_allclose(res.centroids[1], [2.05, 0.0])
    # Class 2 has one sample: G = that sample, r_0 = 0, its cluster holds it.
    assert res.r0[2] == 0 and 4 in res.members[2]
    # G_0 = (2, 0): its nearest embedding is the class-1 point (1.9, 0) at 0.1.
    np.testing.assert_allclose(res.r0[0], 0.1)
    assert res.t_b[0] == 0 and res.t_f[0] == 0 and res.bounded[0]
    np.testing.assert_array_equal(res.members[0], [2])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "canberra", "cosine"])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_equals_naive(metric, seed):
    X, y = uneven_blobs(seed)
    res = grow_clusters(X, y, metric=metric, gamma=0.3, step="auto")
    ref = _grow_clusters_naive(X, y, metric=metric, gamma=0.3, step=res.step)
    np.testing.assert_allclose(res.r0, ref["r0"], rtol=1e-9)
    np.testing.assert_allclose(res.r_b, ref["r_b"], rtol=1e-9)
    np.testing.assert_allclose(res.r_f, ref["r_f"], rtol=1e-9)
    for k in range(res.n_classes):
        np.testing.assert_array_equal(res.members[k], ref["members"][k])
        n = len(ref["Y"][k])  # the loop stops at the first step that breaks eq. 3
        np.testing.assert_array_equal(res.growth_Y[k, :n], ref["Y"][k])
        np.testing.assert_array_equal(res.growth_Z[k, :n], ref["Z"][k])
    np.testing.assert_allclose(res.final_centroids, np.array(ref["Gf"]), atol=1e-10)
    np.testing.assert_allclose(res.mmp, np.array(ref["mmp"]), atol=1e-10)
    np.testing.assert_allclose(res.r_min, ref["r_min"], rtol=1e-9)
    np.testing.assert_allclose(res.r_max, ref["r_max"], rtol=1e-9)
    np.testing.assert_array_equal(res.e_rim, ref["e_rim"])
    np.testing.assert_array_equal(res.e_min, ref["e_min"])
    np.testing.assert_allclose(res.theta_max_half, ref["theta_max_half"], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(res.theta_min_half, ref["theta_min_half"], atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("metric", ["euclidean", "canberra"])
def test_fixed_step_equals_naive_with_overlaps(metric):
    # Heavily overlapping classes and a coarse step: clusters overlap, many steps break eq. 3.
    X, y = uneven_blobs(3, C=4, n=40, spread=0.7)
    step = 0.5 if metric == "euclidean" else 0.3
    res = grow_clusters(X, y, metric=metric, gamma=0.6, step=step)
    ref = _grow_clusters_naive(X, y, metric=metric, gamma=0.6, step=step)
    for k in range(res.n_classes):
        np.testing.assert_array_equal(res.members[k], ref["members"][k])
    # Intrusion equals the brute-force intersection of the member sets.
    pairs = {(a, b): c for a, b, c in caec.intrusion(res)}
    for a in range(4):
        for b in range(a + 1, 4):
            assert pairs.get((a, b), 0) == len(np.intersect1d(res.members[a], res.members[b]))
    counts = np.zeros(len(y), dtype=int)
    for m in res.members:
        counts[m] += 1
    np.testing.assert_array_equal(res.n_clusters_containing, counts)
    assert (counts > 1).any(), "test data should produce overlapping clusters"


def test_invariants_and_partition():
    X, y = uneven_blobs(5, C=6, spread=1.0)
    res = grow_clusters(X, y, step="auto")
    pc = caec.per_class_scores(res, y)
    assert np.all((0 <= pc["coverage"]) & (pc["coverage"] <= 1))
    assert np.all((0 <= pc["purity"]) & (pc["purity"] <= 1))
    assert np.all(res.r0 <= res.r_f) and np.all(res.r_f <= res.r_b)
    for k, m in enumerate(res.members):
        d = np.linalg.norm(X - res.centroids[k], axis=1)
        target_in = np.flatnonzero((y == k) & (d <= res.r_f[k] + 1e-9))
        assert np.isin(target_in, m).all()  # X_k contains Y_{r_f}
        np.testing.assert_array_equal(m, np.flatnonzero(d <= res.r_f[k] + 1e-9))
        # Growth counts agree with the stored radii and are non-decreasing.
        Yk = res.growth_Y[k, : res.n_steps[k]]
        assert np.all(np.diff(Yk) >= 0) and Yk[res.t_f[k]] == res.n_target[k]
    # Partition: assigned samples lie in the cluster they are assigned to, at the nearest centre.
    for i in np.flatnonzero(res.assignment >= 0):
        holding = [k for k, m in enumerate(res.members) if i in m]
        d = [np.linalg.norm(X[i] - res.centroids[k]) for k in holding]
        assert res.assignment[i] == res.classes[holding[int(np.argmin(d))]]
    outside = np.ones(len(y), bool)
    outside[np.concatenate(res.members)] = False
    np.testing.assert_array_equal(res.assignment == -1, outside)
    s = caec.run_scores(res, y)
    assert 0 <= s["ri"] <= 1 and 0 <= s["nmi"] <= 1 and 0 <= s["purity"] <= 1
    assert s["unassigned_fraction"] == pytest.approx(outside.mean())


def test_planted_tree_clusters_are_pure():
    from embtree.data.planted import planted_tree

    X, y, names, _ = planted_tree(depth=3, branching=2, dim=32, samples_per_class=100, seed=0)
    for metric in ("euclidean", "manhattan", "canberra"):
        res = grow_clusters(X, y, metric=metric, step="auto")
        pc = caec.per_class_scores(res, y)
        assert np.all(pc["purity"] == 1.0), metric
        assert np.all(res.coverage == 1.0)
        # The bounding radius holds (nearly) every class member...
        cov_rb = res.growth_Y[np.arange(8), res.t_b] / res.class_sizes
        assert cov_rb.min() >= 0.95, metric
        # ...while r_f, the lower end of the steepest step (eq. 4 read literally), sits near the
        # mode of each class's radial distribution: about a third to a half of the class.
        assert 0.2 <= res.recall.mean() <= 0.7, metric
        assert caec.run_scores(res, y)["intrusion_count"] == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"embeddings": np.array([[np.nan, 0.0], [1.0, 1.0]])}, "NaN"),
        ({"labels": np.array([0, 1, 1])}, "labels has shape"),
        ({"classes": np.array([0, 1, 2])}, "no samples"),
        ({"metric": "hamming"}, "metric='hamming'"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": 1.0}, "gamma"),
        ({"step": 0.0}, "step"),
        ({"step": -1.0}, "step"),
        ({"step": "fine"}, "step"),
        ({"labels": np.array([0, -1])}, ">= 0"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"embeddings": np.array([[0.0, 0.0], [1.0, 1.0]]), "labels": np.array([0, 1])}
    args.update(kwargs)
    emb, labels = args.pop("embeddings"), args.pop("labels")
    with pytest.raises(ValueError, match=match):
        grow_clusters(emb, labels, **args)


def test_too_small_step_is_refused():
    X, y = uneven_blobs(0)
    with pytest.raises(ValueError, match="radius steps"):
        grow_clusters(X, y, step=1e-9)


def test_mmp_averages_own_class_members_and_gf_the_whole_cluster():
    # Eq. 7 / 14: P = G + mean(own members - G); G^f = mean of all members (infiltrators too).
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(0, 1, (60, 5)), rng.normal(1.5, 1, (60, 5))])
    y = np.repeat([0, 1], 60)
    res = grow_clusters(X, y, metric="euclidean", step=0.1)
    assert (res.n_other > 0).all() and (res.n_target > 0).all()  # overlapping classes: some clusters have infiltrators
    for k, m in enumerate(res.members):
        own = m[y[m] == k]
        np.testing.assert_allclose(res.mmp[k], X[own].mean(axis=0), atol=1e-10)
        np.testing.assert_allclose(res.final_centroids[k], X[m].mean(axis=0), atol=1e-10)
        np.testing.assert_allclose(res.coverage[k], len(own) / len(m))
        assert 1 - 0.3 - 1e-12 <= res.coverage[k] <= 1
    assert not np.allclose(res.mmp, res.final_centroids)


def test_single_sample_class_is_warned_and_not_annular(caplog):
    X, y = uneven_blobs(1, C=3, n=20)
    X = np.vstack([X, [[50.0] * X.shape[1]]])
    y = np.append(y, 3)
    with caplog.at_level("WARNING", logger="embtree.caec"):
        res = grow_clusters(X, y, step="auto")
    assert "exactly 1 sample" in caplog.text and "[3]" in caplog.text
    assert res.r_f[3] == 0 and not res.annular[3]
    pc = caec.per_class_scores(res, y)
    assert np.isnan(pc["chi2_p"][3]) and pc["small_cluster"][3]


def test_auto_step_is_about_25_steps_to_the_median_bounding_radius():
    X, y = uneven_blobs(0, C=5, n=200, spread=3.0)
    res = grow_clusters(X, y, step="auto")
    fine = grow_clusters(X, y, step=res.step / 40)
    assert np.median(fine.r_b - fine.r0) / res.step == pytest.approx(25, rel=0.1)


@pytest.mark.parametrize("metric", ["manhattan", "canberra"])
def test_fused_kernels_give_the_naive_clusters(metric, monkeypatch):
    """The same data through the numba kernels (not the small-input cdist): identical members."""
    import embtree.distances as Dm

    X, y = uneven_blobs(0, C=4, n=60, d=12)
    ref_res = grow_clusters(X, y, metric=metric, gamma=0.3, step="auto")
    monkeypatch.setattr(Dm, "_SMALL", 0)
    res = grow_clusters(X, y, metric=metric, gamma=0.3, step=ref_res.step)
    ref = _grow_clusters_naive(X, y, metric=metric, gamma=0.3, step=ref_res.step)
    for k in range(res.n_classes):
        np.testing.assert_array_equal(res.members[k], ref["members"][k])
    np.testing.assert_allclose(res.r_f, ref["r_f"], rtol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "canberra", "cosine"])
@pytest.mark.parametrize("step", ["auto", 0.5])
def test_embeddings_are_validated_once(metric, step, monkeypatch):
    """One NaN/inf scan of X per call (issue 24): the distance kernels get check_input=False.
    Before, every pairwise_blocks call re-checked X (3 scans with step="auto", 2 otherwise)
    and the rim distances of every cluster checked their inputs again."""
    X, y = uneven_blobs(0, C=4, n=60, d=12)
    original = validation.check_matrix
    seen = []

    def counting(A, name, **kwargs):
        seen.append((name, np.shape(A)))
        return original(A, name, **kwargs)

    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("embtree") and getattr(mod, "check_matrix", None) is original:
            monkeypatch.setattr(mod, "check_matrix", counting)
    assert seen == []
    grow_clusters(X, y, metric=metric, step=step)
    assert seen == [("embeddings", X.shape)]


def test_cosine_refuses_zero_embeddings_and_zero_centroids():
    X, y = uneven_blobs(0, C=3, n=20)
    Z = X.copy()
    Z[4] = 0.0
    with pytest.raises(ValueError, match=r"zero vectors: embeddings rows \[4\]"):
        grow_clusters(Z, y, metric="cosine", step="auto")
    grow_clusters(Z, y, metric="euclidean", step="auto")  # defined for the other metrics
    # Class 0's embeddings cancel out: its centroid is the zero vector.
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"zero vectors: class centroids rows \[0\]"):
        grow_clusters(X, np.array([0, 0, 1, 1]), metric="cosine", step=0.1)
