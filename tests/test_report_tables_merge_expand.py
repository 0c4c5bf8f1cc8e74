"""embtree.report.tables.merge_expand: the Merge & Expand table (paper 003, table I)."""

import pandas as pd
import pytest

from embtree import report as R


def test_merge_expand_table():
    row = dict(dataset="d", encoder="e", n_classes=10, n_clusters=12, clean_fraction=0.5, acc_all=0.7,
               acc_clean=0.8, acc_unclean=0.4, nmi_all=0.6, ami_all=0.6, consistent_clean=9.0,
               consistent_unclean=5.0)
    t = R.merge_expand_table(pd.DataFrame([row]))
    assert t.values.shape == (1, len(R.tables.merge_expand.ME_COLUMNS))
    assert float(t.values.loc[("d", "e"), "ACC clean"]) == pytest.approx(0.8)
    assert not t.bold.to_numpy().any()
