"""Benchmark: the heads' kNN backends (exact, faiss-flat, faiss-ivf) and faiss's k-means against
embtree's, with ratios measured within one run (the machine is shared: absolute seconds drift).

    PYTHONPATH=src python benchmarks/bench_knn.py [--threads 2] [--sizes 100000 200000]
        [--noise 8] [--exact-rows 1000] [--kmeans 50000x768x100] [--heads-epochs 0]

1. The shipped CIFAR-10 features (10,000 x 64): every backend on all rows; time, ratio to
   exact, recall@50 against the exact neighbours (all rows).
2. Planted data N x 768 (``--sizes``; 1,000 Gaussian classes, ``--noise``): faiss-ivf on all rows
   (the job's :func:`embtree.heads.mine_knn`), exact and faiss-flat timed on ``--exact-rows``
   sampled query rows and scaled to N (both are brute force: time is linear in the query rows);
   recall@50 of faiss-ivf on those rows. Then the extrapolation to ``--target`` rows (exact ~N^2;
   faiss-ivf by the log-log slope of the sizes measured), against the 30-minute target.
3. k-means at ``--kmeans`` N x d x K (planted data): embtree.kmeans vs faiss (Euclidean) and
   embtree.cosine_kmeans vs faiss (spherical), one restart each: time ratio and inertia ratio.
4. ``--heads-epochs E`` > 0: TEMI and SCANv2 on the CIFAR-10 features with exact vs faiss-ivf
   neighbours, ``--heads-seeds`` seeds, ACC per seed and the mean difference in points.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from embtree.data.planted import planted_tree
from embtree.heads import knn

FEATURES = Path(__file__).resolve().parents[1] / "resources/examples/cifar10_resnet20_features.npz"
K = 50


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def planted(n, dim, noise, seed=0):
    X, y = planted_tree(depth=3, branching=10, dim=dim, samples_per_class=max(1, n // 1000), noise=noise,
                        seed=seed)[:2]
    return np.ascontiguousarray(X, dtype=np.float32), y


def cifar(threads, rows):
    with np.load(FEATURES) as d:
        X, y = d["features"][:rows], d["labels"][:rows]
    print(f"== CIFAR-10 ResNet-20 features {X.shape}, k={K}, {threads} thread(s)")
    exact, t_exact = timed(knn.mine_knn, X, K)
    print(f"exact       {t_exact:7.2f} s  ratio 1.00  recall@50 1.0000  (label agreement "
          f"{(y[exact] == y[:, None]).mean():.3f})")
    for backend in ("faiss-flat", "faiss-ivf"):
        got, t = timed(knn.mine_knn, X, K, backend=backend)
        extra = " nlist %d nprobe %d" % knn.ivf_params(len(X)) if backend == "faiss-ivf" else ""
        print(f"{backend:11s} {t:7.2f} s  ratio {t / t_exact:.2f}  recall@50 {knn.recall_at_k(got, exact):.4f}"
              f"  identical rows {(got == exact).all(axis=1).mean():.4f}{extra}")
    return X, y, exact


def scale(sizes, dim, noise, exact_rows, target):
    import faiss

    print(f"\n== planted {dim}-d, 1,000 classes, noise {noise}: exact / faiss-flat on {exact_rows} query rows "
          f"scaled to N; faiss-ivf on all rows")
    ivf_times = []
    for n in sizes:
        X, y = planted(n, dim, noise)
        n = len(X)
        rows = np.sort(np.random.default_rng(0).choice(n, size=min(exact_rows, n), replace=False))
        exact, t_ex = timed(knn.exact_knn_of, X, rows, K)
        t_exact = t_ex * n / len(rows)
        t0 = time.perf_counter()  # faiss-flat: index of all rows, search of the sampled rows
        index = faiss.IndexFlatIP(dim)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        index.add(Xn)
        t_add = time.perf_counter() - t0
        (_, flat), t_fs = timed(index.search, Xn[rows], K + 1)
        del index, Xn
        t_flat = t_add + t_fs * n / len(rows)
        flat = knn._drop_self(flat.astype(np.int64), rows, K)
        ivf, t_ivf = timed(knn.mine_knn, X, K, backend="faiss-ivf")
        ivf_times.append((n, t_ivf))
        nlist, nprobe = knn.ivf_params(n)
        print(f"N={n:,}: label agreement {(y[exact] == y[rows, None]).mean():.3f}; exact ~{t_exact:.0f} s; "
              f"faiss-flat ~{t_flat:.0f} s (ratio {t_flat / t_exact:.2f}, recall {knn.recall_at_k(flat, exact):.4f}); "
              f"faiss-ivf {t_ivf:.0f} s (ratio {t_ivf / t_exact:.3f}, speed-up {t_exact / t_ivf:.1f}x, nlist {nlist} "
              f"nprobe {nprobe}, recall@50 {knn.recall_at_k(ivf[rows], exact):.4f})", flush=True)
    (n0, t0), (n1, t1) = ivf_times[0], ivf_times[-1]
    slope = math.log(t1 / t0) / math.log(n1 / n0) if n1 > n0 else 2.0
    t_target = t1 * (target / n1) ** slope
    t_exact_target = t_exact * (target / n1) ** 2
    # The model: nlist ~ sqrt(N) and nprobe ~ sqrt(nlist) scan ~N^0.75 rows per query, so the
    # search grows as N^1.75 (the coarse step as N^1.5): the bound when the sizes measured are
    # too close, or measured under different load, for their slope to hold.
    t_model = t1 * (target / n1) ** 1.75
    print(f"extrapolated to N={target:,}: exact ~{t_exact_target / 3600:.1f} h; faiss-ivf ~{t_target / 60:.0f} min "
          f"(time ~ N^{slope:.2f} from the sizes measured), ~{t_model / 60:.0f} min (model N^1.75); "
          f"speed-up over exact {t_exact_target / t_model:.0f}-{t_exact_target / t_target:.0f}x; nlist/nprobe "
          f"{knn.ivf_params(target)}; 30-minute target met: {max(t_target, t_model) <= 1800}")


def kmeans_compare(spec, noise):
    from embtree.cosine_kmeans import cosine_kmeans
    from embtree.faiss_kmeans import faiss_kmeans
    from embtree.kmeans import kmeans

    n, d, k = (int(v) for v in spec.split("x"))
    X, _ = planted(n, d, noise)
    print(f"\n== k-means {X.shape[0]:,} x {d} x {k} clusters, one restart, seed 0")
    (_, _, in_e), t_e = timed(kmeans, X, k, seed=0, n_init=1)
    (_, _, in_f), t_f = timed(faiss_kmeans, X, k, seed=0, n_init=1)
    print(f"Euclidean: embtree.kmeans {t_e:.1f} s, faiss {t_f:.1f} s: time ratio faiss/embtree {t_f / t_e:.2f}, "
          f"inertia ratio {in_f / in_e:.5f}")
    (lab_c, cen_c), t_c = timed(cosine_kmeans, X, k, seed=0, n_init=1)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    in_c = float(((Xn - cen_c[lab_c]) ** 2).sum())
    (_, _, in_s), t_s = timed(faiss_kmeans, X, k, spherical=True, seed=0, n_init=1)
    print(f"spherical: embtree.cosine_kmeans {t_c:.1f} s, faiss {t_s:.1f} s: time ratio faiss/embtree "
          f"{t_s / t_c:.2f}, inertia ratio {in_s / in_c:.5f}")


def heads_compare(X, y, exact, epochs, seeds, methods):
    from embtree import heads, metrics

    ivf = knn.mine_knn(X, K, backend="faiss-ivf")
    print(f"\n== heads on CIFAR-10, {epochs} epochs, seeds {seeds}: ACC % with exact vs faiss-ivf neighbours "
          f"(recall@50 {knn.recall_at_k(ivf, exact):.4f})")
    for head in methods:
        diffs = []
        for seed in seeds:
            acc = {}
            for name, nbr in (("exact", exact), ("faiss-ivf", ivf)):
                r = heads.train_heads(X, head, n_clusters=10, neighbors=nbr, epochs=epochs, seed=seed)
                pred = heads.predict(r["model"], X, selected=r["selected"])
                acc[name] = 100 * metrics.cluster_accuracy(y, pred["labels"])
            diffs.append(acc["faiss-ivf"] - acc["exact"])
            print(f"{head} seed {seed}: exact {acc['exact']:.2f}, faiss-ivf {acc['faiss-ivf']:.2f}", flush=True)
        print(f"{head}: mean ACC difference faiss-ivf - exact {np.mean(diffs):+.2f} points "
              f"(max |difference| {np.max(np.abs(diffs)):.2f})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cifar-rows", type=int, default=None, help="the first rows of the CIFAR-10 features only")
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 200_000])
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--noise", type=float, default=8.0, help="planted noise (8: 32 %% of the 50 neighbours share the class)")
    ap.add_argument("--exact-rows", type=int, default=1000)
    ap.add_argument("--target", type=int, default=1_281_167)
    ap.add_argument("--kmeans", default="50000x768x100", help="N x d x K, or 'none'")
    ap.add_argument("--heads-epochs", type=int, default=0)
    ap.add_argument("--heads-seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--heads", nargs="*", default=["temi", "scanv2"], choices=["temi", "scanv2"])
    args = ap.parse_args()
    import faiss

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    X, y, exact = cifar(args.threads, args.cifar_rows)
    if args.sizes:
        scale(args.sizes, args.dim, args.noise, args.exact_rows, args.target)
    if args.kmeans != "none":
        kmeans_compare(args.kmeans, args.noise)
    if args.heads_epochs > 0:
        heads_compare(X, y, exact, args.heads_epochs, args.heads_seeds, args.heads)


if __name__ == "__main__":
    main()
