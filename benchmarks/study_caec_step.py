"""How r_f (eq. 4) depends on the radius step: the evidence behind ``step='auto'``.

For each data set and metric and each candidate rule for the step, grows the CAEC
clusters at the rule's step ``s`` and at ``s * (0.8, 0.9, 1.12, 1.25)`` and prints:

* ``steps``: median over classes of (r_b - r_0) / s, the number of steps to r_b;
* ``degen``: classes whose cluster has fewer than ``--min-size`` members (at ``s``);
* ``r0``: classes with r_f = r_0 (at ``s``);
* ``rf_spread``: median over classes of (max - min) r_f over the five steps, divided by
  the class's r_b - r_0 (how far r_f moves when the step changes by +-25 %);
* ``size_ratio``: median over classes of max / min cluster size over the five steps;
* ``cov`` / ``recall``: mean coverage and recall at ``s``.

Rules: ``nK`` = K steps to the median bounding radius (``n100`` was the former ``auto``, ``n25`` is the current one);
``fd`` = the Freedman-Diaconis bin width ``2 IQR n^(-1/3)`` of each class's own
distances to its centroid, median over classes (a histogram bin-width rule).

Run: ``python benchmarks/study_caec_step.py [--datasets cifar digits]``. Nothing asserted.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from embtree.caec import AUTO_STEPS
from embtree import caec

ROOT = Path(__file__).resolve().parents[1]
FACTORS = (0.8, 0.9, 1.0, 1.12, 1.25)


def load(name):
    if name == "cifar":
        with np.load(ROOT / "resources/examples/cifar10_resnet20_features.npz") as d:
            return d["features"], d["labels"]
    if name == "digits":
        from sklearn.datasets import load_digits

        from embtree.data.encoders import standardise

        X, y = load_digits(return_X_y=True)
        return standardise(X.astype(np.float32)), y.astype(np.int64)
    if name.startswith("blobs"):  # blobs<N>: a tiny synthetic set for smoke tests
        from sklearn.datasets import make_blobs

        X, y = make_blobs(int(name[5:]), n_features=8, centers=4, random_state=0)
        return X.astype(np.float32), y.astype(np.int64)
    raise ValueError(name)


def fd_step(X, y, metric):
    """Freedman-Diaconis width 2 IQR n^(-1/3) of each class's own distances, median over classes."""
    from embtree.distances import pairwise

    widths = []
    for c in np.unique(y):
        Xc = X[y == c]
        d = pairwise(Xc.mean(axis=0, dtype=np.float64)[None, :], Xc.astype(np.float64), metric)[0]
        q1, q3 = np.percentile(d, [25, 75])
        widths.append(2 * (q3 - q1) * len(d) ** (-1 / 3))
    return float(np.median(widths))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cifar", "digits"])
    ap.add_argument("--metrics", nargs="+", default=["euclidean", "manhattan", "canberra"])
    ap.add_argument("--rules", nargs="+", default=["n400", "n200", "n100", "n50", "n25", "fd"])
    ap.add_argument("--min-size", type=int, default=5)
    args = ap.parse_args(argv)
    for name in args.datasets:
        X, y = load(name)
        for metric in args.metrics:
            fd = fd_step(X, y, metric)
            auto = caec.grow_clusters(X, y, metric=metric, step="auto")
            span = auto.step * AUTO_STEPS  # auto: median bounding radius (fine grid) / 25
            print(f"\n{name} {metric}: n={len(X)}, median(r_b - r_0) = {span:.4g}, fd step = {fd:.4g}")
            print(f"{'rule':>6} {'step':>9} {'steps':>6} {'degen':>5} {'r0':>4} {'rf_spread':>9} "
                  f"{'size_ratio':>10} {'cov':>6} {'recall':>6}")
            for rule in args.rules:
                s = fd if rule == "fd" else span / float(rule[1:])
                runs = [caec.grow_clusters(X, y, metric=metric, step=float(f"{s * f:.4g}")) for f in FACTORS]
                base = runs[FACTORS.index(1.0)]
                rf = np.stack([r.r_f for r in runs])
                sizes = np.stack([r.n_target + r.n_other for r in runs])
                width = np.maximum(base.r_b - base.r0, base.step)
                print(f"{rule:>6} {base.step:9.4g} {np.median((base.r_b - base.r0) / base.step):6.1f} "
                      f"{int(np.sum(sizes[2] < args.min_size)):5d} {int(np.sum(base.t_f == 0)):4d} "
                      f"{np.median((rf.max(0) - rf.min(0)) / width):9.3f} "
                      f"{np.median(sizes.max(0) / np.maximum(sizes.min(0), 1)):10.2f} "
                      f"{base.coverage.mean():6.3f} {base.recall.mean():6.3f}")


if __name__ == "__main__":
    main()
