"""embtree.heads.knn: tiled exact cosine kNN against brute force, tilings, memory maps, bad input."""

import warnings

import numpy as np
import pytest

from conftest import even_blobs
from embtree.heads import knn


@pytest.mark.parametrize("tile_rows, cells", [
    (32, 2000),     # 32 x 62 tiles: row blocks and column chunks, the last ones partial
    (400, 2000),    # all 300 rows x 6 columns: a chunk narrower than k
    (1024, 10**6),  # one tile
])
def test_mine_knn_matches_brute_force_with_tiles(monkeypatch, tile_rows, cells):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    naive = np.argsort(-S, axis=1, kind="stable")[:, :7]
    monkeypatch.setattr(knn, "KNN_TILE_ROWS", tile_rows)
    got = knn.mine_knn(X, 7, chunk_mb=cells * 4 / 2**20)
    np.testing.assert_array_equal(got, naive)  # neighbours in order of decreasing similarity
    assert not (got == np.arange(300)[:, None]).any()


def test_mine_knn_tiles_equal_one_tile(monkeypatch):
    X, _ = even_blobs(30, 3)
    whole = knn.mine_knn(X, 4, chunk_mb=64)
    monkeypatch.setattr(knn, "KNN_TILE_ROWS", 4)
    # 40 similarities per tile: 4 rows x 10 columns, self inside some tiles and not others.
    np.testing.assert_array_equal(knn.mine_knn(X, 4, chunk_mb=40 * 4 / 2**20), whole)


def test_mine_knn_reads_a_read_only_memory_map_in_place(tmp_path, monkeypatch):
    # ImageNet-train features come memory-mapped: used as they are (no normalised copy, no
    # write, no warning), with the same neighbours as the array in memory.
    X, _ = even_blobs(40, 4)
    X = X.astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    seen = []
    monkeypatch.setattr(knn, "KNN_TILE_ROWS", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = knn.mine_knn(mm, 5, chunk_mb=3 * 4 * len(X) / 2**20, progress=lambda d, n: seen.append((d, n)))
    np.testing.assert_array_equal(got, knn.mine_knn(X, 5))
    np.testing.assert_array_equal(mm, X)
    assert seen == [(d, len(X)) for d in list(range(3, len(X), 3)) + [len(X)]]


def test_bad_input_names_the_key():
    with pytest.raises(ValueError, match="knn=12 must be < n_samples"):
        knn.mine_knn(np.ones((12, 2)) + np.arange(24).reshape(12, 2), 12)


# --- faiss backends, recall --------------------------------------------------------------


def _no_near_ties(X, k, gap=1e-5):
    """True when the k + 1 most similar of every row are apart by > gap (float32 rounding cannot reorder them)."""
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Z.astype(np.float64) @ Z.T.astype(np.float64)
    np.fill_diagonal(S, -np.inf)
    top = -np.sort(-S, axis=1)[:, : k + 2]
    return np.diff(-top, axis=1).min() > gap


@pytest.mark.parametrize("backend", ["faiss-flat", "faiss-ivf"])
def test_faiss_neighbours_equal_the_exact_ones_without_ties(backend):
    pytest.importorskip("faiss")
    X = np.random.default_rng(5).normal(size=(150, 8)).astype(np.float32)
    assert _no_near_ties(X, 6)  # the premise: one right answer per row
    # faiss-ivf with every list probed is exhaustive: exact too
    kw = {"nlist": 3, "nprobe": 3} if backend == "faiss-ivf" else {}
    got = knn.mine_knn(X, 6, backend=backend, **kw)
    np.testing.assert_array_equal(got, knn.mine_knn(X, 6))
    assert got.dtype == np.int64


def test_faiss_ivf_rows_with_too_few_candidates_get_their_exact_neighbours():
    pytest.importorskip("faiss")
    X = np.random.default_rng(5).normal(size=(200, 6)).astype(np.float32)
    # 100 lists of ~2 rows, one probed: most rows see fewer than k + 1 = 11 candidates
    got = knn.mine_knn(X, 10, backend="faiss-ivf", nlist=100, nprobe=1)
    assert (got >= 0).all() and not (got == np.arange(200)[:, None]).any()
    assert knn.knn_recall(X, got, rows=200)["recall"] > 0.9  # the short rows are exact


def test_recall_at_k_on_a_hand_made_case():
    found = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    exact = np.array([[3, 2, 9], [7, 8, 0], [9, 8, 7]])  # order ignored
    assert knn.recall_at_k(found, exact) == pytest.approx((2 + 0 + 3) / 9)
    with pytest.raises(ValueError, match="one shape"):
        knn.recall_at_k(found[:, :2], exact)


def test_knn_recall_counts_one_wrong_neighbour_per_row():
    # The exact neighbours with the last one of every row replaced by the row's least similar
    # sample: recall@k is (k - 1) / k on any sample of rows.
    X = np.random.default_rng(6).normal(size=(120, 5)).astype(np.float32)
    k = 4
    nbr = knn.mine_knn(X, k)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    nbr[:, -1] = (Z @ Z.T).argmin(axis=1)
    r = knn.knn_recall(X, nbr, rows=50, seed=3)
    assert r == {"recall": pytest.approx((k - 1) / k), "rows": 50}
    assert knn.knn_recall(X, nbr, rows=500)["rows"] == 120  # capped at n_samples


def test_exact_knn_of_rows_equals_those_rows_of_mine_knn(monkeypatch):
    X, _ = even_blobs(30, 3)
    rows = np.array([0, 7, 8, 45, 89])
    whole = knn.mine_knn(X, 5)
    np.testing.assert_array_equal(knn.exact_knn_of(X, rows, 5), whole[rows])
    monkeypatch.setattr(knn, "KNN_TILE_ROWS", 2)  # 2 query rows x 10 columns per tile
    np.testing.assert_array_equal(knn.exact_knn_of(X, rows, 5, chunk_mb=20 * 4 / 2**20), whole[rows])


def test_ivf_params_follow_the_documented_rule():
    assert knn.ivf_params(10_000) == (256, 16)  # 4 sqrt(N) = 400 -> 512, capped at N / 39 = 256
    assert knn.ivf_params(100_000) == (1024, 32)
    assert knn.ivf_params(1_281_167) == (4096, 64)
    assert knn.ivf_params(100) == (2, 2)  # nprobe at most nlist
    assert knn.ivf_params(100_000, nlist=50, nprobe=7) == (50, 7)
    with pytest.raises(ValueError, match="knn_nlist=0"):
        knn.ivf_params(100, nlist=0)
    with pytest.raises(ValueError, match="knn_backend='annoy' must be one of"):
        knn.mine_knn(np.eye(4), 1, backend="annoy")
