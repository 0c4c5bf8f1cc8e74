"""Benchmark CAEC cluster growing at ImageNet-val scale (50,000 x 768, 1,000 classes).

Prints wall time and peak memory per metric, and the speed-up over the plain per-class,
per-step loop (``embtree.caec.grow._grow_clusters_naive``). The loop is run on a few
classes only and extrapolated linearly to all classes (its cost is per class).

    .venv/bin/python benchmarks/bench_caec.py                      # full size
    .venv/bin/python benchmarks/bench_caec.py --n 5000 --classes 100 --dim 128   # quick
"""

import argparse
import resource
import time
import tracemalloc

import numpy as np

from embtree.caec import grow_clusters
from embtree.caec.grow import _grow_clusters_naive


def synthetic(n, dim, n_classes, seed=0):
    """Gaussian classes whose centres are close enough for some overlap."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 0.4, size=(n_classes, dim)).astype(np.float32)
    labels = rng.integers(0, n_classes, size=n)
    labels[:n_classes] = np.arange(n_classes)  # every class present
    X = centres[labels] + rng.normal(0.0, 1.0, size=(n, dim)).astype(np.float32)
    return X, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--classes", type=int, default=1_000)
    ap.add_argument("--metrics", nargs="+", default=["euclidean", "manhattan", "canberra"])
    ap.add_argument("--step", default="auto")
    ap.add_argument("--ref-classes", type=int, default=3, help="classes the naive loop runs on")
    args = ap.parse_args()
    step = args.step if args.step == "auto" else float(args.step)

    X, y = synthetic(args.n, args.dim, args.classes)
    print(f"data: {X.shape[0]} x {X.shape[1]} float32, {args.classes} classes")
    for metric in args.metrics:  # JIT compilation (cached on disk) is not part of the timing
        grow_clusters(X[:200], y[:200] % 2, metric=metric, step=1.0)
    total = 0.0
    for metric in args.metrics:
        tracemalloc.start()
        t0 = time.perf_counter()
        res = grow_clusters(X, y, metric=metric, step=step)
        fast = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        total += fast
        sub = res.classes[: args.ref_classes]
        t0 = time.perf_counter()
        ref = _grow_clusters_naive(X, y, metric=metric, gamma=0.3, step=res.step, classes=sub)
        ref_time = (time.perf_counter() - t0) * res.n_classes / len(sub)
        same = all(np.array_equal(a, b) for a, b in zip(res.members[: len(sub)], ref["members"]))
        print(
            f"{metric:10s} step={res.step:<8g} wall {fast:6.1f} s  traced peak {peak / 2**30:5.2f} GiB  "
            f"naive (extrapolated from {len(sub)} classes) {ref_time:8.0f} s  "
            f"ratio {ref_time / fast:6.1f}x  members equal on subset: {same}  "
            f"coverage {res.coverage.mean():.2f} recall {res.recall.mean():.2f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"total fast wall time {total:.1f} s (target <= 60 s); process peak RSS {rss:.2f} GiB (target <= 4 GiB)")


if __name__ == "__main__":
    main()
