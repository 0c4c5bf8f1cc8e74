"""embtree.heads.train: schedules, the teacher EMA, training on separated blobs, selection,
determinism, bad input and divergence."""

import numpy as np
import pytest
import torch

from conftest import even_blobs
from embtree import metrics
from embtree.heads import train
from embtree.heads.params import HEADS

SMALL = dict(num_heads=3, hidden_dim=32, bottleneck_dim=16, epochs=30, warmup_epochs=2, knn=5, batch_size=32,
             momentum_teacher=0.9, max_momentum_teacher=0.9,
             lr=1e-3, min_lr=1e-3)


def test_ema_update():
    teacher = [torch.tensor([1.0, 2.0]), torch.tensor([[0.0]])]
    student = [torch.tensor([3.0, 4.0]), torch.tensor([[10.0]])]
    train.ema_update(teacher, student, 0.75)
    torch.testing.assert_close(teacher[0], torch.tensor([1.5, 2.5]))
    torch.testing.assert_close(teacher[1], torch.tensor([[2.5]]))


def test_cosine_schedule_warmup_and_constant():
    s = train.cosine_schedule(4e-4, 4e-4, epochs=5, iters_per_epoch=2, warmup_epochs=2)
    assert len(s) == 10
    np.testing.assert_allclose(s[:4], [0, 1e-4, 2e-4, 3e-4])
    np.testing.assert_allclose(s[4:], 4e-4)
    c = train.cosine_schedule(1.0, 0.0, epochs=2, iters_per_epoch=2)
    np.testing.assert_allclose(c, [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4))])


@pytest.mark.parametrize("head", HEADS)
def test_separated_blobs_are_recovered(head):
    torch.set_num_threads(1)
    X, y = even_blobs()
    r = train.train_heads(X, head, n_clusters=4, **SMALL)
    pred = train.predict(r["model"], X, selected=r["selected"], params=r["params"])
    assert metrics.cluster_accuracy(y, pred["labels"]) >= 0.99
    assert pred["all_labels"].shape == (3, len(y)) and pred["soft"].shape == (len(y), 4)
    np.testing.assert_allclose(pred["soft"].sum(1), 1, rtol=1e-5)
    # The paper's rule: the kept head has the lowest last-epoch training loss.
    assert r["selected"] == int(np.argmin(r["epoch_loss"][-1]))
    assert r["epoch_loss"].shape == (SMALL["epochs"], 3)


def test_training_is_deterministic():
    torch.set_num_threads(1)
    X, _ = even_blobs(20, 3)
    params = {**SMALL, "epochs": 3}
    a = train.train_heads(X, "temi", n_clusters=3, **params)
    b = train.train_heads(X, "temi", n_clusters=3, **params)
    pa = train.predict(a["model"], X, selected=a["selected"])
    pb = train.predict(b["model"], X, selected=b["selected"])
    assert pa["soft"].tobytes() == pb["soft"].tobytes()
    assert a["epoch_loss"].tobytes() == b["epoch_loss"].tobytes()


def test_two_seeds_give_different_heads():
    # heads.seeds: each seed is one repeated run (initial weights, batches, neighbour draws);
    # the same seed twice is the same run (test above), two seeds are two different runs.
    torch.set_num_threads(1)
    X, _ = even_blobs(20, 3)
    params = {**SMALL, "epochs": 3}
    runs = [train.train_heads(X, "scanv2", n_clusters=3, **params, seed=s) for s in (0, 1)]
    soft = [train.predict(r["model"], X, selected=r["selected"])["soft"] for r in runs]
    assert [r["params"]["seed"] for r in runs] == [0, 1]
    assert not np.allclose(soft[0], soft[1])
    assert not np.array_equal(runs[0]["epoch_loss"], runs[1]["epoch_loss"])


def test_bad_input_names_the_key():
    X, _ = even_blobs(5, 2)  # 10 samples
    with pytest.raises(ValueError, match="knn"):
        train.train_heads(X, "temi", n_clusters=2, knn=10)
    with pytest.raises(ValueError, match="n_clusters"):
        train.train_heads(X, "temi", n_clusters=1, knn=3)
    with pytest.raises(ValueError, match="n_clusters"):
        train.train_heads(X, "temi", n_clusters=11, knn=3)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="features contains NaN"):
        train.train_heads(bad, "temi", n_clusters=2, knn=3)
    with pytest.raises(ValueError, match="unknown head"):
        train.train_heads(X, "dino", n_clusters=2, knn=3)
    with pytest.raises(ValueError, match="gamma"):
        train.train_heads(X, "temi", n_clusters=2, knn=3, gamma=2)


def test_divergence_names_epoch_and_setting(monkeypatch):
    X, _ = even_blobs(10, 2)
    monkeypatch.setattr(train, "scan_loss", lambda s, t, **kw: s.sum((1, 2, 3)) * float("nan"))
    with pytest.raises(FloatingPointError, match=r"epoch 0 .*heads\.lr"):
        train.train_heads(X, "scanv2", n_clusters=2, **{**SMALL, "epochs": 1})
