"""embtree.stats: chi-square Poisson fit (theorem 2, table 1) and paired t-tests (table 9)."""

import numpy as np
import pytest
from scipy import stats as ss

from embtree.stats import paired_ttests, poisson_chi2


def _histogram(steps, n_bins):
    return np.bincount(steps, minlength=n_bins)[:n_bins]


def test_poisson_counts_do_not_reject():
    # Embeddings whose step index is Poisson(6): the per-step counts have a Poisson shape.
    rng = np.random.default_rng(0)
    counts = _histogram(rng.poisson(6.0, size=2000), 30)
    res = poisson_chi2(counts)
    assert res.pvalue > 0.05 and not res.rejects
    assert res.mean == pytest.approx(6.0, abs=0.2)


def test_non_poisson_shape_rejects():
    # Uniform over 20 steps: far from any Poisson shape.
    rng = np.random.default_rng(0)
    counts = _histogram(rng.integers(0, 20, size=2000), 20)
    assert poisson_chi2(counts).pvalue < 1e-6


def test_known_statistic_without_merging():
    counts = np.array([3, 8, 9, 6, 3, 1])
    n, x = counts.sum(), np.arange(6)
    lam = (x * counts).sum() / n
    exp = n * ss.poisson.pmf(x, lam)
    exp[-1] = n * ss.poisson.sf(4, lam)
    stat = ((counts - exp) ** 2 / exp).sum()
    res = poisson_chi2(counts, min_expected=0)
    assert res.n_bins == 6
    assert res.statistic == pytest.approx(stat)
    assert res.pvalue == pytest.approx(ss.chi2.sf(stat, 5))  # dof = bins - 1, as table 1
    assert poisson_chi2(counts, min_expected=0, ddof=1).pvalue == pytest.approx(ss.chi2.sf(stat, 4))


def test_merging_keeps_total_and_min_expected():
    counts = np.array([0, 1, 5, 9, 12, 9, 5, 2, 1, 0, 0, 1])
    res = poisson_chi2(counts, min_expected=5)
    assert 2 <= res.n_bins < len(counts)


def test_degenerate_counts_give_nan():
    assert np.isnan(poisson_chi2([0, 0, 0]).pvalue)
    assert np.isnan(poisson_chi2([7]).pvalue)
    with pytest.raises(ValueError, match="counts"):
        poisson_chi2([1, -1])


def test_paired_ttests_known_answer():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.0, size=50)
    values = {"euclidean": a, "manhattan": a + 0.2 + rng.normal(0, 0.01, 50), "canberra": a + rng.normal(0, 0.05, 50)}
    rows = paired_ttests(values)
    assert [(r["metric_a"], r["metric_b"]) for r in rows] == [
        ("euclidean", "manhattan"), ("euclidean", "canberra"), ("manhattan", "canberra")]
    ref = ss.ttest_rel(values["euclidean"], values["manhattan"])
    assert rows[0]["t"] == pytest.approx(ref.statistic) and rows[0]["p"] == pytest.approx(ref.pvalue)
    assert rows[0]["significant"] and rows[2]["significant"]
    assert not rows[1]["significant"] and rows[1]["p"] > 0.01


def test_paired_ttests_identical_and_bad_input():
    rows = paired_ttests({"a": [0.5, 0.6, 0.7], "b": [0.5, 0.6, 0.7]})
    assert np.isnan(rows[0]["p"]) and not rows[0]["significant"]
    with pytest.raises(ValueError, match="lengths"):
        paired_ttests({"a": [1, 2, 3], "b": [1, 2]})


def test_dispersion_is_one_for_poisson_arrivals_and_scales_with_the_step():
    from embtree.stats import arrival_dispersion

    rng = np.random.default_rng(1)
    steps = rng.poisson(8.0, size=5000)
    assert arrival_dispersion(_histogram(steps, 40)) == pytest.approx(1.0, abs=0.06)
    # The same radii on a 4x finer step: mean x4, variance x16 -> dispersion ~4, rejected.
    fine = _histogram(4 * steps + rng.integers(0, 4, size=len(steps)), 160)
    assert arrival_dispersion(fine) == pytest.approx(4.0, rel=0.1)
    assert poisson_chi2(fine).pvalue < 1e-6 and poisson_chi2(_histogram(steps, 40)).pvalue > 0.01
    assert np.isnan(arrival_dispersion([0, 0])) and np.isnan(arrival_dispersion([5, 0]))
