"""embtree.probe: the linear-probe ceiling on constructed data with known answers."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from conftest import even_blobs
from embtree.probe import PROBE_COLUMNS, linear_probe


def test_separable_blobs_give_one():
    X, y = even_blobs(40, 4, 8, seed=0)
    (row,) = linear_probe(X, y)
    assert set(row) == set(PROBE_COLUMNS)
    assert (row["split"], row["protocol"], row["n_samples"], row["n_classes"]) == ("fit", "5-fold CV", 160, 4)
    assert row["acc"] == 1.0 and row["top5_acc"] == 1.0


def test_cross_validation_equals_a_plain_fold_loop():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 0] + 0.8 * rng.normal(size=300) > 0).astype(np.int64) + 2 * (X[:, 1] > 0)
    (row,) = linear_probe(X, y, Cs=[0.5], folds=3, seed=7)
    correct = 0
    for fit, test in StratifiedKFold(3, shuffle=True, random_state=7).split(X, y):
        scaler = StandardScaler().fit(X[fit])
        model = LogisticRegression(C=0.5, max_iter=1000, random_state=7).fit(scaler.transform(X[fit]), y[fit])
        correct += int((model.predict(scaler.transform(X[test])) == y[test]).sum())
    assert row["acc"] == pytest.approx(correct / len(y))
    assert 0.5 < row["acc"] < 1.0 and row["top5_acc"] == 1.0  # 4 classes: top-4 always holds the label


def test_best_grid_point_and_held_out_split():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 20))
    y = (X[:, :3].sum(axis=1) > 0).astype(np.int64)
    rows = {C: linear_probe(X, y, Cs=[C])[0]["acc"] for C in (1e-4, 1.0)}
    (best,) = linear_probe(X, y, Cs=[1e-4, 1.0])
    assert best["acc"] == max(rows.values()) and best["C"] == max(rows, key=rows.get)
    fit, ev = linear_probe(X[:300], y[:300], X[300:], y[300:], Cs=[1.0])
    assert (fit["split"], ev["split"], ev["protocol"], ev["n_samples"]) == ("fit", "eval", "held-out", 100)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0)
    scaler = StandardScaler().fit(X[:300])
    model.fit(scaler.transform(X[:300]), y[:300])
    assert ev["acc"] == pytest.approx(np.mean(model.predict(scaler.transform(X[300:])) == y[300:]))


def test_seeded_and_deterministic():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(200, 5)), rng.integers(0, 3, 200)
    assert linear_probe(X, y, seed=1) == linear_probe(X, y, seed=1)
    assert 0.1 < linear_probe(X, y)[0]["acc"] < 0.6  # random labels: near chance (1/3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"Cs": []}, "Cs"), ({"Cs": [0.0]}, "Cs"), ({"folds": 1}, "folds"), ({"max_iter": 0}, "max_iter"),
    ({"eval_features": np.zeros((2, 3))}, "go together"),
])
def test_bad_arguments_name_the_key(kwargs, match):
    X, y = even_blobs(10, 2, 3, seed=0)
    with pytest.raises(ValueError, match=match):
        linear_probe(X, y, **kwargs)


def test_bad_data_is_named():
    X, y = even_blobs(10, 2, 3, seed=0)
    with pytest.raises(ValueError, match="fewer than folds"):
        linear_probe(X[:12], y[:12], folds=5)  # class 1 holds 2 samples
    with pytest.raises(ValueError, match="at least 2"):
        linear_probe(X, np.zeros(len(y), dtype=np.int64))
    with pytest.raises(ValueError, match="eval_features has 2 features"):
        linear_probe(X, y, X[:, :2], y)
    with pytest.raises(ValueError, match="integer class labels"):
        linear_probe(X, y.astype(float))
