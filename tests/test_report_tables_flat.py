"""embtree.report.tables.flat: flat-clustering scores, mean ± std over seeds."""

import numpy as np
import pandas as pd
import pytest

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
    assert f"| enc | kmeans | pca | **60.0 ± {100 * sd:.1f}** | 20.0 ± {100 * sd:.1f} |" in md
    assert f"|  | hdbscan | pca | 20.0 ± 0.0 | **50.0 ± {100 * sd:.1f}** |" in md


def test_found_k_tables_keep_the_clusterers_that_choose_k():
    from embtree.report.tables.flat import flat_found_k_tables

    rows = [{"dataset": "d", "encoder": "e", "reducer": "none", "clusterer": c, "seed": s, "ami": 0.5,
             "n_clusters": k + s, "noise_fraction": nf}
            for c, k, nf in (("kmeans", 10, 0.0), ("hdbscan", 12, 0.25), ("affinity-propagation", 40, 0.0))
            for s in (0, 1)]
    k_table, noise = flat_found_k_tables(pd.DataFrame(rows))
    assert sorted(i[1] for i in k_table.values.index) == ["affinity-propagation", "hdbscan"]  # not kmeans
    assert float(k_table.values.loc[("e", "hdbscan", "none"), "d"]) == 12.5  # mean over the seeds
    assert float(noise.values.loc[("e", "hdbscan", "none"), "d"]) == 0.25
    assert not k_table.bold.to_numpy().any()
    empty, _ = flat_found_k_tables(pd.DataFrame([r for r in rows if r["clusterer"] == "kmeans"]))
    assert empty.values.empty and "none" in empty.empty_note


def test_ranking_and_silhouette_correlation_tables():
    from embtree.report.tables.flat import flat_ranking_table, flat_silhouette_correlation_table

    rows = [{"dataset": d, "encoder": "e", "reducer": r, "clusterer": c, "seed": 0, "ami": a + off,
             "silhouette": 0.5 * (a + off)}
            for d, off in (("d1", 0.0), ("d2", 0.1), ("d3", 0.2)) for r in ("none", "umap")
            for c, a in (("kmeans", 0.5), ("spectral", 0.6), ("hdbscan", 0.2))]
    t = flat_ranking_table(pd.DataFrame(rows))
    assert float(t.values.loc["spectral", "mean rank"]) == 1.0 and float(t.values.loc["hdbscan", "mean rank"]) == 3.0
    assert float(t.values.loc["kmeans", "runs"]) == 6
    assert t.bold.loc["spectral", "mean rank"] and pd.isna(t.values.loc["spectral", "p vs best (Wilcoxon)"])
    c = flat_silhouette_correlation_table(pd.DataFrame(rows))
    assert float(c.values.loc["none", "Spearman ρ"]) == pytest.approx(1.0)  # silhouette = AMI / 2 here
    assert float(c.values.loc["umap", "runs"]) == 9
