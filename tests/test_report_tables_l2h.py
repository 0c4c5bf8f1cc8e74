"""embtree.report.tables.l2h: the L2H table (paper 001 table 1), bold by each metric's direction."""

import pandas as pd

from embtree import report as R


def test_l2h_table_directions_per_metric():
    base = dict(dataset="c10", encoder="r20")
    rows = [
        {**base, "source": "classifier", "nmi": 0.9, "ari": 0.8, "acc": 0.9, "lp": 0.9, "dp": 0.7, "lhd": 0.3},
        {**base, "source": "agglomerative", "nmi": 0.5, "ari": 0.4, "acc": 0.6, "lp": 0.6, "dp": 0.8, "lhd": 0.1},
    ]
    t = R.l2h_table(pd.DataFrame(rows), order={"source": ["classifier", "agglomerative"]})
    b = t.bold
    assert b.loc[("r20", "L2H (classifier)"), ("c10", "NMI")]
    assert b.loc[("r20", "agglomerative"), ("c10", "DP")]
    assert b.loc[("r20", "agglomerative"), ("c10", "LHD")]  # lower is better
    assert not b.loc[("r20", "L2H (classifier)"), ("c10", "LHD")]
