"""embtree.data.shards: shard boundaries, and shards gathered into the bytes of one job's file."""

import json

import numpy as np
import pytest

from embtree.data.shards import gather_metadata, gather_shards, save_shard, shard_bounds
from embtree.data.store import Embeddings, load_embeddings, save_embeddings


def _reference_bounds(n_images, n_shards, batch_size):
    """Rows of each shard: one job's batches (image i in batch i // batch_size), split into
    n_shards runs by np.array_split."""
    batch_of = np.arange(n_images) // batch_size
    runs = np.array_split(np.arange(batch_of[-1] + 1), n_shards)
    return [np.flatnonzero(np.isin(batch_of, run)).tolist() for run in runs]


@pytest.mark.parametrize(("n", "k", "b"), [(1797, 4, 64), (10, 10, 1), (10, 1, 3), (1000, 7, 64), (5, 3, 2),
                                           (129, 3, 64), (64, 1, 64), (1, 1, 8)])
def test_shards_cover_every_image_once_in_order_in_whole_batches(n, k, b):
    bounds = shard_bounds(n, k, b)
    assert bounds.shape == (k, 2) and bounds.dtype == np.int64
    covered = np.concatenate([np.arange(start, stop) for start, stop in bounds])
    np.testing.assert_array_equal(covered, np.arange(n))  # every image exactly once, in order
    assert all(stop > start for start, stop in bounds)  # no empty shard
    assert all(start % b == 0 for start, _ in bounds)  # each starts on one job's batch boundary
    n_batches = -(-bounds[:, 1] // b) - bounds[:, 0] // b
    assert n_batches.max() - n_batches.min() <= 1  # balanced to one batch
    assert [list(range(s, e)) for s, e in bounds] == _reference_bounds(n, k, b)


@pytest.mark.parametrize(("n", "k", "b", "fragment"), [
    (5, 4, 2, "n_shards=4 should be <= 3"), (5, 6, 1, "n_shards=6 should be <= 5"), (5, 0, 2, "n_shards=0"),
    (0, 1, 2, "n_images=0"), (5, 2, 0, "batch_size=0"), (5, 1.5, 2, "n_shards=1.5"),
])  # fmt: skip
def test_shard_bounds_rejects_more_shards_than_batches(n, k, b, fragment):
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        shard_bounds(n, k, b)


def _embeddings(n, d, k=None, seed=0, extras=True):
    rng = np.random.default_rng(seed)
    C = 5
    return Embeddings(
        features=rng.normal(size=(n, d)).astype(np.float32),
        labels=np.arange(n) % C,
        class_names=np.array([f"class{c}" for c in range(C)]),
        logits=None if k is None else rng.normal(size=(n, k)).astype(np.float32),
        sample_ids=np.array([f"img/{i:05d}.png" for i in range(n)]) if extras else None,
        wnids=np.array([f"n0{c:07d}" for c in range(C)]) if extras else None,
        coarse_labels=(np.arange(n) % C) // 3 if extras else None,
        coarse_names=np.array(["low", "high"]) if extras else None,
    )


def _shard_files(tmp_path, emb, bounds):
    paths = []
    for i, (start, stop) in enumerate(bounds, start=1):
        path = tmp_path / f"{i}-of-{len(bounds)}.npz"
        logits = None if emb.logits is None else emb.logits[start:stop]
        save_shard(path, emb.features[start:stop], logits)
        paths.append(path)
    return paths


@pytest.mark.parametrize(("n", "d", "k", "shards", "extras"), [
    (300, 7, 3, 4, False), (300, 7, None, 3, True), (1000, 16, 10, 1, True),
    # 5,600 x 768 float32 = 17.2 MB: the features member is written in two 16 MiB pieces and a rest.
    (5600, 768, 4, 3, True),
])  # fmt: skip
def test_gathered_shards_are_byte_identical_to_one_save(tmp_path, n, d, k, shards, extras):
    emb = _embeddings(n, d, k, extras=extras)
    save_embeddings(tmp_path / "one.npz", emb)
    paths = _shard_files(tmp_path, emb, shard_bounds(n, shards, 64))
    data = Embeddings(**{**emb.__dict__, "features": None, "logits": None})  # rows only: no features
    gather_shards(tmp_path / "gathered.npz", paths, data)
    assert (tmp_path / "gathered.npz").read_bytes() == (tmp_path / "one.npz").read_bytes()
    back = load_embeddings(tmp_path / "gathered.npz")
    np.testing.assert_array_equal(back.features, emb.features)


def test_gather_names_the_shard_with_nan_or_odd_shapes(tmp_path):
    emb = _embeddings(200, 4, 3)
    bounds = shard_bounds(200, 3, 16)
    paths = _shard_files(tmp_path, emb, bounds)
    data = Embeddings(**{**emb.__dict__, "features": None, "logits": None})
    # NaN in a shard: written by a job that skipped save_shard's check (here: np.savez itself).
    bad = emb.features[bounds[1, 0]:bounds[1, 1]].copy()
    bad[5, 2] = np.nan
    np.savez(paths[1], features=bad, logits=emb.logits[bounds[1, 0]:bounds[1, 1]])
    with pytest.raises(ValueError, match=rf"2-of-3\.npz: 'features' contains NaN or inf in rows \[5\] of the shard "
                                         rf"\(rows \[{bounds[1, 0] + 5}\] of the data set\)"):
        gather_shards(tmp_path / "out.npz", paths, data)
    assert not (tmp_path / "out.npz").exists()  # nothing half-written
    np.savez(paths[1], features=emb.features[bounds[1, 0]:bounds[1, 1]])  # no logits in this shard only
    with pytest.raises(ValueError, match="2-of-3.npz: 'logits' in some shards only"):
        gather_shards(tmp_path / "out.npz", paths, data)
    np.savez(paths[1], features=emb.features[bounds[1, 0]:bounds[1, 1], :3], logits=emb.logits[:bounds[1, 1] - bounds[1, 0]])
    with pytest.raises(ValueError, match="2-of-3.npz: 'features' has 3 columns"):
        gather_shards(tmp_path / "out.npz", paths, data)
    np.savez(paths[1], features=emb.features[bounds[1, 0]:bounds[1, 1] - 1], logits=emb.logits[:bounds[1, 1] - bounds[1, 0] - 1])
    with pytest.raises(ValueError, match="'features' has 199 rows"):  # one row short of the labels
        gather_shards(tmp_path / "out.npz", paths, data)
    with pytest.raises(ValueError, match="NaN or inf"):
        save_shard(tmp_path / "x.npz", bad)  # the shard job itself fails first (rerun alone)


def test_shards_of_a_real_encoder_gather_into_one_jobs_file(digits, cache, tmp_path):
    """End to end on CPU: one job's embed vs. 3 shard jobs of the same encoder (batches of 4
    over 20 images: 5 batches, shards of 2 + 2 + 1), npz and json byte for byte."""
    from conftest import RESNET, encode_run

    pytest.importorskip("torch")
    from embtree.io import write_json

    whole, meta = encode_run(digits, RESNET, cache, batch_size=4)
    save_embeddings(tmp_path / "one.npz", whole, metadata=meta)
    paths, metas = [], []
    bounds = shard_bounds(len(digits), 3, 4)
    for i, (start, stop) in enumerate(bounds, start=1):
        part, m = encode_run(digits.subset(np.arange(start, stop)), RESNET, cache, batch_size=4)
        m["shard"] = {"index": i, "of": 3, "start": int(start), "stop": int(stop)}
        save_shard(tmp_path / f"{i}-of-3.npz", part.features, part.logits, metadata=m)
        paths.append(tmp_path / f"{i}-of-3.npz")
        metas.append(json.loads((tmp_path / f"{i}-of-3.json").read_text()))
    gathered = gather_metadata(metas, digits)
    gather_shards(tmp_path / "gathered.npz", paths, digits, metadata=gathered)
    assert (tmp_path / "gathered.npz").read_bytes() == (tmp_path / "one.npz").read_bytes()
    write_json(tmp_path / "meta_one.json", meta)
    assert (tmp_path / "gathered.json").read_text() == (tmp_path / "meta_one.json").read_text()
    # Shards that disagree (one ran in mixed precision) or hold other images are refused.
    odd = [dict(m) for m in metas]
    odd[2] = {**odd[2], "encoder": {**odd[2]["encoder"], "amp": True}}
    with pytest.raises(ValueError, match=r"shard 3 of 3 differs from shard 1 in \['encoder'\]"):
        gather_metadata(odd, digits)
    with pytest.raises(ValueError, match="shard 2 of 3 embedded other images"):
        gather_metadata(metas, digits.subset(np.r_[0:8, 9, 8, 10:20]))
    with pytest.raises(ValueError, match="expected to start at row 8"):
        gather_metadata([metas[0], metas[2], metas[1]], digits)
