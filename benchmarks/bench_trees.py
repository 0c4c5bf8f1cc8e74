"""Benchmark: tree comparison (RF, clade recall/precision, Deformity Index) at 1,000 leaves.

    .venv/bin/python benchmarks/bench_trees.py [--branching 10] [--depth 3] [--ref-branching 10 --ref-depth 2]

Times :func:`embtree.hierarchy.compare.compare_trees` on a planted reference (``planted-tree``,
depth 3, branching 10: 1,000 leaves, 110 clades) against a random binary tree and the
reference's own UPGMA recovery, both cold (the reference parsed in the call) and
warm (a :class:`~embtree.hierarchy.compare.ReferenceTree` prepared once). The naive path is
the straightforward one: a fresh dendropy namespace per comparison for RF, and the
Deformity Index as the authors' DefIn program computes it (per clade, per target
node, dendropy MRCA calls); it is too slow at 1,000 leaves, so it runs on a smaller
planted tree (``--ref-branching`` ** ``--ref-depth`` leaves), where the values are
checked equal and the ratio printed. Set ``OMP_NUM_THREADS=1`` for
single-thread numbers.

``--nearest`` instead times the sample -> leaf step of ``compare_tree`` at ImageNet-val
shape (``planted-tree`` depth 3, branching 10, dim 768, 50 samples per class: 50,000 x
1,000 x 768): :func:`embtree.relation_trees.nearest_leaf` for the three tree metrics with one and
two threads, against the previous kernel (float64 for float32 samples x float64 centroids,
one pass over a 51 MB block of samples per centroid; kept below as ``old_nearest``),
which runs on ``--old-rows`` samples and is extrapolated linearly (its cost is per
sample); then the whole ``compare_tree`` job body (RF / clades / DI, the sample
placement and dendrogram purity) per 1,000-leaf tree, old (extrapolated placement) and new.

    timeout 1800 .venv/bin/python benchmarks/bench_trees.py --nearest
"""

import argparse
import time

import numpy as np

from embtree.centroids import class_centroids
from embtree.data.planted import planted_tree
from embtree.hierarchy.compare import ReferenceTree, compare_trees
from embtree.hierarchy.newick import newick_to_linkage, parse_newick
from embtree.relation_trees import nearest_leaf, tree_label_metrics, upgma


def defin_naive(target, reference):
    """Deformity Index exactly as DefIn (github.com/aritramhp/DefIn) computes it."""
    import dendropy

    get = dict(schema="newick", preserve_underscores=True, rooting="force-rooted")
    ref = dendropy.Tree.get(data=reference, **get)
    clades = [{x.taxon.label for x in nd.leaf_nodes()} for nd in ref.internal_nodes()]
    tree = dendropy.Tree.get(data=target, **get)
    leaves = {x.taxon.label for x in tree.leaf_nodes()}
    level = {nd: nd.level() for nd in tree.preorder_node_iter()}
    node = {x.taxon.label: x for x in tree.leaf_nodes()}
    dc = []
    for clade in clades:
        if not leaves - clade:
            dc.append(0)
            continue
        best = np.inf
        for v in tree.internal_nodes():
            lv = {x.taxon.label for x in v.leaf_nodes()}
            missed, correct, wrong = clade - lv, clade & lv, lv - clade
            t_in = 0
            for x in missed:
                m = tree.mrca(taxon_labels=list((correct or wrong) | {x}))
                t_in += (level[node[x].parent_node] - level[m]) + (level[v] - level[m])
            t_out = sum(level[node[y].parent_node] - level[v] + 1 for y in wrong)
            best = min(best, (t_in + t_out) * len(clade) / len(lv))
        dc.append(best)
    return sum(dc) / len(dc)


def naive_path(target, reference):
    import dendropy
    from dendropy.calculate import treecompare

    tns = dendropy.TaxonNamespace()
    a = parse_newick(target, tns, rooted=False)
    b = parse_newick(reference, tns, rooted=False)
    return {"rf": treecompare.symmetric_difference(a, b), "di": defin_naive(target, reference)}


def timed(f, *args, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def planted(depth, branching, seed=0):
    X, y, names, ref = planted_tree(depth=depth, branching=branching, dim=16, samples_per_class=5,
                                             decay=0.35, noise=0.3, seed=seed)  # fmt: skip
    tree = upgma(class_centroids(X, y), names)
    rng = np.random.default_rng(seed)
    rand = upgma(rng.normal(size=(len(names), 4)), names)
    return ref, tree, rand


def _old_kernels():
    """The Manhattan / Canberra kernels before the tiled float32 ones (for the ratio)."""
    from numba import njit, prange

    @njit(parallel=True, fastmath=True, cache=True)
    def manhattan(A, B, tiny, out):
        for j in prange(B.shape[0]):
            b = B[j]
            for i in range(A.shape[0]):
                a = A[i]
                s = 0.0
                for k in range(a.shape[0]):
                    s += abs(a[k] - b[k])
                out[i, j] = s

    @njit(parallel=True, fastmath=True, cache=True)
    def canberra(A, B, tiny, out):
        for j in prange(B.shape[0]):
            b = B[j]
            for i in range(A.shape[0]):
                a = A[i]
                s = 0.0
                for k in range(a.shape[0]):
                    x = a[k]
                    y = b[k]
                    s += abs(x - y) / max(abs(x) + abs(y), tiny)
                out[i, j] = s

    return {"manhattan": manhattan, "canberra": canberra}


def old_nearest(features, points, metric, kernels):
    """nearest_leaf as before: mixed float32/float64 input in float64, 64 MB blocks of D."""
    from embtree.distances import pairwise_blocks

    if metric not in kernels:
        return nearest_leaf(features, points, metric)
    A = features.astype(np.float64)
    B = np.ascontiguousarray(points, dtype=np.float64)
    out = np.empty(len(A), dtype=np.int64)
    rows_per_block = max(1, (64 * 2**20) // (8 * len(B)))
    for s in range(0, len(A), rows_per_block):
        a = np.ascontiguousarray(A[s : s + rows_per_block])
        D = np.empty((len(a), len(B)))
        kernels[metric](a, B, np.finfo(np.float64).tiny, D)
        out[s : s + len(a)] = D.argmin(axis=1)
    return out


def bench_nearest(args):
    from embtree.distances import set_threads

    X, y, names, ref = planted_tree(depth=3, branching=10, dim=768, samples_per_class=50, seed=0)
    G = class_centroids(X, y, len(names))
    print(f"nearest_leaf: {X.shape[0]} samples x {len(G)} float64 centroids x {X.shape[1]} dims, "
          f"old kernel on {args.old_rows} samples extrapolated")  # fmt: skip
    old_k = _old_kernels()
    sub = slice(0, args.old_rows)
    for metric in ("manhattan", "canberra"):  # compile (cached on disk) outside the timing
        nearest_leaf(X[:64], G[:300], metric)
        old_nearest(X[:64], G[:300], metric, old_k)
    old_time = {}
    for threads in (1, 2):
        set_threads(threads)
        for metric in ("euclidean", "manhattan", "canberra"):
            t = time.perf_counter()
            new = nearest_leaf(X, G, metric)
            t_new = time.perf_counter() - t
            t = time.perf_counter()
            old = old_nearest(X[sub], G, metric, old_k)
            t_old = (time.perf_counter() - t) * len(X) / len(old)
            old_time[threads, metric] = t_old
            same = np.array_equal(old, new[sub])
            print(f"  {threads} thread(s) {metric:9s}: old {t_old:7.2f} s  new {t_new:6.2f} s  "
                  f"ratio {t_old / t_new:5.1f}x  same leaves on the old subset: {same}  "
                  f"leaf = label {np.mean(new == y):.3f}", flush=True)  # fmt: skip

    # The compare_tree job body (workflow/scripts/compare_tree.py) on the UPGMA tree.
    set_threads(2)
    tree = upgma(G, list(names))
    for metric in ("euclidean", "manhattan", "canberra"):
        t = time.perf_counter()
        compare_trees(tree, ref)
        t_cmp = time.perf_counter() - t
        t = time.perf_counter()
        Z, _ = newick_to_linkage(tree, names=list(names))
        t_link = time.perf_counter() - t
        t = time.perf_counter()
        leaf = nearest_leaf(X, G, metric)
        t_leaf = time.perf_counter() - t
        t = time.perf_counter()
        dp = tree_label_metrics(Z, leaf, y)["dp"]
        t_dp = time.perf_counter() - t
        rest = t_cmp + t_link + t_dp
        old_total = rest + old_time[2, metric]
        print(f"  compare_tree ({metric}, 2 threads): compare_trees {t_cmp:.2f} s, newick_to_linkage "
              f"{t_link:.2f} s, nearest_leaf {t_leaf:.2f} s, dendrogram purity {t_dp:.2f} s: "
              f"total {rest + t_leaf:.2f} s (old {old_total:.1f} s, ratio {old_total / (rest + t_leaf):.1f}x); "
              f"dp={dp:.4f}", flush=True)  # fmt: skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nearest", action="store_true", help="time nearest_leaf / compare_tree at 50k x 1k x 768")
    ap.add_argument("--old-rows", type=int, default=10_000, help="samples the old kernel runs on")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--ref-depth", type=int, default=2)
    ap.add_argument("--ref-branching", type=int, default=10, help="size of the naive path's trees (branching**depth leaves)")
    args = ap.parse_args()
    if args.nearest:
        return bench_nearest(args)

    ref, upgma_tree, rand = planted(args.depth, args.branching)
    n = args.branching**args.depth
    prepared = ReferenceTree(ref)
    t_prep, _ = timed(ReferenceTree, ref)
    print(f"{n} leaves: ReferenceTree (once per reference) {t_prep:.3f} s")
    for name, t in (("UPGMA recovery", upgma_tree), ("random binary", rand)):
        cold, out = timed(compare_trees, t, ref)
        warm, _ = timed(compare_trees, t, prepared)
        print(f"  {name}: compare_trees cold {cold:.3f} s, warm {warm:.3f} s; "
              + ", ".join(f"{k}={v:.4g}" for k, v in out.items()))  # fmt: skip

    ref_s, _, rand_s = planted(args.ref_depth, args.ref_branching)
    n_s = args.ref_branching**args.ref_depth
    new, out = timed(compare_trees, rand_s, ref_s)
    old, ref_out = timed(naive_path, rand_s, ref_s, repeat=1)
    same = out["rf"] == ref_out["rf"] and np.isclose(out["di"], ref_out["di"], rtol=1e-12)
    print(f"{n_s} leaves: naive path (dendropy RF + DefIn loops) {old:.3f} s, "
          f"compare_trees {new:.3f} s, ratio {old / new:.1f}x, identical rf/di: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
