"""Benchmark: tree comparison (RF, clade recall/precision, Deformity Index) at 1,000 leaves.

    .venv/bin/python benchmarks/bench_trees.py [--branching 10] [--depth 3] [--ref-branching 10 --ref-depth 2]

Times :func:`embtree.trees.compare_trees` on a planted reference (``planted-tree``,
depth 3, branching 10: 1,000 leaves, 110 clades) against a random binary tree and the
reference's own UPGMA recovery, both cold (the reference parsed in the call) and
warm (a :class:`~embtree.trees.ReferenceTree` prepared once). The reference path is
the straightforward one: a fresh dendropy namespace per comparison for RF, and the
Deformity Index as the authors' DefIn program computes it (per clade, per target
node, dendropy MRCA calls); it is too slow at 1,000 leaves, so it runs on a smaller
planted tree (``--ref-branching`` ** ``--ref-depth`` leaves), where the values are
checked equal and the ratio printed. Set ``OMP_NUM_THREADS=1`` for
single-thread numbers.
"""

import argparse
import time

import numpy as np

from embtree import datasets, trees


def defin_reference(target, reference):
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


def reference_path(target, reference):
    import dendropy
    from dendropy.calculate import treecompare

    tns = dendropy.TaxonNamespace()
    a = trees.parse_newick(target, tns, rooted=False)
    b = trees.parse_newick(reference, tns, rooted=False)
    return {"rf": treecompare.symmetric_difference(a, b), "di": defin_reference(target, reference)}


def timed(f, *args, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def planted(depth, branching, seed=0):
    X, y, names, ref = datasets.planted_tree(depth=depth, branching=branching, dim=16, samples_per_class=5,
                                             decay=0.35, noise=0.3, seed=seed)  # fmt: skip
    upgma = trees.upgma(trees.class_centroids(X, y), names)
    rng = np.random.default_rng(seed)
    rand = trees.upgma(rng.normal(size=(len(names), 4)), names)
    return ref, upgma, rand


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--ref-depth", type=int, default=2)
    ap.add_argument("--ref-branching", type=int, default=10, help="reference path size (branching**depth leaves)")
    args = ap.parse_args()

    ref, upgma, rand = planted(args.depth, args.branching)
    n = args.branching**args.depth
    prepared = trees.ReferenceTree(ref)
    t_prep, _ = timed(trees.ReferenceTree, ref)
    print(f"{n} leaves: ReferenceTree (once per reference) {t_prep:.3f} s")
    for name, t in (("UPGMA recovery", upgma), ("random binary", rand)):
        cold, out = timed(trees.compare_trees, t, ref)
        warm, _ = timed(trees.compare_trees, t, prepared)
        print(f"  {name}: compare_trees cold {cold:.3f} s, warm {warm:.3f} s; "
              + ", ".join(f"{k}={v:.4g}" for k, v in out.items()))  # fmt: skip

    ref_s, _, rand_s = planted(args.ref_depth, args.ref_branching)
    n_s = args.ref_branching**args.ref_depth
    new, out = timed(trees.compare_trees, rand_s, ref_s)
    old, ref_out = timed(reference_path, rand_s, ref_s, repeat=1)
    same = out["rf"] == ref_out["rf"] and np.isclose(out["di"], ref_out["di"], rtol=1e-12)
    print(f"{n_s} leaves: reference path (dendropy RF + DefIn loops) {old:.3f} s, "
          f"compare_trees {new:.3f} s, ratio {old / new:.1f}x, identical rf/di: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
