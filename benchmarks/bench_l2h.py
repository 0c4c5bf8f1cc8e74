"""Benchmark: fast L2H vs the straightforward naive implementation (identical merges), two sizes.

    .venv/bin/python benchmarks/bench_l2h.py [--ref-steps 100] [--sizes 10000x100,50000x1000]

The naive one recomputes every group score from all samples at every step (O(N K)
per step, like the paper's listing), so its per-step cost is nearly constant; when
``--ref-steps`` is less than K - 1 it runs that many steps and its total time is
extrapolated linearly from the per-step time (plus its one-off set-up), and the fast
merges are checked against the naive one's on those steps. Paper anchor (001,
appendix A / table 2): 0.47 min for ImageNet-1K on a CPU.
"""

import argparse
import time

import numpy as np

from embtree.l2h import _l2h_naive, l2h


def synthetic_logits(n, k, seed=0):
    """Classifier-like logits: a confident true class on Gaussian noise, float32."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = rng.normal(size=(n, k)).astype(np.float32)
    L[np.arange(n), y] += 4.0
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000x100,50000x1000")
    ap.add_argument("--ref-steps", type=int, default=None, help="naive steps (default: all)")
    args = ap.parse_args()
    for size in args.sizes.split(","):
        n, k = map(int, size.split("x"))
        L = synthetic_logits(n, k)
        t = time.perf_counter()
        Z = l2h(L)
        fast = time.perf_counter() - t
        steps = k - 1 if args.ref_steps is None else min(args.ref_steps, k - 1)
        t = time.perf_counter()
        _l2h_naive(L, n_steps=0)
        setup = time.perf_counter() - t
        t = time.perf_counter()
        R = _l2h_naive(L, n_steps=steps)
        ref_run = time.perf_counter() - t
        ref = setup + (ref_run - setup) * (k - 1) / steps
        same = np.array_equal(Z[:steps], R)
        how = "measured" if steps == k - 1 else f"extrapolated from {steps}/{k - 1} steps"
        print(
            f"{n} x {k}: fast {fast:.2f} s, naive {ref:.2f} s ({how}), "
            f"ratio {ref / fast:.1f}x, identical merges: {same}"
        )


if __name__ == "__main__":
    main()
