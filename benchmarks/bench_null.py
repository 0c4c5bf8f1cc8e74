"""Benchmark: the null distribution of tree scores (:func:`embtree.hierarchy.null.score_null`).

    .venv/bin/python benchmarks/bench_null.py [--sizes 10 100 1000] [--n-trees 1000] [--models yule]

For each leaf count, times ``score_null`` (``--n-trees`` random binary trees, each scored by
:func:`~embtree.hierarchy.compare.compare_trees` against one prepared
:class:`~embtree.hierarchy.compare.ReferenceTree`) and prints the ratio to one warm
``compare_trees`` call (a random tree given as Newick: what scoring one built tree costs),
plus the time of drawing the trees alone (``random_binary_tree``, Newick included). The
reference is a planted tree (``planted_tree(depth=d, branching=10)``, 10**d leaves) for 100,
1,000, ... leaves, and a Yule random tree otherwise (10 leaves: ``planted_tree`` with one
level would be a star, which has no clade to score). The null is computed once per
reference, however many trees are scored against it.

A sample of the random trees is checked against ``compare_trees`` on the Newick that
``random_binary_tree`` writes for the same random stream ("identical to compare_trees").
Set ``OMP_NUM_THREADS=1`` for single-thread numbers.
"""

import argparse
import time

import numpy as np

from embtree.data.planted import planted_tree
from embtree.hierarchy.compare import ReferenceTree, compare_trees
from embtree.hierarchy.null import MODELS, NULL_SCORES, random_binary_tree, score_null


def reference_for(n):
    """(description, Newick) of the reference with ``n`` leaves."""
    depth = round(np.log10(n)) if n >= 100 else 0
    if depth >= 2 and 10**depth == n:
        *_, newick = planted_tree(depth=depth, branching=10, dim=2, samples_per_class=1, seed=0)
        return f"planted depth {depth} x branching 10", newick
    names = [f"c{i}" for i in range(n)]
    return "Yule random tree (seed 12345)", random_binary_tree(names, model="yule", rng=12345)


def one_compare(ref, model, reps=5):
    """Median seconds of one warm compare_trees call on a random tree (Newick)."""
    times = []
    for r in range(reps):
        tree = random_binary_tree(ref.names, model=model, rng=r)
        t = time.perf_counter()
        compare_trees(tree, ref)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def identical(ref, null, model, seed, n_check):
    """score_null's rows equal compare_trees on random_binary_tree's Newick, same streams."""
    n_trees = len(next(iter(null.values())))
    children = np.random.SeedSequence(seed).spawn(n_trees)
    for t in np.linspace(0, n_trees - 1, min(n_check, n_trees)).astype(int):
        tree = random_binary_tree(ref.names, model=model, rng=np.random.default_rng(children[t]))
        row = compare_trees(tree, ref)
        if any(row[s] != null[s][t] for s in null):
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--n-trees", type=int, default=1000)
    ap.add_argument("--models", nargs="+", choices=MODELS, default=["yule"])
    ap.add_argument("--check", type=int, default=5, help="random trees checked against compare_trees")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"score_null: {args.n_trees} random trees per reference, scores {', '.join(NULL_SCORES)}")
    for n in args.sizes:
        what, newick = reference_for(n)
        t = time.perf_counter()
        ref = ReferenceTree(newick)
        t_ref = time.perf_counter() - t
        for model in args.models:
            t = time.perf_counter()
            null = score_null(ref, n_trees=args.n_trees, model=model, seed=args.seed)
            t_null = time.perf_counter() - t
            t = time.perf_counter()
            for r in range(args.n_trees):
                random_binary_tree(ref.names, model=model, rng=r)
            t_draw = time.perf_counter() - t
            t_one = one_compare(ref, model)
            same = identical(ref, null, model, args.seed, args.check)
            chance = ", ".join(f"{s} {np.nanmean(null[s]):.3g}" for s in null)
            print(f"{n:6d} leaves x {args.n_trees} trees ({model}; reference: {what}, prepared in {t_ref:.3f} s)")
            print(f"    score_null {t_null:8.2f} s  ({1000 * t_null / args.n_trees:.2f} ms/tree); "
                  f"drawing the trees alone {t_draw:.2f} s")
            print(f"    one compare_trees {1000 * t_one:.2f} ms; ratio score_null / one compare_trees "
                  f"{t_null / t_one:.0f}")
            print(f"    chance: {chance}")
            print(f"    identical to compare_trees: {same}")


if __name__ == "__main__":
    main()
