"""embtree.heads.separability: L_align over true positive neighbours, Davies-Bouldin, silhouette
and R² (paper 002 fig. 4) on constructed data with known answers, and against plain loops."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from embtree.heads import mine_knn, separability
from embtree.heads.separability import alignment_loss, coefficient_of_determination, separability_scores


def _classes(spread, n_per=40, n_classes=4, dim=6, seed=0):
    """Classes around orthogonal unit centres with Gaussian spread (``spread`` 0: on the centres)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:n_classes] * 5
    y = np.repeat(np.arange(n_classes), n_per)
    return centres[y] + spread * rng.normal(size=(len(y), dim)), y


def _loop_align(X, y, nbr, normalize=True):
    """The definition, one pair at a time: mean ||z_i - z_j||^2 over j in nbr[i] with y_i == y_j."""
    Z = [x / np.linalg.norm(x) if normalize else x for x in np.asarray(X, dtype=float)]
    d = [float(np.sum((Z[i] - Z[j]) ** 2)) for i in range(len(y)) for j in nbr[i] if y[i] == y[j]]
    return sum(d) / len(d)


def test_alignment_known_answer_on_the_unit_circle():
    # Points at 0, 90, 180 and 270 degrees (scaled: normalising removes the scale).
    X = np.array([[1.0, 0], [0, 2.0], [-3.0, 0], [0, -0.5]])
    y = np.array([0, 0, 1, 1])
    # 0 -> 1 (same class, |d|^2 = 2), 1 -> 2 (other class: left out), 2 -> 3 (same, 2), 3 -> 0 (other)
    assert alignment_loss(X, y, np.array([[1], [2], [3], [0]])) == pytest.approx(2.0)
    # 0 -> 2 (opposite points, other class) and 2 -> 0: no true positive pair at all.
    assert np.isnan(alignment_loss(X, y, np.array([[2], [2], [0], [0]])))
    # Without normalising: |(1, 0) - (0, 2)|^2 = 5 and |(-3, 0) - (0, -0.5)|^2 = 9.25.
    assert alignment_loss(X, y, np.array([[1], [2], [3], [0]]), normalize=False) == pytest.approx((5 + 9.25) / 2)


def test_alignment_equals_the_plain_loop_across_blocks(monkeypatch):
    X, y = _classes(2.0, n_per=30)
    nbr = mine_knn(X, 7)
    want = _loop_align(X, y, nbr)
    assert alignment_loss(X, y, nbr) == pytest.approx(want, rel=1e-12)
    monkeypatch.setattr(separability, "_ALIGN_BLOCK_FLOATS", 7 * X.shape[1] * 5)  # blocks of 5 rows
    assert alignment_loss(X, y, nbr) == pytest.approx(want, rel=1e-12)
    assert alignment_loss(X, y, nbr, normalize=False) == pytest.approx(_loop_align(X, y, nbr, False), rel=1e-12)


def test_tight_separated_classes_score_better_than_overlapping_ones():
    X, y = _classes(0.0)  # every sample on its class centre
    tight = separability_scores(X, y, mine_knn(X, 5))
    assert tight["l_align"] == pytest.approx(0.0, abs=1e-12)
    assert tight["davies_bouldin"] == pytest.approx(0.0, abs=1e-12)
    assert tight["silhouette"] == pytest.approx(1.0)
    assert tight["knn_precision"] == 1.0 and tight["n_pos_pairs"] == len(y) * 5
    good_X, y = _classes(0.5)
    bad_X, _ = _classes(4.0)  # the same centres, spread wide enough to overlap
    good = separability_scores(good_X, y, mine_knn(good_X, 5))
    bad = separability_scores(bad_X, y, mine_knn(bad_X, 5))
    assert good["knn_precision"] == 1.0 and bad["knn_precision"] < 0.8
    assert good["l_align"] < 0.1 < bad["l_align"]
    assert good["davies_bouldin"] < 1 < bad["davies_bouldin"]
    assert good["silhouette"] > 0.5 > 0.2 > bad["silhouette"]


def test_silhouette_subsample_is_seeded_and_full_when_large():
    X, y = _classes(1.0)
    nbr = mine_knn(X, 5)
    full = separability_scores(X, y, nbr)
    assert separability_scores(X, y, nbr, silhouette_samples=10_000) == full
    a = separability_scores(X, y, nbr, silhouette_samples=60, seed=3)
    assert a == separability_scores(X, y, nbr, silhouette_samples=60, seed=3)
    assert a["silhouette_samples"] == 60 and a["silhouette"] != full["silhouette"]
    assert a["l_align"] == full["l_align"] and a["davies_bouldin"] == full["davies_bouldin"]


def test_bad_input_names_the_argument():
    X, y = _classes(1.0)
    with pytest.raises(ValueError, match="labels must have shape"):
        alignment_loss(X, y[:-1], mine_knn(X, 2))
    with pytest.raises(ValueError, match="neighbors must be sample indices"):
        alignment_loss(X, y, np.full((len(y), 2), len(y)))
    with pytest.raises(ValueError, match="2..n_samples-1"):
        separability_scores(X, np.zeros(len(y), int), mine_knn(X, 2))
    with pytest.raises(ValueError, match="silhouette_samples=1"):
        separability_scores(X, y, mine_knn(X, 2), silhouette_samples=1)


def test_r2_equals_a_fitted_line_and_is_nan_below_three_points():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=12)
    y = 3 - 2 * x + 0.3 * rng.normal(size=12)
    line = LinearRegression().fit(x[:, None], y)
    assert coefficient_of_determination(x, y) == pytest.approx(r2_score(y, line.predict(x[:, None])))
    assert coefficient_of_determination(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    assert coefficient_of_determination(10 * x + 4, y) == pytest.approx(coefficient_of_determination(x, y))
    assert coefficient_of_determination(x, 5 * x - 1) == pytest.approx(1.0)
    assert np.isnan(coefficient_of_determination([0.1, 0.2], [1.0, 3.0]))  # two points: always a line
    assert np.isnan(coefficient_of_determination([0.1, np.nan, 0.2, 0.3], [1.0, 2.0, np.nan, 3.0]))
    assert np.isnan(coefficient_of_determination([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]))


def test_davies_bouldin_and_silhouette_equal_their_textbook_loops_on_the_normalised_points():
    X, y = _classes(2.5, n_per=10, n_classes=3, dim=4, seed=2)
    got = separability_scores(X, y, mine_knn(X, 3))
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    ks = sorted(set(y))
    c = {k: Z[y == k].mean(0) for k in ks}
    s = {k: np.mean([np.linalg.norm(z - c[k]) for z in Z[y == k]]) for k in ks}
    db = np.mean([max((s[i] + s[j]) / np.linalg.norm(c[i] - c[j]) for j in ks if j != i) for i in ks])
    assert got["davies_bouldin"] == pytest.approx(db, rel=1e-10)
    sil = []
    for i in range(len(y)):
        d = np.linalg.norm(Z - Z[i], axis=1)
        a = d[(y == y[i]) & (np.arange(len(y)) != i)].mean()
        b = min(d[y == k].mean() for k in ks if k != y[i])
        sil.append((b - a) / max(a, b))
    assert got["silhouette"] == pytest.approx(np.mean(sil), rel=1e-10)
