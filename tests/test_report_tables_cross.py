"""embtree.report.tables.cross: CAEC trees, UPGMA before clustering and L2H side by side."""

import pandas as pd

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
    assert R.format_cells(t, "markdown")[("c10", "RF")].tolist() == ["4°", "**2**"]
