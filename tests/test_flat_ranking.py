"""embtree.flat.ranking: ranks of clusterers across runs and the Wilcoxon test (paper 004 fig. 6)."""

import numpy as np
import pytest
from scipy import stats

from embtree.flat.ranking import rank_clusterers, score_correlation


def test_known_order_gives_known_ranks_and_the_best_beats_the_worst():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, size=(12, 1))
    # Column 1 is always best, column 0 second, column 2 worst, with a tie in one block.
    S = np.hstack([base, base + 0.1, base - 0.1])
    S[0, 0] = S[0, 1]
    res = rank_clusterers(S)
    assert res["best"] == 1
    np.testing.assert_allclose(res["mean_rank"], [(11 * 2 + 1.5) / 12, (11 * 1 + 1.5) / 12, 3.0])
    assert res["n_blocks"].tolist() == [12, 12, 12]
    assert np.isnan(res["p_vs_best"][1])
    assert res["p_vs_best"][2] == pytest.approx(stats.wilcoxon(S[:, 1], S[:, 2]).pvalue) and res["p_vs_best"][2] < 0.01
    # Lower is better (e.g. a distance): the order flips.
    assert rank_clusterers(S, higher_is_better=False)["best"] == 2


def test_missing_scores_leave_their_blocks_out():
    S = np.array([[0.5, 0.4, np.nan], [0.6, 0.5, 0.1], [0.7, 0.2, 0.3]])
    res = rank_clusterers(S)
    assert res["n_blocks"].tolist() == [3, 3, 2]
    assert res["mean_rank"][0] == pytest.approx(1.0) and res["best"] == 0
    # Only the 2 blocks where both have a score are paired.
    assert res["p_vs_best"][2] == pytest.approx(stats.wilcoxon([0.6, 0.7], [0.1, 0.3]).pvalue)
    with pytest.raises(ValueError, match="n_clusterers >= 2"):
        rank_clusterers(np.zeros((3, 1)))


def test_score_correlation_is_spearman_on_the_finite_pairs():
    a = np.array([0.1, 0.4, 0.3, np.nan, 0.9, 0.5])
    b = np.array([0.0, 0.2, 0.1, 0.5, 0.8, 0.9])
    ok = np.isfinite(a)
    res = score_correlation(a, b)
    ref = stats.spearmanr(a[ok], b[ok])
    assert res["n"] == 5 and res["rho"] == pytest.approx(ref.statistic) and res["p"] == pytest.approx(ref.pvalue)
    assert np.isnan(score_correlation(a[:2], b[:2])["rho"])
