"""Statistics of the CAEC paper (paper 000): the theorem-2 chi-square test, paired t-tests.

:func:`poisson_chi2`        chi-square fit of per-step counts to a Poisson shape (theorem 2, table 1)
:func:`arrival_dispersion`  variance / mean of the arrival steps (1 for a Poisson)
:func:`paired_ttests`       paired t-test between every pair of settings (section 4.3, table 9)
:data:`CHI2_ALPHA`, :data:`TTEST_ALPHA`  the paper's significance levels

Which reading of theorem 2 is tested, and why the verdict depends on the radius step:
docs/methods/caec.md ("Theorem 2: the chi-square test").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats

__all__ = ["Chi2Result", "poisson_chi2", "arrival_dispersion", "paired_ttests", "TTEST_ALPHA", "CHI2_ALPHA"]

CHI2_ALPHA = 0.05  # theorem 2
TTEST_ALPHA = 0.01  # section 4.3


@dataclass(frozen=True)
class Chi2Result:
    statistic: float
    pvalue: float
    n_bins: int
    mean: float

    @property
    def rejects(self) -> bool:
        """True when p < 0.05: the counts do not follow a Poisson shape (theorem 2)."""
        return bool(self.pvalue < CHI2_ALPHA)


def _merge_tails(obs, exp, min_expected):
    """Merge bins inward from both ends until each expected count is >= min_expected."""
    obs, exp = list(obs), list(exp)
    while len(exp) > 1 and exp[0] < min_expected:
        e, o = exp.pop(0), obs.pop(0)
        exp[0] += e
        obs[0] += o
    while len(exp) > 1 and exp[-1] < min_expected:
        e, o = exp.pop(), obs.pop()
        exp[-1] += e
        obs[-1] += o
    # The Poisson pmf is unimodal, so once both ends reach min_expected every bin does.
    return np.asarray(obs, dtype=float), np.asarray(exp, dtype=float)


def poisson_chi2(counts, *, min_expected=5.0, ddof=0):
    """Chi-square goodness of fit of per-step counts to a Poisson shape (theorem 2, table 1).

    Parameters
    ----------
    counts : array of shape (n_steps,)
        ``counts[x]`` = embeddings first reached at radius step x (x = 0 at r_0), e.g.
        :meth:`embtree.caec.CAECResult.increments`.
    min_expected : float
        Merge bins until each expected count is at least this (0: keep all bins as the
        paper's table 1).
    ddof : int
        Extra degrees of freedom removed (scipy's ``ddof``); 0 as in table 1, 1 would
        account for the estimated mean.

    Returns
    -------
    Chi2Result
        ``statistic``, ``pvalue`` (NaN when fewer than ``2 + ddof`` bins remain or
        the counts are all 0), ``n_bins`` after merging, and the fitted mean step
        ``lambda = sum_x x counts[x] / sum_x counts[x]``. Expected counts are
        ``n * Poisson(x; lambda)`` with the upper tail beyond the last step folded
        into the last bin, so they sum to the observed total.
    """
    f = np.asarray(counts, dtype=float)
    if f.ndim != 1 or len(f) == 0:
        raise ValueError(f"counts must be a non-empty 1-D array, got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError("counts must be finite and >= 0")
    if min_expected < 0:
        raise ValueError(f"min_expected={min_expected} must be >= 0")
    n = f.sum()
    if n == 0:
        return Chi2Result(np.nan, np.nan, 0, np.nan)
    x = np.arange(len(f))
    lam = float((x * f).sum() / n)
    if lam == 0:  # every count at step 0: a degenerate Poisson, nothing to test
        return Chi2Result(np.nan, np.nan, 1, lam)
    exp = n * stats.poisson.pmf(x, lam)
    exp[-1] = n * stats.poisson.sf(len(f) - 2, lam) if len(f) > 1 else n
    obs, exp = _merge_tails(f, exp, min_expected) if min_expected > 0 else (f, exp)
    if len(obs) < 2 + ddof:
        return Chi2Result(np.nan, np.nan, len(obs), lam)
    res = stats.chisquare(obs, exp, ddof=ddof, sum_check=False)
    return Chi2Result(float(res.statistic), float(res.pvalue), len(obs), lam)


def arrival_dispersion(counts):
    """Variance / mean of the arrival steps whose histogram is ``counts`` (1 for a Poisson).

    ``counts[x]`` = embeddings first reached at step x. NaN when there are no counts or
    the mean step is 0 (every embedding at r_0).
    """
    f = np.asarray(counts, dtype=float)
    n = f.sum()
    if f.ndim != 1 or n <= 0:
        return float("nan")
    x = np.arange(len(f))
    mean = (x * f).sum() / n
    if mean <= 0:
        return float("nan")
    return float(((x - mean) ** 2 * f).sum() / n / mean)


def paired_ttests(values, *, alpha=TTEST_ALPHA):
    """Paired t-test of per-class values between every pair of settings (section 4.3, table 9).

    Parameters
    ----------
    values : dict mapping a name (e.g. a distance metric) to an array of shape (n_classes,)
        Per-class values (e.g. coverage), aligned by class across names.
    alpha : float
        Significance threshold; the paper's 0.01 (significant when ``p <= alpha``).

    Returns
    -------
    list of dicts with ``metric_a``, ``metric_b``, ``t``, ``p``, ``significant``, one per
    unordered pair in the order of ``values``. ``t``/``p`` are NaN when every difference
    is 0 or fewer than 2 classes are present (``significant`` False).
    """
    arrays = {}
    for name, v in values.items():
        v = np.asarray(v, dtype=float)
        if v.ndim != 1:
            raise ValueError(f"values[{name!r}] must be 1-D, got shape {v.shape}")
        arrays[name] = v
    lengths = {name: len(v) for name, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"values must have one entry per class for every name, got lengths {lengths}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")
    rows = []
    for a, b in combinations(arrays, 2):
        va, vb = arrays[a], arrays[b]
        diff = va - vb
        if len(diff) < 2 or np.all(diff == diff[0]) and diff[0] == 0:
            t, p = np.nan, np.nan
        else:
            res = stats.ttest_rel(va, vb)
            t, p = float(res.statistic), float(res.pvalue)
        rows.append({"metric_a": a, "metric_b": b, "t": t, "p": p, "significant": bool(p <= alpha)})
    return rows
