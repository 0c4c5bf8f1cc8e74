"""Clustering benchmark (paper 004, appendix H): flat-clustering scores, mean ± std over seeds."""

from __future__ import annotations

from embtree.report.common import LABELS
from embtree.report.tables.base import wide_table


def flat_table(flat, value="ami", *, missing=None, order=None):
    """Clustering benchmark (paper 004, appendix H): ``value`` per encoder x clusterer x reducer.

    Columns datasets; cells are mean ± std over seeds (sample std, ``ddof=1``: seeds are
    repeated runs; a single seed prints the mean alone).
    """
    return wide_table(
        flat,
        ["encoder", "clusterer", "reducer"],
        ["dataset"],
        value,
        name=f"flat_{value}",
        title=f"Flat clustering: {LABELS.get(value, value)} per encoder, clusterer and reducer (mean ± std over seeds)",
        aggregate="mean_std",
        ddof=1,
        missing=missing,
        order=order,
    )
