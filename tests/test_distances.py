"""embtree.distances: every metric equals scipy's cdist; blocks, aliases and bad input."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from embtree.distances import METRICS, check_metric, check_metric_rows, pairwise, pairwise_blocks
from embtree.validation import check_matrix

SCIPY = {"euclidean": "euclidean", "manhattan": "cityblock", "canberra": "canberra", "cosine": "cosine"}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(13, 7))
    B = rng.normal(size=(29, 7))
    A[0, :3] = 0.0  # zero coordinates shared with B[0]: canberra's 0/0 terms
    B[0, :3] = 0.0
    B[1] = A[1] + 1e-9  # a near-duplicate: Euclidean cancellation must not lose it
    return A, B


@pytest.mark.parametrize("metric", METRICS)
def test_equals_cdist_float64(data, metric):
    A, B = data
    np.testing.assert_allclose(pairwise(A, B, metric), cdist(A, B, SCIPY[metric]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_equals_cdist_float32(data, metric):
    A, B = (x.astype(np.float32) for x in data)
    D = pairwise(A, B, metric)
    assert D.dtype == np.float64 and D.shape == (13, 29)
    np.testing.assert_allclose(D, cdist(A.astype(float), B.astype(float), SCIPY[metric]), rtol=1e-6, atol=1e-6)


def test_euclidean_large_offset_and_near_duplicates():
    # A common offset of 1e4 makes |a|^2+|b|^2-2ab cancel catastrophically without care.
    rng = np.random.default_rng(1)
    B = 1e4 + rng.normal(size=(50, 16))
    A = B[:5] + 1e-7 * rng.normal(size=(5, 16))
    np.testing.assert_allclose(pairwise(A, B, "euclidean"), cdist(A, B), rtol=1e-9, atol=1e-12)
    assert np.all(pairwise(B, B, "euclidean").diagonal() == 0)


def test_canberra_zero_over_zero_is_zero():
    A = np.zeros((1, 3))
    B = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0]])
    np.testing.assert_array_equal(pairwise(A, B, "canberra"), [[0.0, 2.0]])


def test_blocks_cover_all_rows():
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(40, 30)), rng.normal(size=(300, 30))  # above the small-input cdist path
    seen = np.zeros(len(A), dtype=int)
    full = pairwise(A, B, "manhattan")
    for rows, D in pairwise_blocks(A, B, "manhattan", max_bytes=8 * len(B) * 3):
        assert D.shape == (rows.stop - rows.start, len(B)) and len(D) <= 3
        np.testing.assert_array_equal(D, full[rows])
        seen[rows] += 1
    assert np.all(seen == 1)


def test_aliases():
    assert check_metric("cityblock") == "manhattan"


@pytest.mark.parametrize(
    "A, B, metric, match",
    [
        (np.ones((2, 3)), np.ones((2, 3)), "chebyshev", "metric='chebyshev'"),
        (np.ones((2, 3)), np.ones((2, 4)), "euclidean", "features"),
        (np.array([[np.nan, 1.0]]), np.ones((2, 2)), "euclidean", "NaN"),
        (np.ones(3), np.ones((2, 3)), "euclidean", "2-D"),
        (np.zeros((1, 3)), np.ones((2, 3)), "cosine", "zero vectors"),
    ],
)
def test_bad_input(A, B, metric, match):
    with pytest.raises(ValueError, match=match):
        pairwise(A, B, metric)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_chunked_float64_conversion_of_large_b_gives_the_same_distances(metric, monkeypatch):
    """Above _B64_MAX_BYTES, B is converted in row chunks (one float32 copy held): same D."""
    import embtree.distances as Dm

    rng = np.random.default_rng(0)
    A = rng.normal(size=(7, 16)).astype(np.float32) + 3
    B = rng.normal(size=(2000, 16)).astype(np.float32) + 3  # above _SMALL: the GEMM path
    B[5] = A[2]  # an exact zero distance: the cancellation fix-up path
    full = Dm.pairwise(A, B, metric)
    monkeypatch.setattr(Dm, "_B64_MAX_BYTES", 8 * 16 * 37)  # 37-row chunks
    blocks = dict((r.start, D) for r, D in Dm.pairwise_blocks(A, B, metric, max_bytes=1))
    chunked = np.concatenate([blocks[k] for k in sorted(blocks)])
    np.testing.assert_allclose(chunked, full, rtol=1e-12, atol=1e-12)
    from scipy.spatial.distance import cdist

    np.testing.assert_allclose(chunked, cdist(A.astype(float), B.astype(float), metric), atol=1e-9)


def _mixed(seed, n_a, n_b, d, dtype):
    """Mixed signs, exact zeros (Canberra's 0/0 terms) and a few shared coordinates."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n_a, d))
    B = rng.normal(size=(n_b, d)) * 2.0
    A[rng.random(A.shape) < 0.3] = 0.0
    B[rng.random(B.shape) < 0.3] = 0.0
    B[:5, :20] = A[:5, :20]
    A[0] = 0.0
    return A.astype(dtype), B.astype(dtype)


@pytest.mark.parametrize("metric", ["manhattan", "canberra"])
@pytest.mark.parametrize("shape", [(300, 200), (40, 700)])  # threads over A's rows / over B's rows
def test_fused_kernel_float32_within_1e6_of_cdist(metric, shape):
    """float32 kernel: block sums of 64 terms in float32 (vectorised 16 lanes x 4 + a 4-level
    tree, <= ~12 u = 7e-7 relative), totals in float64: within 1e-6 of float64 cdist."""
    A, B = _mixed(3, *shape, 150, np.float32)
    assert A.size * len(B) > 200_000  # the kernel path, not the small-input cdist
    ref = cdist(A.astype(float), B.astype(float), SCIPY[metric])
    np.testing.assert_allclose(pairwise(A, B, metric), ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize("metric", ["manhattan", "canberra"])
def test_fused_kernel_float64_equals_cdist(metric):
    A, B = _mixed(4, 60, 300, 130, np.float64)
    np.testing.assert_allclose(pairwise(A, B, metric), cdist(A, B, SCIPY[metric]), rtol=1e-12, atol=0)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("b_dtype", [np.float32, np.float64])
def test_nearest_equals_cdist_argmin(metric, b_dtype):
    """float32 samples, float32/float64 points (class means): scipy's float64 argmins,
    exact ties (duplicate points) to the first index, near-ties below the float32 error."""
    from embtree.distances import nearest

    A, B = _mixed(5, 700, 90, 100, np.float32)
    B = B.astype(b_dtype)
    if metric == "cosine":
        A[0, 0] = 1.0
    B[7] = B[3]  # exact ties: index 3 wins
    A[:20] = B[3]  # ... for these rows at distance 0
    B[11] = B[10]
    B[11, 0] += 1e-7 * max(abs(B[10, 0]), 1)  # a near-tie closer than float32 resolves
    A[20:40] = B[10] + np.float32(1e-3)
    ref = cdist(A.astype(float), B.astype(float), SCIPY[metric]).argmin(axis=1)
    got = nearest(A, B, metric)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref)
    assert np.all(got[:20] == 3)
    np.testing.assert_array_equal(nearest(A, B, metric, max_bytes=4000), ref)  # chunked rows


def test_nearest_float64_inputs_and_bad_input():
    from embtree.distances import nearest

    A, B = _mixed(6, 500, 80, 64, np.float64)
    B[1] = B[0] * (1 + 1e-12)  # a float64 near-tie: resolved by the float64 re-check
    A[:10] = B[0]
    for metric in ("manhattan", "canberra"):
        np.testing.assert_array_equal(nearest(A, B, metric), cdist(A, B, SCIPY[metric]).argmin(axis=1))
    tiny = A.copy()
    tiny[50:, 0] = 1e-300  # would underflow to 0 in float32: Canberra stays in float64
    np.testing.assert_array_equal(nearest(tiny, B, "canberra"), cdist(tiny, B, "canberra").argmin(axis=1))
    with pytest.raises(ValueError, match="no rows"):
        nearest(A, B[:0], "manhattan")


@pytest.mark.parametrize("metric", METRICS)
def test_check_input_false_gives_the_same_distances(data, metric):
    """check_input=False only skips the checks (the caller validated A and B)."""
    A, B = data
    np.testing.assert_array_equal(pairwise(A, B, metric, check_input=False), pairwise(A, B, metric))
    checked = list(pairwise_blocks(A, B, metric, max_bytes=100))
    unchecked = list(pairwise_blocks(A, B, metric, max_bytes=100, check_input=False))
    assert [r for r, _ in checked] == [r for r, _ in unchecked]
    for (_, D), (_, E) in zip(checked, unchecked):
        np.testing.assert_array_equal(D, E)


def test_check_metric_rows_names_the_zero_rows():
    X = np.ones((4, 3))
    X[[1, 3]] = 0.0
    check_metric_rows(X, "euclidean", "X")  # only cosine is undefined for zero vectors
    with pytest.raises(ValueError, match=r"zero vectors: X rows \[1, 3\]"):
        check_metric_rows(X, "cosine", "X")


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_public_functions_check_each_input_once(metric, monkeypatch):
    import embtree.distances as Dm

    seen = []

    def counting(X, name, **kwargs):
        seen.append(name)
        return check_matrix(X, name, **kwargs)

    monkeypatch.setattr(Dm, "check_matrix", counting)
    A, B = _mixed(1, 30, 20, 8, np.float64)
    Dm.nearest(A, B, metric)  # its euclidean path runs the blocks of pairwise_blocks
    assert seen == ["A", "B"]
    seen.clear()
    list(Dm.pairwise_blocks(A, B, metric, max_bytes=100))
    assert seen == ["A", "B"]


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "canberra", "cosine"])
@pytest.mark.parametrize("n", [3, 37, 301])  # 301: the fused upper-triangle kernel, odd tiles
def test_condensed_equals_pdist(metric, n):
    from embtree.distances import condensed

    X = np.random.default_rng(n).normal(size=(n, 700))
    scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
    ref = pdist(X, scipy_metric)
    np.testing.assert_allclose(condensed(X, metric), ref, rtol=1e-9)
    # float32 input: the kernels' float32 accuracy against float64 distances of the same values
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(condensed(X32, metric), pdist(X32.astype(np.float64), scipy_metric), rtol=2e-6)


def test_condensed_euclidean_keeps_near_duplicates_accurate():
    from embtree.distances import condensed

    X = np.random.default_rng(3).normal(size=(6, 50)) + 100.0  # far from the origin: the GEMM identity cancels
    Y = np.vstack([X, X + 1e-7])
    np.testing.assert_allclose(condensed(Y, "euclidean"), pdist(Y), rtol=1e-6)
