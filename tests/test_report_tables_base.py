"""embtree.report.tables.base: the pivot into wide tables, the best value of each column in bold."""

import pandas as pd
import pytest

from embtree import report as R


def test_lower_is_better_bolds_minimum():
    df = pd.DataFrame(
        dict(dataset="d", encoder=["a", "a", "b"], method=["x", "y", "x"], rf=[4.0, 2.0, 2.0])
    )
    t = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t")
    # Ties share the bold; RF is lower-is-better.
    assert t.bold["d"].tolist() == [False, True, True]
    t2 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction="max")
    assert t2.bold["d"].tolist() == [True, False, False]
    t3 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction=None)
    t3 = R.wide_table(df.rename(columns={"rf": "radius"}), ["encoder", "method"], ["dataset"], "radius",
                      name="t", title="t")
    assert not t3.bold.to_numpy().any()  # descriptive quantity: never bold


def test_duplicate_cells_raise(caec_summary):
    with pytest.raises(ValueError, match="share the same"):
        R.caec_metric_table(pd.concat([caec_summary, caec_summary.iloc[:1]]), "nmi")


def test_bold_compares_values_as_printed():
    df = pd.DataFrame(dict(dataset="d", encoder="e", metric=["a", "b", "c"], nmi=[0.99996, 1.0, 0.5]))
    t = R.caec_metric_table(df, "nmi")
    assert t.bold["d"].tolist() == [True, True, False]  # both print "1.00"
    assert R.best_mask(t.values, "max")["d"].tolist() == [False, True, False]  # exact comparison


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
    assert R.format_cells(t)["d"].tolist() == ["0.20 ± 0.10", "0.60 ± 0.14 (n=2)"]
    plain = R.wide_table(df, ["encoder"], ["dataset"], "ami", name="t", title="t", aggregate="mean_std", ddof=1)
    assert R.format_cells(plain)["d"].tolist()[1] == "0.60 ± 0.14"  # no configured number: no n
