"""Time Merge & Expand (embtree.merge_expand) by phase on synthetic embedding-like features.

Report only (nothing is asserted). Targets (issue 15, 2-core CPU): 10,000 x 64 within
5 minutes; 50,000 x 768 x 1,000 classes within 30 minutes. Features: Gaussian classes on a
random 20-d subspace plus isotropic noise (as bench_flat.py). One torch / BLAS thread
(the workflow rule's setting). The machine is shared: wall time depends on the load, so
the CPU time of the process is printed too, and each phase as a fraction of the total.

    .venv/bin/python benchmarks/bench_merge_expand.py                        # 10k x 64 x 10
    .venv/bin/python benchmarks/bench_merge_expand.py -n 50000 -d 768 -k 1000  # large
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402


def synthetic(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    sub = min(20, d)
    basis = np.linalg.qr(rng.normal(size=(d, sub)))[0]
    centres = rng.normal(scale=3.0, size=(k, sub))
    y = rng.integers(k, size=n)
    X = (centres[y] + rng.normal(size=(n, sub))) @ basis.T + rng.normal(scale=0.3, size=(n, d))
    return X.astype(np.float32), y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--n-samples", type=int, default=10_000)
    ap.add_argument("-d", "--n-features", type=int, default=64)
    ap.add_argument("-k", "--n-classes", type=int, default=10)
    ap.add_argument("--n-regions", type=int, default=200)
    ap.add_argument("--max-quadratic-samples", type=int, default=4000, help="default config value")
    ap.add_argument("--budget-minutes", type=float, default=None, help="target (default: 5, or 30 if n >= 50k)")
    args = ap.parse_args(argv)

    import torch

    from embtree import merge_expand as me

    torch.set_num_threads(1)
    X, y = synthetic(args.n_samples, args.n_features, args.n_classes)
    wall, cpu = time.perf_counter(), time.process_time()
    res = me.merge_expand(X, seed=0, max_quadratic_samples=args.max_quadratic_samples, n_regions=args.n_regions)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    budget = args.budget_minutes or (30.0 if args.n_samples >= 50_000 else 5.0)
    s = me.clean_scores(y, res.labels, res.clean)
    print(f"merge_expand {args.n_samples} x {args.n_features}, {args.n_classes} classes, "
          f"n_regions {args.n_regions}: {len(res.seeds)} seeds -> {res.n_clusters} clusters, "
          f"clean fraction {res.clean.mean():.3f}, ACC all/clean/unclean "
          f"{s['acc_all']:.3f}/{s['acc_clean']:.3f}/{s['acc_unclean']:.3f}")
    print(f"{'phase':10s} {'wall s':>8s} {'share':>6s}")
    for phase, secs in res.seconds.items():
        print(f"{phase:10s} {secs:8.1f} {secs / max(wall, 1e-9):6.2f}")
    print(f"total wall {wall:.1f} s, CPU {cpu:.1f} s; ratio wall / budget ({budget:g} min) = "
          f"{wall / (60 * budget):.2f}, CPU / budget = {cpu / (60 * budget):.2f}; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
