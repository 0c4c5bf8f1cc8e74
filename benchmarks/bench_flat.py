"""Time each reducer and clusterer of embtree.flat on synthetic embedding-like features.

Report only (nothing is asserted). Default: 10k x 768 (a ViT-B width), 10 Gaussian
classes on a random 20-d subspace plus isotropic noise. Clusterers run on the raw
features (the ``none`` reducer, the widest input) with the default config's O(N^2)
caps, so AP / spectral / agglomerative time includes the subsample-and-assign guard.
Times are noisy on a shared machine: read the ratios to k-means.

    .venv/bin/python benchmarks/bench_flat.py                 # full size
    .venv/bin/python benchmarks/bench_flat.py -n 2000 -d 256  # quick
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from embtree import flat
from embtree.metrics import flat_scores


def synthetic(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(d, 20)))[0]  # (d, 20) orthonormal
    centres = rng.normal(scale=3.0, size=(k, 20))
    y = rng.integers(k, size=n)
    X = (centres[y] + rng.normal(size=(n, 20))) @ basis.T + rng.normal(scale=0.3, size=(n, d))
    return X.astype(np.float32), y


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--n-samples", type=int, default=10_000)
    ap.add_argument("-d", "--n-features", type=int, default=768)
    ap.add_argument("-k", "--n-classes", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--max-quadratic-samples", type=int, default=4000, help="default config value")
    ap.add_argument("--ap-max-quadratic-samples", type=int, default=2000, help="default config value")
    ap.add_argument("--skip", nargs="*", default=[], help="methods to leave out")
    args = ap.parse_args(argv)

    X, y = synthetic(args.n_samples, args.n_features, args.n_classes)
    print(f"features {X.shape}, {args.n_classes} classes, median of {args.repeat} run(s)\n")

    rows = []
    # Compile UMAP's numba kernels first (~15 s once per process) so its row times the fit.
    start = time.perf_counter()
    flat.reduce(X[:100], "umap", n_components=2, seed=0)
    print(f"UMAP numba warm-up (not in the table): {time.perf_counter() - start:.1f} s")
    for name in flat.REDUCERS:
        if name in args.skip:
            continue
        sec, Z = timed(lambda name=name: flat.reduce(X, name, seed=0), args.repeat)
        rows.append(("reducer", name, sec, f"-> {Z.shape[1]} dims"))
    for name in flat.CLUSTERERS:
        if name in args.skip:
            continue
        params = {}
        if "max_quadratic_samples" in flat.CLUSTERERS[name]:
            cap = args.ap_max_quadratic_samples if name == "affinity-propagation" else args.max_quadratic_samples
            params["max_quadratic_samples"] = cap
        sec, pred = timed(
            lambda name=name, params=params: flat.cluster(X, name, n_clusters=args.n_classes, seed=0, **params),
            args.repeat,
        )
        s = flat_scores(y, pred)
        note = f"AMI {s['ami']:.3f}, k={s['n_clusters']}, noise {s['noise_fraction']:.2f}"
        if params:
            note += f", cap {params['max_quadratic_samples']}"
        rows.append(("clusterer", name, sec, note))

    ref = next((r[2] for r in rows if r[1] == "kmeans"), None)
    print(f"{'kind':<10} {'method':<22} {'seconds':>9} {'x kmeans':>9}  notes")
    for kind, name, sec, note in rows:
        ratio = f"{sec / ref:9.1f}" if ref else f"{'-':>9}"
        print(f"{kind:<10} {name:<22} {sec:9.2f} {ratio}  {note}")


if __name__ == "__main__":
    main()
