"""embtree.report.tables.flat: flat-clustering scores, mean ± std over seeds."""

import numpy as np
import pandas as pd

from embtree import report as R


def test_flat_table_mean_std_over_seeds():
    rows = [
        dict(dataset=ds, encoder="enc", reducer="pca", clusterer=c, seed=s, ami=a)
        for ds, c, s, a in [
            ("d1", "kmeans", 0, 0.5), ("d1", "kmeans", 1, 0.7),
            ("d1", "hdbscan", 0, 0.2), ("d1", "hdbscan", 1, 0.2),
            ("d2", "kmeans", 0, 0.1), ("d2", "kmeans", 1, 0.3),
            ("d2", "hdbscan", 0, 0.4), ("d2", "hdbscan", 1, 0.6),
        ]
    ]
    t = R.flat_table(pd.DataFrame(rows), order={"clusterer": ["kmeans", "hdbscan"]})
    md = R.to_markdown(t)
    sd = np.std([0.5, 0.7], ddof=1)
    assert f"| enc | kmeans | pca | **0.60 ± {sd:.2f}** | 0.20 ± {sd:.2f} |" in md
    assert f"|  | hdbscan | pca | 0.20 ± 0.00 | **0.50 ± {sd:.2f}** |" in md
