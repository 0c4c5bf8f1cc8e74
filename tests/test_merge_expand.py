"""Merge & Expand (papers/003): scores against plain references, phases on constructed data, bad input."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from sklearn.metrics import adjusted_rand_score, pairwise_distances

from embtree import merge_expand as me

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(n_regions=20, steps=120, n_rounds=2, max_seeds=10)


def _blobs(centres, n_per, std, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + std * rng.standard_normal((n_per, len(c))) for c in centres])
    y = np.repeat(np.arange(len(centres)), n_per)
    return X.astype(np.float32), y


# ------------------------------------------------------------------ config / defaults


def test_defaults_are_the_schema_defaults():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["merge_expand"]["properties"]
    from_schema = {k: v["default"] for k, v in props.items() if k != "seed"}
    assert from_schema == me.DEFAULTS
    assert all(v.get("description") for v in props.values())


@pytest.mark.parametrize(
    "params, key",
    [({"n_regions": 1}, "n_regions"), ({"input": "pixels"}, "input"), ({"alpha": 2.0}, "alpha"),
     ({"lr": 0}, "lr"), ({"nonsense": 1}, "nonsense")],
)
def test_check_params_names_the_key(params, key):
    with pytest.raises(ValueError, match=key):
        me.check_params(params)


# ------------------------------------------------------------------- scores (eq. 2-5)


def test_co_contribution_matches_loop():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(3, 40))  # (n_r, N, K)
    M1, y0 = me.co_contribution(probs)
    mean = probs.mean(axis=0)
    ref = np.zeros((4, 4))
    for i in range(4):
        T = [x for x in range(40) if mean[x].argmax() == i]
        for j in range(4):
            ref[i, j] = sum(probs[l, x, j] for x in T for l in range(3)) / (len(T) * 3) if T else 0.0
    np.testing.assert_allclose(M1, ref)
    np.testing.assert_array_equal(y0, mean.argmax(axis=1))


def test_leakage_matrix_and_scores_match_loop():
    K, N = 5, 300
    rng = np.random.default_rng(1)
    y0 = rng.integers(0, K, N)
    pairs = np.asarray(list(itertools.combinations(range(K), 2)))
    merged = rng.random((len(pairs), N)) < rng.random((len(pairs), 1))
    L = me.leakage_matrix(y0, merged, pairs, K)
    ref = np.array([[np.sum((y0 == j) & merged[p]) for j in range(K)] for p in range(len(pairs))])
    np.testing.assert_array_equal(L, ref)
    M2 = me.leakage_scores(L, pairs, K)
    for i in range(K):
        for j in range(K):
            if i == j:
                assert M2[i, j] == 1.0
                continue
            x = [L[p, j] for p, (a, b) in enumerate(pairs) if i in (a, b) and j not in (a, b)]
            bg = [L[p, j] for p, (a, b) in enumerate(pairs) if j not in (a, b)]
            assert len(x) == K - 2
            assert M2[i, j] == pytest.approx(stats.ranksums(x, bg, alternative="greater").pvalue)


def test_leakage_score_low_for_the_leaking_partner():
    # Class 1's points leak into every combined class holding seed 0, nowhere else.
    K = 6
    pairs = np.asarray(list(itertools.combinations(range(K), 2)))
    L = np.ones((len(pairs), K))
    for p, (a, b) in enumerate(pairs):
        if 0 in (a, b):
            L[p, 1] = 50
    M2 = me.leakage_scores(L, pairs, K)
    assert M2[0, 1] < 0.05
    assert np.all(M2[2:, 1] > 0.05)


def test_replacement_scores_match_loop():
    K, N = 4, 200
    rng = np.random.default_rng(2)
    y0 = rng.integers(0, K, N)
    y_loo = rng.integers(0, K, (K, N))
    M3 = me.replacement_scores(y0, y_loo)
    for i in range(K):
        for j in range(K):
            ref = 0.0 if i == j else np.sum((y0 == i) & (y_loo[i] == j)) / np.sum(y0 == i)
            assert M3[i, j] == pytest.approx(ref)


def test_partition_ari_equals_sklearn_on_points():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 20, 30)
    a, b = rng.integers(0, 4, 30), rng.integers(0, 5, 30)
    point_a, point_b = np.repeat(a, sizes), np.repeat(b, sizes)
    assert me.partition_ari(a, b, sizes) == pytest.approx(adjusted_rand_score(point_a, point_b))


def test_region_distances_match_brute_force():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    regions = rng.integers(0, 5, 60)
    D = me.region_distances(X, regions, samples_per_region=1000)
    full = pairwise_distances(X)
    for i in range(5):
        for j in range(5):
            assert D[i, j] == pytest.approx(full[np.ix_(regions == i, regions == j)].mean())


def test_consistent_neighbours_match_brute_force():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 4))
    y = rng.integers(0, 3, 50)
    got = me.consistent_neighbours(X, y, k=5)
    D = pairwise_distances(X)
    np.fill_diagonal(D, np.inf)
    ref = [(y[np.argsort(D[i])[:5]] == y[i]).sum() for i in range(50)]
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------- seeds and graphs


def test_seed_selection_one_seed_per_separated_group():
    # 4 far-apart groups of 4 regions each: one seed per group, then 5 skips.
    rng = np.random.default_rng(6)
    centres = rng.standard_normal((4, 8)) * 100
    pts = np.concatenate([c + rng.standard_normal((4, 8)) for c in centres])  # region "centres"
    D = pairwise_distances(pts)
    np.fill_diagonal(D, 0.5)
    group = np.repeat(np.arange(4), 4)
    seeds, skipped = me.select_seeds(D, np.full(16, 10), np.zeros(16, bool))
    assert sorted(group[seeds]) == [0, 1, 2, 3]
    assert len(skipped) == 5


def test_seed_selection_errors():
    D = np.ones((4, 4))
    with pytest.raises(ValueError, match="mixed_filter_ratio"):
        me.select_seeds(D, np.full(4, 10), np.array([True, True, True, False]))
    with pytest.raises(ValueError, match="seed_size_ratio"):
        me.select_seeds(D, np.array([1, 10, 100, 1000]), np.zeros(4, bool), seed_size_ratio=0.9)


def test_mixed_regions_filters_low_agreement():
    assert me.mixed_regions([0.9, 0.8, 0.85, 0.2], 0.5).tolist() == [False, False, False, True]


def _brute_partition(G_s, G_r, M1, M2, M3):
    K = len(G_s)
    R = me.reduced_rank_scores(M1, M2, M3)
    Q = ((1 - (M1 + M1.T) / 2) + (M2 + M2.T) / 2 + (1 - (M3 + M3.T) / 2)) / 3

    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for p in partitions(rest):
            for i in range(len(p)):
                yield p[:i] + [[first] + p[i]] + p[i + 1:]
            yield [[first]] + p

    def valid(block):
        if any(G_r[u, v] for u, v in itertools.combinations(block, 2)):
            return False
        seen, stack = {block[0]}, [block[0]]
        while stack:
            u = stack.pop()
            for v in block:
                if v not in seen and G_s[u, v]:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(block)

    best = min((p for p in partitions(list(range(K))) if all(valid(b) for b in p)),
               key=lambda p: me._loss(p, R, Q))
    label = np.empty(K, dtype=int)
    for b, members in enumerate(sorted(best, key=min)):
        label[members] = b
    return label


def test_choose_partition_respects_graphs_and_matches_brute_force():
    rng = np.random.default_rng(7)
    K = 6
    for _ in range(5):
        M1, M3 = rng.random((K, K)), rng.random((K, K))
        M2 = rng.random((K, K))
        G_s = np.triu(rng.random((K, K)) < 0.5, 1)
        G_s = G_s | G_s.T
        G_r = np.triu(rng.random((K, K)) < 0.2, 1)
        G_r = (G_r | G_r.T) & ~G_s
        got = me.choose_partition(G_s, G_r, M1, M2, M3)
        np.testing.assert_array_equal(got, _brute_partition(G_s, G_r, M1, M2, M3))
    # A path 0-1-2 with 0 and 2 forbidden: exactly one singleton.
    G_s = np.zeros((3, 3), bool)
    G_s[0, 1] = G_s[1, 0] = G_s[1, 2] = G_s[2, 1] = True
    G_r = np.zeros((3, 3), bool)
    G_r[0, 2] = G_r[2, 0] = True
    part = me.choose_partition(G_s, G_r, np.eye(3), np.eye(3), np.eye(3))
    assert len(np.unique(part)) == 2 and part[0] != part[2]


def test_similarity_graph_needs_mutual_top_partners():
    K = 4
    M1 = np.full((K, K), 0.02)
    M3 = np.full((K, K), 0.05)
    M2 = np.full((K, K), 0.5)
    M1[0, 1] = M1[1, 0] = 0.3
    M3[0, 1] = M3[1, 0] = 0.6
    M2[0, 1] = M2[1, 0] = 0.001
    G_s, G_r = me.similarity_graphs(M1, M2, M3, top_rank=1, alpha=0.05)
    assert G_s.sum() == 2 and G_s[0, 1]
    assert not G_r[0, 1] and G_r[2, 3]


# ---------------------------------------------------------------- classifiers, phases 3-4


def test_stacked_training_equals_separate_models_and_flags_non_convergence():
    import torch

    X = torch.as_tensor(_blobs(np.eye(3) * 6, 30, 1.0)[0])
    y = np.repeat(np.arange(3), 30)
    Y = torch.as_tensor(np.stack([y, np.where(y == 2, 0, y)]))
    mask = torch.tensor([[True, True, True], [True, True, False]])
    model = me.train_stacked(X, Y, mask, steps=100)
    pred = me.predict_stacked(model, X, mask)[1]
    assert (pred[0] == Y[0]).float().mean() == 1.0
    assert (pred[1] == 2).sum() == 0  # a switched-off class is never predicted
    with pytest.raises(RuntimeError, match="min_train_accuracy"):
        rnd = torch.as_tensor(np.random.default_rng(0).integers(0, 3, (1, 90)))
        me.train_stacked(X, rnd, mask[:1], steps=1, min_train_accuracy=1.0)


def test_merging_recovers_a_group_with_two_seeds():
    import torch

    # Group 0 is an elongated dense strip with a seed at each end; groups 1-4 are far blobs.
    rng = np.random.default_rng(8)
    strip = np.c_[rng.uniform(-6, 6, 400), rng.normal(0, 0.5, 400)]
    blobs = [np.array(c) + rng.normal(0, 0.7, (100, 2)) for c in ((0, 25), (25, 0), (-25, 0), (0, -25))]
    X = np.concatenate([strip] + blobs).astype(np.float32)
    group = np.r_[np.zeros(400, int), np.repeat(np.arange(1, 5), 100)]
    regions = np.full(len(X), 6)  # everything else: one non-seed region
    regions[:400][strip[:, 0] < -4.5] = 0
    regions[:400][strip[:, 0] > 4.5] = 1
    for g in range(1, 5):
        regions[group == g] = g + 1
    seeds = np.arange(6)
    inputs = torch.as_tensor((X - X.mean(0)) / X.std(0))
    *_, partition = me.merge_seeds(inputs, regions, seeds, seed=0, train_kw={"steps": 300})
    assert partition[0] == partition[1]
    assert len(np.unique(partition)) == 5


def test_expansion_stops_and_respects_the_iteration_cap():
    import torch

    X, y = _blobs(np.eye(3)[:, :2] * 8, 60, 1.0)
    regions = np.repeat(np.arange(9), 20)
    train = np.nonzero(np.isin(regions, [0, 3, 6]))[0]
    inputs = torch.as_tensor(X)
    labels, included, n_it = me.expand(inputs, regions, train, y[train], 3, seed=0, train_kw={"steps": 100})
    assert n_it <= 3 and (included >= 0).all()
    assert adjusted_rand_score(y, labels) == 1.0
    _, inc1, n1 = me.expand(inputs, regions, train, y[train], 3, seed=0, max_expand_iterations=1,
                            train_kw={"steps": 100})
    assert n1 == 1 and inc1.max() <= 1


# -------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def mixed_blobs():
    centres = np.array([[0, 0], [12, 0], [0, 12], [12, 12]], dtype=float)
    X, y = _blobs(centres, 80, 1.0, seed=9)
    # A few mixed points: on the segment between blobs 0 and 1, labelled at random.
    rng = np.random.default_rng(10)
    t = rng.uniform(0.35, 0.65, 24)
    mixed = np.c_[12 * t, rng.normal(0, 0.4, 24)].astype(np.float32)
    X = np.concatenate([X, mixed])
    y = np.r_[y, rng.integers(0, 2, 24)]
    is_mixed = np.r_[np.zeros(320, bool), np.ones(24, bool)]
    return X, y, is_mixed


def test_clusters_are_found_end_to_end(mixed_blobs):
    X, y, is_mixed = mixed_blobs
    res = me.merge_expand(X, seed=0, **FAST)
    # The 4 blobs, possibly plus the bridge between two of them as a cluster of its own.
    assert res.n_clusters in (4, 5)
    assert adjusted_rand_score(y[~is_mixed], res.labels[~is_mixed]) > 0.95
    assert res.clean[~is_mixed].mean() > 0.8
    assert set(np.unique(res.included)) <= set(range(-1, res.n_iterations + 1))


def test_mixed_region_ends_unclean():
    import torch

    # Blobs A, B, C (3 regions each) and one region mixing 10 points of A with 10 of B.
    X, y = _blobs(np.array([[0, 0], [10, 0], [0, 10]], float), 70, 1.0, seed=11)
    regions = np.concatenate([np.repeat(np.arange(3 * g, 3 * g + 3), 20) for g in range(3)]
                             + [np.full(10, 9)] * 3)
    order = np.r_[[np.r_[np.arange(70 * g, 70 * g + 60)] for g in range(3)], ]
    rest = np.setdiff1d(np.arange(210), order.ravel())  # last 10 of each blob
    perm = np.r_[order.ravel(), rest]
    X, y = X[perm], y[perm]
    regions[-10:] = 10  # blob C's last 10: a homogeneous region of their own
    mixed = regions == 9  # 10 points of A and 10 of B
    train = np.nonzero(np.isin(regions, [0, 3, 6]))[0]
    labels, included, _ = me.expand(torch.as_tensor(X), regions, train, y[train], 3, seed=0,
                                    train_kw={"steps": 150})
    clean = included[regions] >= 0
    assert not clean[mixed].any()
    assert clean[~mixed].all()
    s = me.clean_scores(y, labels, clean)
    assert s["acc_clean"] == 1.0


def test_deterministic(mixed_blobs):
    X = mixed_blobs[0]
    a, b = me.merge_expand(X, seed=3, **FAST), me.merge_expand(X, seed=3, **FAST)
    for name in ("labels", "clean", "regions", "seeds", "partition", "m1", "m2", "m3", "included"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_flat_clusterer_merge_expand(mixed_blobs):
    from embtree import flat

    X = mixed_blobs[0]
    labels = flat.cluster(X, "merge-expand", n_clusters=None, seed=0, **FAST)
    np.testing.assert_array_equal(labels, me.merge_expand(X, seed=0, **FAST).labels)


def test_small_data_caps_the_regions_with_a_warning(caplog):
    # Issue: 120 samples failed the default run (n_regions=200); now 120 // 5 = 24 regions.
    assert me.region_count(120, 200, 5) == 24
    assert me.region_count(10_000, 200, 5) == 200
    assert me.region_count(7, 200, 5) == 2 and me.region_count(3, 200, 1) == 3
    X, _ = _blobs(np.eye(3) * 8, 10, 0.5)  # 30 samples, fewer than n_regions
    with caplog.at_level("WARNING", logger="embtree.merge_expand"):
        regions = me.make_regions(X, 50, min_region_size=5)
    assert regions.max() + 1 <= 6 and "merge_expand.n_regions=50 capped" in caplog.text and "= 6" in caplog.text
    with pytest.raises(ValueError, match="at least 2 samples"):
        me.make_regions(X[:1], 50)


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match="n_regions"):
        me.merge_expand(X, n_regions=1)
    with pytest.raises(ValueError, match="input"):
        me.merge_expand(X, n_regions=4, input="images")
    with pytest.raises(ValueError, match="NaN"):
        me.merge_expand(np.full((30, 2), np.nan), n_regions=4)


@pytest.mark.slow
def test_images_input_trains_the_cnn():
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = np.r_[[np.nonzero(d.target == c)[0][:20] for c in (0, 1)]].ravel()
    res = me.merge_expand(d.data[idx], images=d.images[idx], input="images", n_regions=4, min_region_size=5,
                          steps=40, n_rounds=1, min_train_accuracy=0.0, seed=0)
    assert res.labels.shape == (40,) and res.n_clusters >= 1
    with pytest.raises(ValueError, match="images"):
        me.merge_expand(d.data[idx], images=d.images[idx][:5], input="images", n_regions=4)


def test_report_table_and_figures():
    import pandas as pd

    from embtree import report as R

    row = dict(dataset="d", encoder="e", n_classes=10, n_clusters=12, clean_fraction=0.5, acc_all=0.7,
               acc_clean=0.8, acc_unclean=0.4, nmi_all=0.6, ami_all=0.6, consistent_clean=9.0,
               consistent_unclean=5.0)
    t = R.merge_expand_table(pd.DataFrame([row]))
    assert t.values.shape == (1, len(R.tables.merge_expand.ME_COLUMNS))
    assert float(t.values.loc[("d", "e"), "ACC clean"]) == pytest.approx(0.8)
    assert not t.bold.to_numpy().any()
    fig = R.plot_me_scores(np.eye(4), np.ones((4, 4)), np.eye(4), np.array([0, 0, 1, 2]))
    assert len(fig.axes) == 6  # three heat maps and their colour bars
    hist = pd.DataFrame({"consistent": np.arange(11), "clean": np.arange(11), "unclean": np.ones(11),
                         "all": np.arange(11) + 1})
    assert len(R.plot_consistent_neighbours(hist).axes[0].lines) == 3
