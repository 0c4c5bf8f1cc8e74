"""embtree.report.load: reading the per-run tables; missing files, seeds and rows are never silent."""

import pandas as pd
import pytest

from embtree import report as R


def _write_tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return str(path)


def test_missing_file_raises_naming_it(tmp_path):
    ok = _write_tsv(tmp_path / "a" / "summary.tsv", [dict(dataset="d", encoder="a", metric="euclidean", nmi=0.5)])
    specs = [
        dict(path=ok, keys=dict(dataset="d", encoder="a", metric="euclidean")),
        dict(path=str(tmp_path / "b" / "summary.tsv"), keys=dict(dataset="d", encoder="b", metric="euclidean")),
    ]
    with pytest.raises(R.MissingResultsError, match=r"b/summary.tsv"):
        R.load_run_tables(specs)
    data, missing = R.load_run_tables(specs, partial=True)
    assert len(data) == 1 and missing["encoder"].tolist() == ["b"]
    t = R.caec_metric_table(data, "nmi", missing=missing)
    cells = R.format_cells(t)
    assert cells.loc[("b", "euclidean"), "d"] == R.MISSING
    assert cells.loc[("a", "euclidean"), "d"] == "50.0"
    assert "| b | euclidean | missing |" in R.to_markdown(t)


def test_missing_seed_is_incomplete_not_silently_shorter(tmp_path):
    path = _write_tsv(
        tmp_path / "metrics.tsv",
        [dict(dataset="d", encoder="e", reducer="none", clusterer="kmeans", seed=0, ami=0.4)],
    )
    spec = dict(path=path, keys=dict(dataset="d", encoder="e", reducer="none", clusterer="kmeans"),
                expect={"seed": [0, 1]})
    with pytest.raises(R.MissingResultsError, match="seed=1"):
        R.load_run_tables([spec])
    data, missing = R.load_run_tables([spec], partial=True)
    t = R.flat_table(data, missing=missing)
    assert R.format_cells(t).iloc[0, 0] == "40.0 (incomplete)"
    assert not t.bold.to_numpy().any()


def test_key_mismatch_in_table_raises(tmp_path):
    path = _write_tsv(tmp_path / "s.tsv", [dict(dataset="other", encoder="a", metric="euclidean", nmi=1.0)])
    with pytest.raises(ValueError, match="column 'dataset' should be 'd'"):
        R.load_run_tables([dict(path=path, keys=dict(dataset="d", encoder="a", metric="euclidean"))])


def test_empty_infiltration_table_is_valid_result(tmp_path):
    path = tmp_path / "infiltration.tsv"
    path.write_text("dataset\tencoder\tmetric\tclass_name\trank\tother_class\tcount\n")
    spec = dict(path=str(path), keys=dict(dataset="d", encoder="e", metric="euclidean"))
    with pytest.raises(R.MissingResultsError, match="no rows"):
        R.load_run_tables([spec])
    data, missing = R.load_run_tables([{**spec, "may_be_empty": True}])
    assert len(missing) == 0 and len(data) == 0
    t = R.infiltration_table(data, "d")
    md = R.to_markdown(t)
    assert t.values.shape[0] == 0 and "top-3 infiltrated" in md
    assert "None: no cluster holds" in md and "|" not in md  # a note, not a bare header


def test_benchmark_files_are_read_when_present_and_never_required(tmp_path):
    from embtree.report.load import load_benchmarks

    (tmp_path / "a.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\tcpu_time\n1.5\t0:00:01\t100\t200\t1.0\n2.5\t0:00:02\t300\t400\t2.0\n")
    (tmp_path / "bad.tsv").write_text("")
    specs = [{"path": str(tmp_path / f), "keys": {"source": f}} for f in ("a.tsv", "gone.tsv", "bad.tsv")]
    data, missing = load_benchmarks(specs)
    assert data.to_dict("records") == [{"source": "a.tsv", "s": 2.0, "max_rss": 200.0, "cpu_time": 1.5}]
    assert missing["source"].tolist() == ["gone.tsv", "bad.tsv"]
    assert "no benchmark file" in missing["reason"].iloc[0] and "unreadable" in missing["reason"].iloc[1]


def test_partial_report_with_no_result_at_all_builds_every_table(tmp_path):
    """report.partial before any job has finished: every family loads empty, with no columns; every
    table is still built (no KeyError on a column no file gave) and shows the runs as missing."""
    gone = lambda name: str(tmp_path / name)  # noqa: E731 (no file is ever written)
    caec_keys = [dict(dataset="d", encoder="e", metric=m) for m in ("euclidean", "cosine")]
    specs = {fam: [dict(path=gone(f"{fam}-{k['metric']}.tsv"), keys=k) for k in caec_keys]
             for fam in ("summary", "per_class", "infiltration", "intrusion")}
    specs["ttest"] = [dict(path=gone("ttest.tsv"), keys=dict(dataset="d", encoder="e"))]
    specs["trees"] = [dict(path=gone("trees.tsv"),
                           keys=dict(dataset="d", encoder="e", cluster_metric="before", tree_metric="nrf"))]
    specs["l2h"] = [dict(path=gone("l2h.tsv"), keys=dict(dataset="d", encoder="e", source="kmeans"))]
    specs["flat"] = [dict(path=gone("flat.tsv"), expect={"seed": [0]},
                          keys=dict(dataset="d", encoder="e", reducer="none", clusterer="kmeans"))]
    specs["merge_expand"] = [dict(path=gone("me.tsv"), keys=dict(dataset="d", encoder="e", seed=0))]
    data, missing = R.load_families(specs, partial=True)
    assert all(df.empty for df in data.values())
    sections = R.build_all_tables(data, missing, caec_datasets=["d"], reference_datasets=["d"],
                                  merge_expand_n_seeds=1, l2h_n_seeds={}, baselines=[], max_table_classes=30)
    tables = {t.name: t for ts in sections.values() for t in ts}
    assert {"caec_purity", "caec_infiltration_d", "caec_intrusion_d", "caec_r_max_d"} <= set(tables)
    for t in tables.values():
        R.to_markdown(t)  # every table renders
    assert R.format_cells(tables["caec_purity"]).loc[("e", "euclidean"), "d"] == R.MISSING
    # a table of classes cannot place a missing run in a cell: it says so instead of "none"
    assert "Missing: 2 run(s) of d have no infiltration.tsv" in R.to_markdown(tables["caec_infiltration_d"])
