"""embtree.report.tables.heads: the heads tables on hand-made per-run tables."""

import numpy as np
import pandas as pd
import pytest

from conftest import heads_metrics as _metrics
from embtree import report as R
from embtree.report.formats import format_cells
from embtree.report.tables.heads import build_heads_tables, heads_multilabel_table


def test_heads_table_layout_and_bold():
    t = R.heads_table(_metrics())
    # methods as rows, six metric columns: it fits a page (the method x metric layout had 18-20 columns)
    assert list(t.values.index) == [("d", "e", m) for m in ["k-means (cosine)", "TEMI", "SCANv2"]]
    assert list(t.values.columns) == ["ACC", "NMI", "ARI", "top-5→1", "mean MSP", "ECE"]
    np.testing.assert_allclose(t.values["ACC"].to_numpy(dtype=float), [0.80, 0.60, 0.82])  # fractions (CSV)
    assert t.bold["ACC"].tolist() == [False, False, True]  # best in its column within the data set
    assert t.bold["ECE"].tolist() == [False, False, True]  # lower is better
    assert not t.bold["NMI"].any() and not t.bold["mean MSP"].any()  # all tie / descriptive
    assert format_cells(t)["ACC"].tolist() == ["80.0", "60.0", "82.0"]  # printed in %


def test_heads_bold_compares_rows_of_one_data_set_only():
    m = _metrics()
    two = pd.concat([m, m.assign(dataset="d2", acc=m["acc"] - 0.3)], ignore_index=True)
    t = R.heads_table(two)
    assert t.bold.loc["d", "ACC"].tolist() == [False, False, True]
    assert t.bold.loc["d2", "ACC"].tolist() == [False, False, True]  # not outshone by d's higher scores
    assert "same dataset" in R.to_markdown(t)


def test_spread_and_depth_tables():
    per_head = pd.DataFrame({"dataset": "d", "encoder": "e", "method": "temi", "granularity": "classes",
                             "head": [0, 1, 2], "acc": [0.5, 0.7, 0.6], "selected": ["False", "False", "True"]})
    s = R.heads_spread_table(per_head)
    row = s.values.iloc[0]
    assert row["selected head"] == 2 and row["ACC selected"] == 0.6 and row["ACC max"] == 0.7
    assert row["rank of selected"] == 2
    assert format_cells(s).iloc[0].tolist() == ["2", "60.0", "50.0", "60.0", "70.0", "3", "2"]
    d = R.heads_depth_table(_metrics())
    assert list(d.values.columns) == ["d = 1", "d = 2", "classes"]
    assert d.values.loc[("d", "e", "SCANv2"), "d = 1"] == pytest.approx(0.92)
    assert d.bold.loc[("d", "e", "SCANv2")].all()


def test_multilabel_table_only_rows_with_label_sets():
    m = _metrics()
    m["top1_l"] = np.where(m["method"] == "kmeans", np.nan, m["acc"] + 0.1)
    m["top5_l"] = 0.95
    t = heads_multilabel_table(m)
    assert list(t.values.columns) == ["top-1→1", "top-1→L", "top-5→1", "top-5→L"]
    assert [i[2] for i in t.values.index] == ["TEMI", "SCANv2"]  # k-means row had no label sets
    np.testing.assert_allclose(t.values.loc[("d", "e", "SCANv2")].to_numpy(dtype=float), [0.82, 0.92, 0.90, 0.95])
    assert [x.name for x in build_heads_tables(m, m.iloc[:0], multilabel=True)][-1] == "heads_multilabel"
    assert "heads_multilabel" not in [x.name for x in build_heads_tables(m, m.iloc[:0])]


def test_probe_is_the_ceiling_row_and_never_bold():
    probe = pd.DataFrame([{"dataset": "d", "encoder": "e", "split": "fit", "protocol": "5-fold CV", "n_samples": 9,
                           "n_classes": 3, "C": 0.1, "acc": 0.95, "top5_acc": 1.0}])
    t = R.heads_table(_metrics(), probe=probe)
    assert [i[2] for i in t.values.index] == ["linear probe", "k-means (cosine)", "TEMI", "SCANv2"]
    probe_row = ("d", "e", "linear probe")
    assert float(t.values.loc[probe_row, "ACC"]) == 0.95 and pd.isna(t.values.loc[probe_row, "NMI"])
    assert not t.bold.loc[probe_row].any() and t.bold.loc[("d", "e", "SCANv2"), "ACC"]
    assert t.unranked.loc[probe_row] and "baseline rows" in R.to_markdown(t)
    assert any("5-fold CV" in n and "never bold" in n for n in t.notes)
    assert [i[2] for i in R.heads_table(_metrics()).values.index][0] == "k-means (cosine)"


def test_random_weights_encoder_rows_are_never_bold():
    m = _metrics()
    rnd = m.assign(encoder="rnd", acc=m["acc"] + 0.1)  # the best scores, from random weights
    tables = build_heads_tables(pd.concat([m, rnd], ignore_index=True), m.iloc[:0], baselines=["rnd"])
    t = next(x for x in tables if x.name == "heads")
    summary = next(x for x in tables if x.name == "heads_summary")
    assert not summary.bold.loc[("d", "rnd")].to_numpy().any()  # (one ranked row left: no bold at all)
    assert not t.bold.loc[("d", "rnd")].to_numpy().any()
    assert t.bold.loc[("d", "e", "SCANv2"), "ACC"]  # the best of the comparable rows instead
    assert any(n.startswith("rnd: random weights") for n in t.notes)
    assert R.to_csv_frame(t)["baseline"].tolist() == [False] * 3 + [True] * 3


def _seed_runs(seeds=(0, 1, 2)):
    """Per-run metrics.tsv rows of three seeds (as the heads rules write them: one file per seed)."""
    m = _metrics()
    return pd.concat([m.assign(seed=s, acc=m["acc"] + 0.01 * s * (m["method"] != "kmeans"))
                      for s in seeds], ignore_index=True)


def test_repeated_runs_show_mean_and_std_of_the_seed_rows():
    runs = _seed_runs()
    t = R.heads_table(runs, n_seeds=3)
    for method, label in (("temi", "TEMI"), ("scanv2", "SCANv2"), ("kmeans", "k-means (cosine)")):
        rows = runs.loc[(runs["method"] == method) & (runs["granularity"] == "classes"), "acc"]
        assert len(rows) == 3
        np.testing.assert_allclose(float(t.values.loc[("d", "e", label), "ACC"]), rows.mean())
        np.testing.assert_allclose(float(t.std.loc[("d", "e", label), "ACC"]), rows.std(ddof=1), atol=1e-12)
    assert t.bold.loc[("d", "e", "SCANv2"), "ACC"]  # bold by the mean: 83 > 80
    cells = format_cells(t)
    assert cells.loc[("d", "e", "SCANv2"), "ACC"] == "83.0 ± 1.0"
    assert "(n=" not in "".join(cells.to_numpy().ravel())  # every cell has the configured three seeds
    assert any("mean ± std" in n and "3 seeds" in n for n in t.notes)
    d = R.heads_depth_table(runs, n_seeds=3)
    np.testing.assert_allclose(float(d.values.loc[("d", "e", "TEMI"), "d = 1"]), 0.71)


def test_a_cell_short_of_seeds_prints_its_n_and_is_not_bold():
    runs = _seed_runs()
    runs = runs[~((runs["method"] == "scanv2") & (runs["seed"] == 2))]  # a partial report: one run missing
    t = R.heads_table(runs, n_seeds=3)
    cells = format_cells(t)
    assert cells.loc[("d", "e", "SCANv2"), "ACC"] == "82.5 ± 0.7 (n=2)"
    assert not t.bold.loc[("d", "e", "SCANv2"), "ACC"] and t.bold.loc[("d", "e", "k-means (cosine)"), "ACC"]
    assert "(n=" not in cells.loc[("d", "e", "TEMI"), "ACC"]
    one = R.heads_table(_seed_runs(seeds=(0,)), n_seeds=1)  # a single seed: the value alone
    assert format_cells(one).loc[("d", "e", "TEMI"), "ACC"] == "60.0"


def test_spread_table_has_one_row_per_seed():
    per_head = pd.concat([pd.DataFrame({"dataset": "d", "encoder": "e", "method": "temi", "granularity": "classes",
                                        "seed": s, "head": [0, 1], "acc": [0.5 + 0.1 * s, 0.7],
                                        "selected": ["True", "False"]}) for s in (0, 1)])
    s = R.heads_spread_table(per_head)
    assert list(s.values.index) == [("d", "e", "TEMI", 0), ("d", "e", "TEMI", 1)]
    np.testing.assert_allclose(list(s.values["ACC selected"]), [0.5, 0.6])


def test_held_out_rows_get_their_own_split_row_with_the_probe_of_that_split():
    fit = _metrics().assign(split="fit")
    held = fit.assign(split="eval", acc=fit["acc"] - 0.05)
    probe = pd.DataFrame([{"dataset": "d", "encoder": "e", "split": s, "protocol": p, "n_samples": 9,
                           "n_classes": 3, "C": 0.1, "acc": a, "top5_acc": 1.0}
                          for s, p, a in (("fit", "training accuracy", 0.99), ("eval", "held-out", 0.9))])
    t = R.heads_table(pd.concat([held, fit]), probe=probe)
    assert [i[:3] for i in t.values.index][::4] == [("d", "e", "fit"), ("d", "e", "eval")]
    np.testing.assert_allclose(t.values.loc[("d", "e", "eval", "SCANv2"), "ACC"], 0.77)
    np.testing.assert_allclose(t.values.loc[("d", "e", "fit", "SCANv2"), "ACC"], 0.82)
    np.testing.assert_allclose(t.values.loc[("d", "e", "eval", "linear probe"), "ACC"], 0.90)
    assert t.bold.loc[("d", "e", "eval", "SCANv2"), "ACC"] and t.bold.loc[("d", "e", "fit", "SCANv2"), "ACC"]
    assert any(n.startswith("split: fit") for n in t.notes)
    # Fit rows alone (no held-out set): the table as before, no split level, the fit rows only.
    assert [i[:2] for i in R.heads_table(fit).values.index] == [("d", "e")] * 3
    d = R.heads_depth_table(pd.concat([fit, held]))
    assert ("d", "e", "eval", "SCANv2") in d.values.index


def test_depth_table_names_the_classes_per_depth_and_chance():
    m = _metrics()
    m["n_targets"] = m["granularity"].map({"classes": 10, "depth1": 2, "depth2": 4})
    note = R.heads_depth_table(m).notes[-1]
    assert "d = 1: k = 2 (chance ≈ 50.0 %)" in note and "classes: k = 10 (chance ≈ 10.0 %)" in note


def _hzr_metrics():
    """Two seeds of k-means and TEMI on a run whose classes sit at several levels, with the leaf /
    HZR scores the heads jobs add, and a coarse-depth run."""
    rows = []
    for seed in (0, 1):
        for m, acc in (("kmeans", 0.50), ("temi", 0.60)):
            rows.append({"dataset": "d", "encoder": "e", "method": m, "granularity": "classes", "seed": seed,
                         "acc": acc + 0.02 * seed, "n_samples": 700, "n_targets": 7, "acc_leaf": acc + 0.1,
                         "acc_leaf_hzr": acc + 0.05, "acc_p_hzr": np.nan})
            rows.append({"dataset": "d", "encoder": "e", "method": m, "granularity": "depth1", "seed": seed,
                         "acc": acc + 0.2, "n_samples": 700, "n_targets": 2})
    return pd.DataFrame(rows).assign(nmi=0.5, ari=0.4, top5_acc=0.9, msp_mean=0.7, ece=0.1)


def _hzr_variants():
    return pd.DataFrame({"dataset": "d", "encoder": "e", "split": "fit",
                         "variant": ["classes", "leaf", "leaf_hzr", "p_hzr"], "n_samples": [700, 400, 700, 700],
                         "n_classes": [7, 4, 4, 7], "n_relabelled": [0, 0, 300, 0],
                         "applies": ["True", "True", "True", "False"]})


def test_summary_table_is_paper_table_1():
    m = _hzr_metrics()
    probe = pd.DataFrame({"dataset": "d", "encoder": "e", "split": ["fit"], "protocol": "5-fold CV",
                          "n_samples": 700, "n_classes": 7, "C": 1.0, "acc": 0.9, "top5_acc": 1.0})
    t = R.heads_summary_table(m, probe=probe, n_seeds=2)
    assert list(t.values.columns) == ["# samples", "# classes", "Probing", "k-means", "TEMI"]
    assert list(t.values.index) == [("d", "e")]
    cells = format_cells(t).iloc[0].tolist()
    assert cells[:3] == ["700", "7", "90.0"]  # counts as integers, no ± on sizes or the probe
    assert cells[3].startswith("51.0 ±") and cells[4].startswith("61.0 ±")  # mean ± std over the seeds


def test_benchmarks_table_is_paper_table_2_without_duplicate_rows():
    m = _hzr_metrics()
    probe_v = pd.DataFrame({"dataset": "d", "encoder": "e", "variant": ["leaf", "leaf_hzr", "depth1"],
                            "split": "fit", "protocol": "5-fold CV", "n_samples": [400, 700, 700],
                            "n_classes": [4, 4, 2], "C": 1.0, "acc": [0.95, 0.93, 0.99], "top5_acc": 1.0})
    t = R.heads_benchmarks_table(m, _hzr_variants(), probe_variants=probe_v, n_seeds=2)
    # p-HZR relabelled nothing here: no row repeating the GT labels, a note instead.
    assert [i[-1] for i in t.values.index] == ["leaf classes", "coarse d = 1", "leaf HZR", "GT labels"]
    v = t.values.droplevel([0, 1])
    assert v.loc["leaf classes", "# samples"] == 400 and v.loc["leaf HZR", "# classes"] == 4
    assert v.loc["coarse d = 1", "# classes"] == 2 and v.loc["coarse d = 1", "Probing"] == pytest.approx(0.99)
    assert v.loc["leaf HZR", "TEMI"] == pytest.approx(0.65) and v.loc["GT labels", "k-means"] == pytest.approx(0.51)
    assert any("p-HZR equal the GT labels" in n for n in t.notes)
    # CIFAR-10-like: every class a leaf class; only the GT row, and the note says why.
    flat = _hzr_variants().assign(applies=["True", "False", "False", "False"], n_relabelled=0)
    m2 = m[m["granularity"] == "classes"].assign(acc_leaf=np.nan, acc_leaf_hzr=np.nan)
    t2 = R.heads_benchmarks_table(m2, flat)
    assert [i[-1] for i in t2.values.index] == ["GT labels"]
    assert any("every class is a leaf class" in n for n in t2.notes)
    names = [x.name for x in build_heads_tables(m, m.iloc[:0], variants=_hzr_variants())]
    assert names[:2] == ["heads_summary", "heads"] and "heads_benchmarks" in names


def _sweep_rows():
    """knn sweep (k = 10, 50) and over-clustering (1x, 2x) rows of one run, two seeds, with the
    k-means reference of the knn sweep (sweep_value empty)."""
    rows = []
    for seed in (0, 1):
        for m, base in (("temi", 0.6), ("scanv2", 0.7)):
            for k, shift in ((10, 0.0), (50, 0.1)):
                rows.append(dict(method=m, granularity="classes", seed=seed, sweep="knn", sweep_value=str(k),
                                 acc=base + shift + 0.01 * seed, nmi=0.5, n_clusters=10, n_targets=10))
            for spec, C in (("1x", 10), ("2x", 20)):
                rows.append(dict(method=m, granularity="classes", seed=seed, sweep="n_clusters", sweep_value=spec,
                                 acc=base - (C - 10) / 100, nmi=0.5 + C / 100 + (m == "temi") / 10,
                                 n_clusters=C, n_targets=10))
        rows.append(dict(method="kmeans", granularity="classes", seed=seed, sweep="knn", sweep_value="",
                         acc=0.65, nmi=0.55, n_clusters=10, n_targets=10))
    return pd.DataFrame(rows).assign(dataset="d", encoder="e")


def test_sweep_long_reads_k_and_the_over_clustering_factor():
    from embtree.report.tables.heads import sweep_long

    long = sweep_long(_sweep_rows())
    knn = long[long["sweep"] == "knn"]
    assert sorted(knn["x"].dropna().unique()) == [10, 50] and knn.loc[knn["method"] == "k-means (cosine)", "x"].isna().all()
    assert sorted(long.loc[long["sweep"] == "n_clusters", "x"].unique()) == [1.0, 2.0]


def test_sweep_tables_mean_over_seeds_and_bold_the_best_method():
    t = R.heads_sweep_table(_sweep_rows(), "knn", n_seeds=2)
    assert t.name == "heads_knn_sweep"
    assert list(t.values.columns) == [(m, c) for m in ("ACC", "NMI") for c in ("k = 10", "k = 50", "no neighbours")]
    acc = t.values[("ACC", "k = 50")]
    assert acc[("d", "e", "classes", "TEMI")] == pytest.approx(0.705)  # mean of 0.70 and 0.71
    assert acc[("d", "e", "classes", "SCANv2")] == pytest.approx(0.805)
    assert t.values[("ACC", "no neighbours")].dropna().tolist() == [0.65]  # k-means only
    assert t.bold[("ACC", "k = 50")].tolist() == [False, False, True]
    o = R.heads_sweep_table(_sweep_rows(), "n_clusters", n_seeds=2)
    assert o.name == "heads_overclustering"
    assert [c for c in o.values.columns] == [("NMI", "C = 10 (1x)"), ("NMI", "C = 20 (2x)"),
                                             ("ACC", "C = 10 (1x)"), ("ACC", "C = 20 (2x)")]  # the paper's NMI first
    assert o.bold[("NMI", "C = 20 (2x)")][("d", "e", "classes", "TEMI")]
    assert any("one-to-one" in n for n in o.notes)


def test_separability_table_directions_and_r2_note():
    sep = pd.DataFrame({"dataset": "d", "encoder": ["a", "b", "c"], "l_align": [0.1, 0.3, 0.2],
                        "davies_bouldin": [1.0, 3.0, 2.0], "silhouette": [0.4, 0.1, 0.2],
                        "knn_precision": [0.9, 0.5, 0.7]})
    probe = pd.DataFrame({"dataset": "d", "encoder": ["a", "b", "c", "a"], "split": ["fit"] * 3 + ["eval"],
                          "acc": [0.9, 0.5, 0.7, 0.8]})
    t = R.heads_separability_table(sep, probe)
    assert list(t.values.columns) == ["linear probe ACC", "L_align", "Davies-Bouldin", "silhouette", "kNN precision"]
    assert t.values["linear probe ACC"].tolist() == [0.8, 0.5, 0.7]  # the held-out row where there is one
    assert t.bold["L_align"].tolist() == [True, False, False]  # lower is better
    assert t.bold["silhouette"].tolist() == [True, False, False]
    assert t.bold["Davies-Bouldin"].tolist() == [True, False, False]
    note = [n for n in t.notes if n.startswith("R²")][0]
    from embtree.heads import coefficient_of_determination as r2

    assert f"Davies-Bouldin {r2([0.8, 0.5, 0.7], [1.0, 3.0, 2.0]):.3f}" in note
    assert "at least 3 runs" in R.heads_separability_table(sep.iloc[:2], probe).notes[0]


def _knn(backend, recall, rows=1000):
    return pd.DataFrame([{"dataset": "c10", "encoder": "vit", "backend": backend, "k": 50, "n_samples": 10000,
                          "nlist": 256 if backend == "faiss-ivf" else None,
                          "nprobe": 16 if backend == "faiss-ivf" else None,
                          "recall_rows": rows if backend != "exact" else 0, "recall": recall}])


def test_an_approximate_knn_backend_and_its_recall_are_noted_on_table_1():
    metrics = _metrics()
    plain = build_heads_tables(metrics, metrics.iloc[:0], knn=_knn("exact", 1.0))
    assert not any("recall" in n for t in plain for n in t.notes)  # exact neighbours: nothing to say
    ivf = build_heads_tables(metrics, metrics.iloc[:0], knn=_knn("faiss-ivf", 0.9954))
    notes = {t.name: " ".join(t.notes) for t in ivf}
    for name in ("heads_summary", "heads"):
        assert "c10 / vit: faiss-ivf, nlist 256, nprobe 16, recall@50 99.5 % on 1,000 seeded rows" in notes[name]
        assert "Caution" not in notes[name]
    low = build_heads_tables(metrics, metrics.iloc[:0], knn=_knn("faiss-ivf", 0.81))
    assert " ".join(low[0].notes).count("Caution: a recall below 95 %") == 1


def test_depth_table_is_built_when_configured_even_before_any_coarse_run():
    """heads.depths makes heads_depth an output of the report job: with report.partial and no
    coarse run finished yet it is still written (saying so), not left missing."""
    empty = pd.DataFrame()
    names = [t.name for t in build_heads_tables(empty, empty, coarse=True)]
    assert "heads_depth" in names
    assert "heads_depth" not in [t.name for t in build_heads_tables(empty, empty)]  # None: from the data
    depth = [t for t in build_heads_tables(empty, empty, coarse=True) if t.name == "heads_depth"][0]
    assert "no heads run at a coarse depth has finished" in R.to_markdown(depth)
