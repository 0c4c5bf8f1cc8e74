"""embtree.report.figures.projection: the 2-D PCA of the embeddings scatter."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from embtree import report as R


def test_project_pca_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) @ np.diag([5, 3, 1, 1, 1, 1])
    idx, mean, comps = R.project_pca(X, n_max=1000)
    assert len(idx) == 300
    ref = PCA(2).fit(X)
    np.testing.assert_allclose(np.abs(comps @ ref.components_.T), np.eye(2), atol=1e-8)
    # Linear: the projected mean of a class equals the mean of its projected points.
    P = (X - mean) @ comps.T
    np.testing.assert_allclose(((X[:50].mean(0) - mean) @ comps.T), P[:50].mean(0), atol=1e-10)
    idx2, _, _ = R.project_pca(X, n_max=100, seed=1)
    assert len(idx2) == 100 and np.all(np.diff(idx2) > 0)


def test_project_pca_names_a_bad_n_max():
    with pytest.raises(ValueError, match="n_max=1"):
        R.project_pca(np.ones((5, 2)), n_max=1)


def test_projection_axes_named_and_empty_input_says_no_data():
    fig = R.plot_projection(np.random.default_rng(0).normal(size=(6, 2)), np.repeat([0, 1], 3), ["a", "b"])
    assert fig.axes[0].get_xlabel().startswith("PC 1") and fig.axes[0].get_ylabel().startswith("PC 2")
    fig = R.plot_projection(np.zeros((0, 2)), np.zeros(0, dtype=int), ["a"])
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)


def test_tsne_map_embeds_the_points_jointly_and_is_seeded():
    from embtree.report.figures.projection import tsne_map

    rng = np.random.default_rng(0)
    centres = 20 * rng.standard_normal((3, 10))
    y = np.repeat(np.arange(3), 40)
    X = centres[y] + rng.standard_normal((len(y), 10))
    means = np.stack([X[y == k].mean(axis=0) for k in range(3)])
    xy, (m2,) = tsne_map(X, [means], seed=0)
    assert xy.shape == (120, 2) and m2.shape == (3, 2)
    # each class mean lands among its own class's points in the map
    for k in range(3):
        d = np.linalg.norm(xy - m2[k], axis=1)
        assert np.bincount(y[np.argsort(d)[:10]], minlength=3).argmax() == k
    again, _ = tsne_map(X, [means], seed=0)
    np.testing.assert_array_equal(xy, again)
    fig = R.plot_projection(xy, y, ["a", "b", "c"], method="tsne")
    assert fig.axes[0].get_xlabel().startswith("t-SNE 1")
