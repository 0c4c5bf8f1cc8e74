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


def _rows(cells, clusterer="kmeans", seeds=(0,)):
    """Flat metrics rows from {(encoder, dataset, reducer[, clusterer]): ami}, one per seed."""
    out = []
    for key, ami in cells.items():
        enc, ds, red = key[:3]
        clu = key[3] if len(key) > 3 else clusterer
        out += [{"dataset": ds, "encoder": enc, "reducer": red, "clusterer": clu, "seed": s, "ami": ami}
                for s in seeds]
    return pd.DataFrame(out)


def test_reducer_choice_uses_the_weighted_development_average():
    from embtree.report.tables.flat import flat_reducer_choice_table

    # encoder e: on dev (in1k weight 2, woof 1) pca = (2*.4+.9)/3 = .567 beats umap = (2*.6+.2)/3 = .467;
    # the test set "t" (where umap is better) is not averaged.
    flat = _rows({("e", "in1k", "pca"): 0.4, ("e", "woof", "pca"): 0.9, ("e", "t", "pca"): 0.0,
                  ("e", "in1k", "umap"): 0.6, ("e", "woof", "umap"): 0.2, ("e", "t", "umap"): 1.0})
    settings = {"selection_datasets": ["in1k", "woof"], "selection_weights": {"in1k": 2},
                "encoder_reducers": {"e": {"kmeans": "umap"}}}
    t = flat_reducer_choice_table(flat, settings)
    v = t.values
    assert float(v.loc[("e", "kmeans", "pca"), "weighted AMI"]) == pytest.approx((2 * 0.4 + 0.9) / 3)
    assert float(v.loc[("e", "kmeans", "umap"), "weighted AMI"]) == pytest.approx((2 * 0.6 + 0.2) / 3)
    assert "AMI t" not in v.columns
    assert t.bold.loc[("e", "kmeans", "pca"), "weighted AMI"] and not t.bold.loc[("e", "kmeans", "umap"), "weighted AMI"]
    notes = " ".join(t.notes)
    assert "pca for e / kmeans" in notes and "umap configured, pca chosen" in notes
    # the weights reach the choice: with woof weighted 0, in1k alone decides (umap .6 > pca .4)
    t2 = flat_reducer_choice_table(flat, {"selection_datasets": ["in1k", "woof"],
                                          "selection_weights": {"woof": 0}})
    assert t2.bold.loc[("e", "kmeans", "umap"), "weighted AMI"]
    # no development data sets: every data set, said in the note
    t3 = flat_reducer_choice_table(flat)
    assert "in-sample" in " ".join(t3.notes) and "AMI t" in t3.values.columns


def test_threshold_choice_uses_the_relative_ami_and_names_the_threshold():
    from embtree.report.tables.flat import flat_threshold_choice_table

    clus = {f"t{t}": {"method": "agglomerative-threshold", "linkage": "ward", "metric": "euclidean",
                      "distance_threshold": t} for t in (0.5, 2.0)}
    clus["kmeans"] = {"method": "kmeans"}
    # raw weighted AMI prefers t0.5 ((.9 + .02) / 2 = .46 vs (.8 + .05) / 2 = .425); relative
    # prefers t2.0 ((.8/.9 + 1) / 2 = .944 vs (1 + .4) / 2 = .7)
    flat = _rows({("e", "a", "umap", "t0.5"): 0.9, ("e", "b", "umap", "t0.5"): 0.02,
                  ("e", "a", "umap", "t2.0"): 0.8, ("e", "b", "umap", "t2.0"): 0.05,
                  ("e", "a", "umap", "kmeans"): 0.99, ("e", "b", "umap", "kmeans"): 0.99})
    t = flat_threshold_choice_table(flat, {"clusterers": clus})
    key = ("e", "umap", "ward / euclidean", "t2.0")
    assert float(t.values.loc[key, "weighted relative AMI"]) == pytest.approx((0.8 / 0.9 + 1.0) / 2)
    assert float(t.values.loc[key, "distance threshold"]) == 2.0
    assert t.bold.loc[key, "weighted relative AMI"]
    assert "kmeans" not in t.values.index.get_level_values("clusterer")
    assert "2 (t2.0)" in " ".join(t.notes)
    assert "| 2.000 |" in R.to_markdown(t)


def test_group_tables_average_each_group_with_the_chosen_reducer():
    from embtree.report.tables.flat import ALL_CLUSTERERS, flat_group_tables

    cells = {}
    # encoder a: pca configured; b: chosen on dev set "dev" (umap wins there)
    for enc, red, clu, vals in [("a", "pca", "kmeans", (0.8, 0.6, 0.2)), ("a", "pca", "spectral", (0.6, 0.4, 0.4)),
                                ("a", "umap", "kmeans", (0.0, 0.0, 0.0)), ("a", "umap", "spectral", (0.0, 0.0, 0.0)),
                                ("b", "umap", "kmeans", (0.5, 0.5, 0.5)), ("b", "umap", "spectral", (0.5, 0.3, 0.7)),
                                ("b", "pca", "kmeans", (0.1, 0.1, 0.1)), ("b", "pca", "spectral", (0.1, 0.1, 0.1))]:
        for ds, v in zip(("d1", "d2", "d3"), vals):
            cells[(enc, ds, red, clu)] = v
    cells[("b", "dev", "umap", "kmeans")] = cells[("b", "dev", "umap", "spectral")] = 0.9
    cells[("b", "dev", "pca", "kmeans")] = cells[("b", "dev", "pca", "spectral")] = 0.1
    cells[("a", "dev", "pca", "kmeans")] = cells[("a", "dev", "pca", "spectral")] = 0.0  # a's dev prefers umap
    cells[("a", "dev", "umap", "kmeans")] = cells[("a", "dev", "umap", "spectral")] = 0.5
    settings = {"groups": {"d1": "in-domain", "d2": "in-domain", "d3": "far-ood", "dev": "in-domain"},
                "selection_datasets": ["dev"], "encoder_reducers": {"a": {"kmeans": "pca", "spectral": "pca"}}}
    means, ranks = flat_group_tables(_rows(cells), settings)
    v = means.values
    # hand-computed: a/kmeans in-domain (0.8 + 0.6) / 2, far-ood 0.2; mean of clusterers per data set first
    assert float(v.loc[("a", "kmeans"), "in-domain"]) == pytest.approx(0.7)
    assert float(v.loc[("a", "kmeans"), "far-ood"]) == pytest.approx(0.2)
    assert float(v.loc[("a", ALL_CLUSTERERS), "in-domain"]) == pytest.approx(((0.8 + 0.6) / 2 + (0.6 + 0.4) / 2) / 2)
    assert float(v.loc[("a", ALL_CLUSTERERS), "far-ood"]) == pytest.approx(0.3)
    assert float(v.loc[("b", ALL_CLUSTERERS), "in-domain"]) == pytest.approx((0.5 + 0.5 + 0.5 + 0.3) / 4)
    assert float(v.loc[("b", ALL_CLUSTERERS), "far-ood"]) == pytest.approx(0.6)
    assert list(v.columns) == ["in-domain", "far-ood"]  # the paper's order; dev left out
    r = ranks.values
    assert r.loc["a", "in-domain"] == 1 and r.loc["b", "in-domain"] == 2
    assert r.loc["b", "far-ood"] == 1 and r.loc["a", "far-ood"] == 2
    assert means.bold.loc[("a", ALL_CLUSTERERS), "in-domain"] and means.bold.loc[("b", ALL_CLUSTERERS), "far-ood"]
    # no groups configured: empty, with a note saying how to get them
    empty, _ = flat_group_tables(_rows(cells), {})
    assert empty.values.empty and "group" in empty.empty_note


def test_found_k_tables_keep_agglomerative_clustering_given_a_threshold():
    from embtree.report.tables.flat import flat_found_k_tables

    rows = [{"dataset": "d", "encoder": "e", "reducer": "umap", "clusterer": c, "seed": 0, "ami": 0.5,
             "n_clusters": 7, "noise_fraction": 0.0} for c in ("agglomerative", "ac-t2")]
    settings = {"clusterers": {"agglomerative": {"method": "agglomerative", "distance_threshold": None},
                               "ac-t2": {"method": "agglomerative-threshold", "distance_threshold": 2.0}}}
    k_table, _ = flat_found_k_tables(pd.DataFrame(rows), settings=settings)
    assert [i[1] for i in k_table.values.index] == ["ac-t2"]


def test_reducer_choice_uses_the_development_data_sets_each_encoder_ran_on():
    from embtree.report.tables.flat import flat_reducer_choice_table

    # encoder a ran on dev1 only, b on dev1 and dev2; b's umap lacks dev2: incomplete, no average
    flat = _rows({("a", "dev1", "pca"): 0.3, ("a", "dev1", "umap"): 0.5,
                  ("b", "dev1", "pca"): 0.4, ("b", "dev2", "pca"): 0.2, ("b", "dev1", "umap"): 0.9})
    t = flat_reducer_choice_table(flat, {"selection_datasets": ["dev1", "dev2"]})
    v = t.values["weighted AMI"]
    assert v[("a", "kmeans", "umap")] == pytest.approx(0.5) and v[("b", "kmeans", "pca")] == pytest.approx(0.3)
    assert np.isnan(v[("b", "kmeans", "umap")])
    assert "umap for a / kmeans; pca for b / kmeans" in " ".join(t.notes)
