"""embtree.data.extract: the chunked, resumable embedding loop (tiny random-init model, CPU)."""

import numpy as np
import pytest

from conftest import RESNET, encode_run

torch = pytest.importorskip("torch")


def test_killed_job_resumes_from_its_last_chunk_with_identical_bytes(digits, cache, tmp_path, monkeypatch):
    """A job killed after some chunks restarts after the last finished chunk; same features."""
    import embtree.data.extract as E

    full, _ = encode_run(digits, RESNET, cache, batch_size=4)
    store = tmp_path / "store"
    calls = {"n": 0}
    original = E.ChunkStore.write

    def write_then_die(self, start, f, lg):
        original(self, start, f, lg)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the job is killed after its second chunk
    monkeypatch.setattr(E.ChunkStore, "write", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        encode_run(digits, RESNET, cache, batch_size=4, resume_dir=store, chunk_images=8)
    assert len(list(store.glob("chunk_*.npz"))) == 2
    monkeypatch.setattr(E.ChunkStore, "write", original)
    resumed, meta, stats = encode_run(digits, RESNET, cache, batch_size=4, resume_dir=store, chunk_images=8,
                                with_stats=True)
    assert stats["resumed_from"] == 16
    np.testing.assert_array_equal(resumed.features, full.features)
    np.testing.assert_array_equal(resumed.logits, full.logits)
    # Another encoder (fingerprint) never reuses those chunks.
    other, _, st = encode_run(digits, {**RESNET, "seed": 3}, cache, batch_size=4, resume_dir=store, chunk_images=8,
                        with_stats=True)
    assert st["resumed_from"] == 0 and not np.allclose(other.features, full.features)
