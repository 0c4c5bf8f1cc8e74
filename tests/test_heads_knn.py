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
