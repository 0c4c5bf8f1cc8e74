"""The shared input check every public function uses (one wording for one problem)."""

import numpy as np
import pytest

from embtree.validation import check_matrix


def test_dtypes_kept_or_promoted():
    assert check_matrix(np.ones((2, 3), np.float32), "X").dtype == np.float32
    assert check_matrix(np.ones((2, 3), np.int64), "X").dtype == np.float64


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.ones(3), r"X must be 2-D \(n_samples, n_features\), got shape \(3,\)"),
        (np.ones((0, 3)), r"X has no rows"),
        (np.ones((2, 3), dtype=complex), "real numbers"),
        (np.array([["a", "b"]]), "real numbers"),
    ],
)
def test_shape_and_dtype_errors_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        check_matrix(bad, "X")


def test_non_finite_rows_are_counted_and_listed():
    X = np.zeros((10, 2))
    X[[3, 7], 1] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"features contains NaN or inf in 2 rows \(first: \[3, 7\]\)"):
        check_matrix(X, "features")


def test_minimum_rows():
    with pytest.raises(ValueError, match=r"has 1 rows .*at least 2 needed"):
        check_matrix(np.ones((1, 4)), "X", min_rows=2)


def test_finite_check_in_row_blocks_lists_rows_of_every_block_without_a_copy():
    # 5,000 x 1,000 float64 = 40 MB: five ~8 MB blocks
    X = np.zeros((5000, 1000))
    X[[3, 4900], [7, 999]] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"NaN or inf in 2 rows \(first: \[3, 4900\]\)"):
        check_matrix(X, "X")
    import tracemalloc

    X[[3, 4900], [7, 999]] = 0
    tracemalloc.start()
    assert check_matrix(X, "X") is X
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.1 * X.nbytes  # full-size masks (isfinite and its negation) would be 1/4 of it
