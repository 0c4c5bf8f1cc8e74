"""embtree.report.tables.cross: CAEC trees, UPGMA before clustering and L2H side by side."""

import numpy as np
import pandas as pd
import pytest

from embtree import report as R


def test_cross_method_table():
    trees = pd.DataFrame(
        [dict(dataset="c10", encoder="r20", cluster_metric=cm, tree_metric=tm, point=pt, rf=rf, di=di, dp=dp)
         for cm, tm, pt, rf, di, dp in [
             ("euclidean", "euclidean", "G", 4, 1.0, 0.5),
             ("euclidean", "euclidean", "P", 2, 0.5, 0.6),
             ("euclidean", "canberra", "G", 0, 0.0, 0.9),  # off-diagonal: not in the cross table
             ("before", "euclidean", "-", 6, 2.0, 0.4),
         ]]
    )
    l2h = pd.DataFrame([dict(dataset="c10", encoder="r20", source="classifier", rf=2, di=0.7, dp=0.8,
                             nmi=1, ari=1, acc=1, lp=1, lhd=0)])
    t = R.cross_method_table(trees, l2h, order={"metric": ["euclidean"], "source": ["classifier"]})
    methods = [m for _, m in t.values.index]
    assert methods == ["CAEC euclidean (G)", "CAEC euclidean (P)", "UPGMA before (euclidean)", "L2H (classifier)"]
    assert t.bold[("c10", "RF")].tolist() == [False, True, False, True]
    assert t.bold[("c10", "DP")].tolist() == [False, False, False, True]
    assert [c for c in t.values.columns.get_level_values(1)] == ["RF", "Recall", "Precision", "DI", "DI/DI_max", "DP"]
    cells = R.format_cells(t, "markdown")
    assert cells[("c10", "RF")].tolist() == ["4", "**2**", "6", "**2**"]  # RF counts splits: no decimals


def test_cross_method_table_marks_chance():
    trees = pd.DataFrame([dict(dataset="c10", encoder="r20", cluster_metric="euclidean", tree_metric="euclidean",
                               point=pt, rf=rf, rf_p=p, di=1.0, di_norm=0.1, di_norm_p=0.01, dp=0.5)
                          for pt, rf, p in [("G", 4, 0.5), ("P", 2, 0.001)]])
    t = R.cross_method_table(trees, pd.DataFrame(), order={"metric": ["euclidean"]})
    assert t.chance[("c10", "RF")].tolist() == [True, False]
    assert not t.chance[("c10", "DI")].any() and not t.chance[("c10", "DP")].any()
    # the chance cell does not compete; the other is then alone in its column: no bold either
    assert R.format_cells(t, "markdown")[("c10", "RF")].tolist() == ["4°", "2"]


def test_cross_method_table_averages_l2h_seeds_and_marks_chance_per_seed():
    trees = pd.DataFrame([dict(dataset="c10", encoder="r20", cluster_metric="euclidean", tree_metric="euclidean",
                               point="G", rf=4, rf_p=0.001, di=1.0, di_norm=0.1, di_norm_p=0.01, dp=0.5)])
    # kmeans: two seeds, the second no better than chance in RF; classifier: one tree (deterministic)
    l2h = pd.DataFrame([dict(dataset="c10", encoder="r20", source=src, seed=s, rf=rf, rf_p=p, di=0.5, di_norm=0.05,
                             di_norm_p=0.001, dp=dp)
                        for src, s, rf, p, dp in [("kmeans", 0, 2, 0.001, 0.8), ("kmeans", 1, 5, 0.2, 0.6),
                                                  ("classifier", 0, 3, 0.001, 0.9)]])
    t = R.cross_method_table(trees, l2h, order={"metric": ["euclidean"], "source": ["kmeans", "classifier"]},
                             n_seeds={"kmeans": 2})
    k = ("r20", "L2H (kmeans)")
    assert t.values.loc[k, ("c10", "RF")] == pytest.approx(3.5)
    assert t.std.loc[k, ("c10", "DP")] == pytest.approx(np.std([0.8, 0.6], ddof=1))
    assert t.chance.loc[k, ("c10", "RF")] and not t.chance.loc[k, ("c10", "DI/DI_max")]
    cells = R.format_cells(t, "markdown")
    # RF is a count: a whole number prints as one, a mean over seeds with one decimal; the chance mark and no
    # bold on the seed-averaged cell
    assert cells.loc[k, ("c10", "RF")] == "3.5 ± 2.1°"
    assert cells.loc[("r20", "L2H (classifier)"), ("c10", "RF")] == "**3**"
    assert cells.loc[k, ("c10", "DP")] == "70.0 ± 14.1"
    assert any("kmeans 2" in n for n in t.notes)
    t = R.cross_method_table(trees, l2h.iloc[:1], order={"metric": ["euclidean"], "source": ["kmeans"]},
                             n_seeds={"kmeans": 2})
    # one of the two seeds found: its n printed, and never bold though RF 2 is the column's best
    assert R.format_cells(t, "markdown").loc[k, ("c10", "RF")] == "2 (n=1)"
