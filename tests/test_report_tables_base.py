"""embtree.report.tables.base: the pivot into wide tables, the best value of each column in bold."""

import pandas as pd
import pytest

from embtree import report as R


def test_lower_is_better_bolds_minimum():
    df = pd.DataFrame(
        dict(dataset="d", encoder=["a", "a", "b"], method=["x", "y", "x"], rf=[4.0, 2.0, 2.0])
    )
    t = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t")
    # RF is lower-is-better; two of three rows tie for the best: more than half, so no bold.
    assert not t.bold["d"].any()
    t2 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction="max")
    assert t2.bold["d"].tolist() == [True, False, False]
    four = pd.concat([df, df.iloc[:1].assign(method="z", rf=9.0)])
    t4 = R.wide_table(four, ["encoder", "method"], ["dataset"], "rf", name="t", title="t")
    assert t4.bold["d"].to_dict() == {("a", "x"): False, ("a", "y"): True, ("a", "z"): False, ("b", "x"): True}
    t3 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction=None)
    t3 = R.wide_table(df.rename(columns={"rf": "radius"}), ["encoder", "method"], ["dataset"], "radius",
                      name="t", title="t")
    assert not t3.bold.to_numpy().any()  # descriptive quantity: never bold


def test_duplicate_cells_raise(caec_summary):
    with pytest.raises(ValueError, match="share the same"):
        R.caec_metric_table(pd.concat([caec_summary, caec_summary.iloc[:1]]), "nmi")


def test_bold_compares_values_as_printed():
    df = pd.DataFrame(dict(dataset="d", encoder="e", metric=["a", "b", "c", "x"], nmi=[0.99996, 1.0, 0.5, 0.4]))
    t = R.caec_metric_table(df, "nmi")
    assert t.bold["d"].tolist() == [True, True, False, False]  # both print "100.0"
    assert R.best_mask(t.values, "max")["d"].tolist() == [False, True, False, False]  # exact comparison
    assert R.format_cells(t)["d"].tolist()[:2] == ["100.0", "100.0"]


def test_best_mask_names_a_bad_direction():
    with pytest.raises(ValueError, match="direction for column"):
        R.best_mask(pd.DataFrame({"a": [1.0]}), "up")


def test_mean_std_counts_the_runs_of_each_cell():
    df = pd.DataFrame(dict(dataset="d", encoder=["a", "a", "a", "b", "b"], seed=[0, 1, 2, 0, 1],
                           ami=[0.1, 0.2, 0.3, 0.5, 0.7]))
    t = R.wide_table(df, ["encoder"], ["dataset"], "ami", name="t", title="t", aggregate="mean_std", ddof=1,
                     expected_count=3)
    assert t.values["d"].tolist() == pytest.approx([0.2, 0.6])
    assert t.count["d"].tolist() == [3, 2] and t.expected_count == 3
    assert R.format_cells(t)["d"].tolist() == ["20.0 ± 10.0", "60.0 ± 14.1 (n=2)"]  # AMI in %, its std too
    plain = R.wide_table(df, ["encoder"], ["dataset"], "ami", name="t", title="t", aggregate="mean_std", ddof=1)
    assert R.format_cells(plain)["d"].tolist()[1] == "60.0 ± 14.1"  # no configured number: no n


def _one_dataset_per_encoder():
    """Each encoder ran on one data set (the default run's shape): a wide table would be mostly '-'."""
    return pd.DataFrame(dict(dataset=["d1", "d1", "d1", "d1", "d2", "d2"], encoder=["a", "a", "b", "b", "c", "c"],
                             metric=["x", "y", "x", "y", "x", "y"], nmi=[0.5, 0.6, 0.7, 0.4, 0.9, 0.8]))


def test_sparse_data_set_columns_become_a_row_level():
    from embtree.report.tables.base import is_sparse, stack_level

    t = R.wide_table(_one_dataset_per_encoder(), ["encoder", "metric"], ["dataset"], "nmi", name="t", title="t")
    assert is_sparse(t) and R.format_cells(t).eq("-").to_numpy().sum() == 6  # half the cells empty
    long = stack_level(t, label="NMI")
    assert list(long.values.columns) == ["NMI"]
    assert list(long.values.index) == [("d1", "a", "x"), ("d1", "a", "y"), ("d1", "b", "x"), ("d1", "b", "y"),
                                       ("d2", "c", "x"), ("d2", "c", "y")]  # no row for a data set not run
    assert "-" not in R.format_cells(long).to_numpy()
    assert long.bold["NMI"].tolist() == [False, False, True, False, True, False]  # best per data set, kept
    assert long.compare_by == ["dataset"] and "(same dataset)" in R.to_markdown(long)
    # a dense table (every encoder on every data set) keeps the paper's wide layout
    dense = _one_dataset_per_encoder().assign(dataset="d1")
    w = R.wide_table(dense, ["encoder", "metric"], ["dataset"], "nmi", name="t", title="t")
    assert stack_level(w) is w


def test_sparse_grouped_columns_keep_their_metric_level():
    from embtree.report.tables.base import stack_level

    df = _one_dataset_per_encoder().rename(columns={"metric": "m", "nmi": "v"})
    t = R.wide_table(df, ["encoder"], ["dataset", "m"], "v", name="t", title="t", direction="max")
    long = stack_level(t)
    assert list(long.values.columns) == ["x", "y"] and list(long.values.index) == [("d1", "a"), ("d1", "b"),
                                                                                   ("d2", "c")]
    assert long.values.loc[("d2", "c"), "y"] == 0.8


def test_bold_never_on_flagged_or_baseline_rows_and_the_best_of_the_others_instead():
    from embtree.report.tables.base import flag_cells, mark_baselines

    df = pd.DataFrame(dict(dataset="d", encoder=["a", "b", "c", "rnd"], nmi=[0.5, 0.6, 0.95, 0.99],
                           small=[False, False, True, False]))
    t = R.wide_table(df, ["encoder"], ["dataset"], "nmi", name="t", title="t")
    assert t.bold["d"].tolist() == [False, False, False, True]
    flag_cells(t, df, ["encoder"], ["dataset"], "small", "† small")
    assert t.bold["d"].tolist() == [False, False, False, True]
    mark_baselines(t, ["rnd"])
    assert t.bold["d"].tolist() == [False, True, False, False]  # c is flagged, rnd a baseline: b
    assert any(n.startswith("rnd: random weights") for n in t.notes)
    assert "nor to baseline rows" in R.to_markdown(t)


def test_baseline_encoders_of_the_config():
    from embtree.report.common import baseline_encoders

    encoders = {"pixels": {"type": "pixels"}, "resnet18-random": {"type": "timm", "pretrained": False},
                "vit": {"type": "timm", "pretrained": True}, "mine": {"type": "timm", "pretrained": False,
                                                                     "checkpoint": "w.pt"}}
    assert baseline_encoders(encoders) == ["resnet18-random"]
    with pytest.raises(ValueError, match="encoders must be"):
        baseline_encoders(["resnet18-random"])
