"""Tests of embtree.flat.selection: choices on development data sets (paper 004 appendix E) and group means (fig. 1)."""

import numpy as np
import pytest

from embtree import flat


def test_select_takes_the_weighted_average_and_picks_the_best():
    # rows: candidates (none, pca, umap); columns: IN-1k (weight 2), Imagenette, Imagewoof (1 each)
    S = [[0.30, 0.60, 0.40],
         [0.35, 0.50, 0.45],
         [0.40, 0.20, 0.30]]
    res = flat.select(S, [2, 1, 1])
    expected = [(2 * 0.30 + 0.60 + 0.40) / 4, (2 * 0.35 + 0.50 + 0.45) / 4, (2 * 0.40 + 0.20 + 0.30) / 4]
    np.testing.assert_allclose(res["weighted"], expected)
    assert res["best"] == 1  # 0.4125 beats 0.40 and 0.325
    np.testing.assert_allclose(res["weights"], [0.5, 0.25, 0.25])
    # equal weights: candidate 0 (0.433) wins instead
    assert flat.select(S)["best"] == 0


def test_select_leaves_out_incomplete_candidates_and_uninformative_data_sets():
    S = np.array([[0.9, np.nan], [0.5, 0.5], [0.4, 0.6]])
    res = flat.select(S)
    assert np.isnan(res["weighted"][0]) and res["best"] in (1, 2)  # 0.9 alone is not comparable
    assert flat.select([[np.nan], [np.nan]])["best"] == -1
    # relative (E.7): each column divided by its best; a column whose best is 0 carries no weight
    R = np.array([[0.2, 0.0, 0.8], [0.4, 0.0, 0.4], [0.1, 0.0, 0.6]])
    rel = flat.select(R, relative=True)
    np.testing.assert_allclose(rel["weighted"], [(0.5 + 1.0) / 2, (1.0 + 0.5) / 2, (0.25 + 0.75) / 2])
    np.testing.assert_allclose(rel["weights"], [0.5, 0.0, 0.5])
    # relative rescaling changes the winner where one data set's AMI range dwarfs the other's
    T = np.array([[0.90, 0.02], [0.80, 0.05]])
    assert flat.select(T)["best"] == 0 and flat.select(T, relative=True)["best"] == 1


@pytest.mark.parametrize("weights, match", [([1, -1], "non-negative"), ([0, 0], "not all 0"), ([1], "2 non-negative")])
def test_select_rejects_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        flat.select([[0.1, 0.2]], weights)


def test_threshold_grid_is_the_papers_21_values_and_their_refinement():
    grid = flat.threshold_grid()
    assert len(grid) == 21 and grid[0] == pytest.approx(0.001) and grid[-1] == pytest.approx(5000.0)
    assert np.all(np.diff(grid) > 0)
    for t in (0.2, 0.5, 1.0, 2.0, 10.0):  # every threshold tables 3-4 report on the coarse grid
        assert np.isclose(grid, t).any()
    fine = flat.threshold_grid(refine=True)
    assert len(fine) == 41 and np.isclose(fine, np.sqrt(0.5)).any()  # the tables' 0.71
    assert set(np.round(grid, 9)) <= set(np.round(fine, 9))


def test_group_means_by_hand():
    # 2 encoders x 4 data sets: d1, d2 in-domain; d3 far-ood; d4 far-ood (encoder b lacks it)
    S = np.array([[0.8, 0.6, 0.2, 0.4],
                  [0.5, 0.7, 0.3, np.nan]])
    res = flat.group_means(S, ["in-domain", "in-domain", "far-ood", "far-ood"])
    assert res["groups"] == ["in-domain", "far-ood"]
    np.testing.assert_allclose(res["mean"], [[0.7, 0.3], [0.6, 0.3]])
    np.testing.assert_array_equal(res["n"], [[2, 2], [2, 1]])
    np.testing.assert_array_equal(res["rank"], [[1, 1.5], [2, 1.5]])  # tie on far-ood shares the mean rank
