"""embtree.report.tables.l2h: the L2H table (paper 001 table 1), bold by each metric's direction."""

import numpy as np
import pandas as pd
import pytest

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


def test_l2h_table_mean_std_over_seeds_with_n_where_fewer():
    # kmeans: 3 seeds configured, all found; temi: 2 configured (the seeds heads.seeds also trains),
    # 1 found; agglomerative: deterministic, one tree.
    base = dict(dataset="c10", encoder="r20", ari=0.5, acc=0.5, lp=0.5, dp=0.5, lhd=0.5)
    rows = ([{**base, "source": "kmeans", "seed": s, "nmi": v} for s, v in zip((0, 1, 2), (0.6, 0.7, 0.8))]
            + [{**base, "source": "temi", "seed": 0, "nmi": 0.95}]
            + [{**base, "source": "agglomerative", "seed": 0, "nmi": 0.5}])
    df = pd.DataFrame(rows)
    t = R.l2h_table(df, order={"source": ["kmeans", "temi", "agglomerative"]}, n_seeds={"kmeans": 3, "temi": 2})
    cell = ("r20", "L2H (kmeans)"), ("c10", "NMI")
    kmeans = df.loc[df["source"] == "kmeans", "nmi"]
    assert t.values.loc[cell] == pytest.approx(kmeans.mean())
    assert t.std.loc[cell] == pytest.approx(kmeans.std(ddof=1))  # sample std, as the heads tables
    assert pd.isna(t.std.loc[("r20", "agglomerative"), ("c10", "NMI")])  # one tree: no std
    cells = R.format_cells(t, "markdown")[("c10", "NMI")]
    assert cells.tolist() == ["**70.0 ± 10.0**", "95.0 (n=1)", "50.0"]
    # temi's mean is the highest, but over fewer seeds than configured: never bold; kmeans is
    assert not t.bold.loc[("r20", "L2H (temi)"), ("c10", "NMI")] and t.bold.loc[cell]
    assert any("l2h.seeds" in n for n in t.notes) and any("kmeans 3, temi 2" in n for n in t.notes)
    assert any(n.startswith("agglomerative: deterministic, one tree") for n in t.notes)
    csv = R.to_csv_frame(t)  # the (n=k) of the text formats: only where short of the configured number
    assert csv["c10/NMI/n"].isna().tolist() == [True, False, True] and csv["c10/NMI/n"].iloc[1] == 1
    assert csv["c10/NMI/std"].iloc[0] == pytest.approx(0.1)


def test_held_out_rows_get_their_own_column_group_and_the_cross_table_keeps_the_fit_tree():
    base = dict(dataset="c10", encoder="r20", source="classifier", ari=0.5, acc=0.5, lp=0.5, dp=0.5, lhd=0.5,
                rf=2.0, clade_recall=0.8, clade_precision=0.8, di=1.0, di_norm=0.1)
    df = pd.DataFrame([{**base, "split": "fit", "nmi": 0.9}, {**base, "split": "eval", "nmi": 0.7}])
    t = R.l2h_table(df, order={"dataset": ["c10"], "source": ["classifier"]})
    assert t.values.loc[("r20", "L2H (classifier)"), ("c10 · fit", "NMI")] == pytest.approx(0.9)
    assert t.values.loc[("r20", "L2H (classifier)"), ("c10 · eval", "NMI")] == pytest.approx(0.7)
    assert any(n.startswith("split: fit") for n in t.notes)
    cross = R.cross_method_table(pd.DataFrame(), df)
    assert cross.values.shape[0] == 1  # one row for the tree, not one per split
    # Fit rows alone: the table as before.
    assert ("c10", "NMI") in R.l2h_table(df[df["split"] == "fit"]).values.columns


def test_leaves_column_prints_the_tree_size_without_a_zero_std():
    # Paper 001 table 1's "# leaves": kmeans' three trees all have 10 leaves (printed "10", not
    # "10.0 ± 0.0"); a source whose trees differ prints mean ± std; tables without the column skip it.
    base = dict(dataset="c10", encoder="r20", nmi=0.5, ari=0.5, acc=0.5, lp=0.5, dp=0.5, lhd=0.5)
    rows = ([{**base, "source": "kmeans", "seed": s, "n_leaves": 10} for s in (0, 1, 2)]
            + [{**base, "source": "temi", "seed": s, "n_leaves": k} for s, k in ((0, 8), (1, 10))]
            + [{**base, "source": "agglomerative", "seed": 0, "n_leaves": 10}])
    df = pd.DataFrame(rows)
    t = R.l2h_table(df, order={"source": ["kmeans", "temi", "agglomerative"]}, n_seeds={"kmeans": 3, "temi": 2})
    assert list(t.values.columns)[-1] == ("c10", "# leaves")
    cells = R.format_cells(t, "markdown")[("c10", "# leaves")]
    assert cells.tolist() == ["10", "9.0 ± 1.4", "10"]
    assert not t.bold[("c10", "# leaves")].any()  # descriptive
    assert ("c10", "# leaves") not in R.l2h_table(df.drop(columns="n_leaves")).values.columns


def _bench(tmp_path, rows):
    specs = []
    for i, (source, seed, seconds) in enumerate(rows):
        path = tmp_path / f"b{i}.tsv"
        if seconds is not None:
            lines = "".join(f"{s}\t0:00:0{int(s)}\t200.0\t1.0\n" for s in np.atleast_1d(seconds))
            path.write_text("s\th:m:s\tmax_rss\tcpu_time\n" + lines)
        specs.append({"path": str(path), "keys": {"dataset": "c10", "encoder": "r20", "source": source,
                                                  **({} if seed is None else {"seed": seed})}})
    return R.load_benchmarks(specs)


def test_runtime_table_from_benchmark_files_mean_over_seeds(tmp_path):
    bench, missing = _bench(tmp_path, [("classifier", None, [1.0, 3.0]), ("kmeans", 0, 2.0), ("kmeans", 1, 4.0)])
    assert not len(missing)
    assert bench.loc[bench["source"] == "classifier", "s"].item() == pytest.approx(2.0)  # repeat(): the mean
    sizes = pd.DataFrame([{"dataset": "c10", "split": "fit", "n_leaves": 10, "n_samples": 10000},
                          {"dataset": "c10", "split": "eval", "n_leaves": 10, "n_samples": 500}])
    t = R.l2h_runtime_table(bench, n_seeds={"kmeans": 2}, sizes=sizes, order={"source": ["classifier", "kmeans"]})
    col = ("c10 (K = 10, N = 10,000)", "wall-clock s")  # paper 001 table 2's header: K and the fit set's N
    assert t.values.loc[("r20", "L2H (kmeans)"), col] == pytest.approx(3.0)
    assert t.std.loc[("r20", "L2H (kmeans)"), col] == pytest.approx(np.std([2.0, 4.0], ddof=1))
    assert R.format_cells(t, "markdown")[col].tolist() == ["2.00", "3.00 ± 1.41"]
    assert not t.bold.to_numpy().any()
    assert any("wall-clock" in n and "benchmark files" in n for n in t.notes)


def test_runtime_table_tolerates_missing_benchmark_files(tmp_path):
    # Results copied from elsewhere: no logs/benchmarks. One kmeans seed lacks its file (n=1), the
    # classifier has none (missing); a note names the jobs. No file at all still gives a table.
    bench, missing = _bench(tmp_path, [("classifier", None, None), ("kmeans", 0, 2.0), ("kmeans", 1, None)])
    assert len(missing) == 2 and missing["reason"].str.contains("no benchmark file").all()
    t = R.l2h_runtime_table(bench, missing=missing, n_seeds={"kmeans": 2})
    cells = R.format_cells(t, "markdown")[("c10", "wall-clock s")]
    assert cells.to_dict() == {("r20", "L2H (classifier)"): "missing", ("r20", "L2H (kmeans)"): "2.00 (n=1)"}
    assert any("No benchmark file for 2 job(s)" in n and "kmeans seed 1" in n for n in t.notes)
    bench, missing = _bench(tmp_path, [("classifier", None, None)])
    t = R.l2h_runtime_table(bench, missing=missing)
    assert R.format_cells(t, "markdown").iloc[0, 0] == "missing"
