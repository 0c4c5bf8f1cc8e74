"""k-means++ seeding of n_init restarts: one scikit-learn call per restart vs all restarts at once.

    .venv/bin/python benchmarks/bench_seeding.py                       # 50,000 x 768, 1,000 centres, 10 restarts
    .venv/bin/python benchmarks/bench_seeding.py --n 5000 --k 100      # quick

Times ``sklearn.cluster.kmeans_plusplus`` called once per restart (what cosine_kmeans, kmeans and
faiss_kmeans did) against :func:`embtree.seeding.plusplus_restarts` on the same unit-norm planted
rows (the heads' cosine k-means baseline at ImageNet-val shape), checks that the chosen rows are
equal, and prints the ratio. With ``--lloyd`` also the whole :func:`embtree.cosine_kmeans.cosine_kmeans`
(seeding + Lloyd) and its seeding share. Single-threaded unless ``--threads``.
"""

import argparse
import time

import numpy as np
from sklearn.cluster import kmeans_plusplus
from threadpoolctl import threadpool_limits

from embtree import cosine_kmeans
from embtree.data.planted import planted_tree
from embtree.seeding import plusplus_restarts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lloyd", action="store_true")
    args = ap.parse_args(argv)
    # a planted tree with branching 10 and enough levels for k leaves, n rows in all
    depth = max(1, int(np.ceil(np.log10(args.k))))
    X, *_ = planted_tree(depth=depth, branching=10, dim=args.dim, samples_per_class=max(1, args.n // 10**depth), seed=0)
    X = X[: args.n].astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    seeds = list(range(args.n_init))
    with threadpool_limits(args.threads):
        t = time.perf_counter()
        ref = np.array([kmeans_plusplus(X, args.k, random_state=s)[1] for s in seeds])
        t_ref = time.perf_counter() - t
        t = time.perf_counter()
        got = plusplus_restarts(X, args.k, seeds)
        t_new = time.perf_counter() - t
        print(f"{len(X)} x {args.dim}, {args.k} centres, {args.n_init} restarts, {args.threads} thread(s)")
        print(f"  per-restart kmeans_plusplus {t_ref:8.1f} s")
        print(f"  plusplus_restarts           {t_new:8.1f} s   ratio {t_ref / t_new:.2f}x, same rows: {np.array_equal(ref, got)}")
        if args.lloyd:
            t = time.perf_counter()
            cosine_kmeans.cosine_kmeans(X, args.k, seed=0, n_init=args.n_init)
            t_all = time.perf_counter() - t
            print(f"  cosine_kmeans (seeding + Lloyd) {t_all:.1f} s; seeding {100 * t_new / t_all:.0f} % of it; "
                  f"with per-restart seeding it would be {t_all - t_new + t_ref:.1f} s "
                  f"({(t_all - t_new + t_ref) / t_all:.2f}x)")


if __name__ == "__main__":
    main()
