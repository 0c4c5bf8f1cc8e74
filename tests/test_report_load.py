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
