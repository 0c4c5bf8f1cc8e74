"""embtree.data.store: the embeddings file format."""

import json

import numpy as np
import pytest

from embtree.data.store import Embeddings, load_embeddings, npz_shapes, save_embeddings
from embtree.io import save_npz


def _emb(n=6, d=3, **kw):
    rng = np.random.default_rng(0)
    return Embeddings(
        features=rng.normal(size=(n, d)), labels=np.arange(n) % 2, class_names=np.array(["a", "b"]), **kw
    )


def test_roundtrip_with_optional_arrays_and_sidecar(tmp_path):
    emb = _emb(logits=np.ones((6, 4)), sample_ids=np.array([f"s{i}" for i in range(6)]),
               wnids=np.array(["n00000001", "n00000002"]))  # fmt: skip
    path = tmp_path / "e" / "embeddings.npz"
    save_embeddings(path, emb, metadata={"model": "x", "n": np.int64(3)})
    back = load_embeddings(path)
    assert back.features.dtype == np.float32 and back.labels.dtype == np.int64
    np.testing.assert_allclose(back.features, emb.features.astype(np.float32))
    assert back.logits.shape == (6, 4) and list(back.wnids) == ["n00000001", "n00000002"]
    assert json.loads(path.with_suffix(".json").read_text()) == {"model": "x", "n": 3}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"labels": np.arange(5) % 2}, "'labels' has shape"),
        ({"features": np.full((6, 3), np.nan)}, "NaN or inf"),
        ({"labels": np.zeros(6, dtype=int)}, "at least 2 classes"),
        ({"labels": np.arange(6)}, "labels must lie in 0..1"),
    ],
)
def test_invalid_embeddings_leave_no_file(tmp_path, kwargs, message):
    emb = _emb()
    for key, value in kwargs.items():
        setattr(emb, key, value)
    path = tmp_path / "bad.npz"
    with pytest.raises(ValueError, match=message):
        save_embeddings(path, emb)
    assert list(tmp_path.iterdir()) == []


def test_load_names_the_file_when_not_npz(tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        load_embeddings(bad)


def test_npz_shapes_reads_headers_only(tmp_path):
    path = tmp_path / "a.npz"
    save_npz(path, features=np.zeros((7, 3), np.float32), class_names=np.array(["a", "b"]))
    assert npz_shapes(path) == {"features": (7, 3), "class_names": (2,)}


def test_load_eval_embeddings_checks_classes_and_dimension(tmp_path):
    from embtree.data.store import load_eval_embeddings

    rng = np.random.default_rng(0)

    def emb(n, d, names):
        return Embeddings(features=rng.normal(size=(n, d)).astype(np.float32), labels=np.arange(n) % len(names),
                          class_names=np.array(names))

    fit = emb(6, 3, ["a", "b"])
    for name, e in {"ok": emb(4, 3, ["a", "b"]), "names": emb(4, 3, ["a", "c"]), "dim": emb(4, 5, ["a", "b"])}.items():
        save_embeddings(tmp_path / f"{name}.npz", e)
    assert len(load_eval_embeddings(tmp_path / "ok.npz", fit).labels) == 4
    with pytest.raises(ValueError, match="classes differ"):
        load_eval_embeddings(tmp_path / "names.npz", fit)
    with pytest.raises(ValueError, match="feature dimension 5"):
        load_eval_embeddings(tmp_path / "dim.npz", fit)
