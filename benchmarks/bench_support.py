"""Benchmark: the cost of bootstrap clade support in the tree stage, at the ImageNet-val shape.

    .venv/bin/python benchmarks/bench_support.py [--depth 3 --branching 10] [--per-class 50] [--dim 768]
        [--n-boot 100] [--timed-boot 20]

Synthetic data of ImageNet-val's shape (``planted_tree``, depth 3 x branching 10 = 1,000
classes, 50 samples each, 768 dims; classifier-like logits, 50,000 x 1,000) and CAEC final
clusters faked as member subsets (each class's samples plus 20 % foreign ones). Times, per
unit of the pipeline, what a job does today and what the bootstrap adds
(``trees.bootstrap`` = ``--n-boot`` replicates; timed on ``--timed-boot`` and scaled
linearly, its cost being per replicate):

* relation trees of one CAEC metric (G, P x 3 tree metrics) + the before/ trees (3): UPGMA,
  Newick, dendrogram figure (one drawn, times 9), and the comparison job body (RF / clades /
  DI against the planted reference, each sample's nearest leaf, dendrogram purity);
  bootstrap: :func:`embtree.relation_trees.upgma_support` on resampled G^f / P / G.
* L2H ``classifier``: L2H on the logits + scores + figure; bootstrap: one L2H run per replicate.
* L2H ``agglomerative``: PCA + Ward on 10,000 samples + scores + figure; bootstrap: Ward's
  K - 1 merges over resampled clusters. (``kmeans`` is left out: its k-means fit, minutes at
  this shape, dwarfs everything else, so its ratio is the closest to 1.)

Prints every time and the ratio (today + bootstrap) / today: the issue's bound is 2.
"""

import argparse
import io as _io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from embtree.centroids import class_centroids
from embtree.data.planted import planted_tree
from embtree.hierarchy.compare import ReferenceTree, compare_trees
from embtree.hierarchy.newick import linkage_to_newick
from embtree.hierarchy.scores import hierarchy_scores
from embtree.l2h import build_hierarchy, hierarchy_support
from embtree.relation_trees import (TREE_METRICS, class_point_replicates, cluster_point_replicates, nearest_leaf,
                                    tree_label_metrics, upgma_linkage, upgma_support)
from embtree.report.figures.l2h import plot_dendrogram


def clock(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return time.perf_counter() - t, out


def figure_seconds(Z, names, support=None):
    t = time.perf_counter()
    fig = plot_dendrogram(Z, names, title="t", ylabel="d", support=support)
    fig.savefig(_io.BytesIO(), format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return time.perf_counter() - t


def fake_clusters(y, rng, foreign=0.2):
    """CSR members: each class's samples plus ``foreign`` times as many random other samples."""
    C = int(y.max()) + 1
    members = []
    for k in range(C):
        own = np.flatnonzero(y == k)
        extra = rng.choice(np.flatnonzero(y != k), size=int(foreign * len(own)), replace=False)
        members.append(np.sort(np.concatenate([own, extra])))
    indptr = np.concatenate([[0], np.cumsum([len(m) for m in members])])
    return indptr, np.concatenate(members)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--per-class", type=int, default=50)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--n-boot", type=int, default=100, help="trees.bootstrap the ratio is for")
    ap.add_argument("--timed-boot", type=int, default=20, help="replicates actually timed (scaled to --n-boot)")
    ap.add_argument("--skip-l2h", action="store_true")
    args = ap.parse_args()
    scale = args.n_boot / args.timed_boot
    rng = np.random.default_rng(0)
    X, y, names, ref = planted_tree(depth=args.depth, branching=args.branching, dim=args.dim,
                                    samples_per_class=args.per_class, seed=0)
    names = list(names)
    C = len(names)
    print(f"shape: {len(X)} samples x {args.dim} dims, {C} classes; bootstrap {args.n_boot} replicates "
          f"(timed {args.timed_boot}, scaled x{scale:g})", flush=True)

    # ---- relation trees: one CAEC metric's 6 trees + the 3 before/ trees
    indptr, members = fake_clusters(y, rng)
    group = np.repeat(np.arange(C), np.diff(indptr))
    Gc = class_centroids(X, y, C)
    Gf = np.stack([X[members[indptr[k]:indptr[k + 1]]].mean(0, dtype=np.float64) for k in range(C)])
    own = y[members] == group
    P = np.stack([X[members[indptr[k]:indptr[k + 1]]][own[indptr[k]:indptr[k + 1]]].mean(0, dtype=np.float64)
                  for k in range(C)])
    prepared = ReferenceTree(ref)
    t_build = t_cmp = 0.0
    trees_caec, trees_before = {}, {}
    for metric in TREE_METRICS:
        for point, pts, into in (("G", Gf, trees_caec), ("P", P, trees_caec), ("G", Gc, trees_before)):
            t, Z = clock(upgma_linkage, pts, metric)
            t += clock(linkage_to_newick, Z, names)[0]
            into[metric, point] = Z
            t_build += t
            nwk = linkage_to_newick(Z, names)
            t_c = clock(compare_trees, nwk, prepared)[0]
            t_c += clock(lambda: tree_label_metrics(Z, nearest_leaf(X, pts, metric), y))[0]
            t_cmp += t_c
    n_trees = len(trees_caec) + len(trees_before)
    t_fig = figure_seconds(trees_caec["euclidean", "G"], names)
    t_fig_s = figure_seconds(trees_caec["euclidean", "G"], names, support=np.full(C - 1, 0.5))
    today = t_build + n_trees * t_fig + t_cmp
    t_caec, _ = clock(upgma_support, trees_caec,
                      cluster_point_replicates(X, y, indptr, members, np.arange(C), Gc, args.timed_boot))
    t_before, _ = clock(upgma_support, trees_before,
                        ({"G": g} for g in class_point_replicates(X, y, args.timed_boot, n_classes=C)))
    boot = scale * (t_caec + t_before) + n_trees * (t_fig_s - t_fig)
    print(f"relation trees ({n_trees}: 6 of one CAEC metric + 3 before/): UPGMA + Newick {t_build:.1f} s, "
          f"figures {n_trees} x {t_fig:.2f} s, comparison jobs {t_cmp:.1f} s: today {today:.1f} s", flush=True)
    print(f"  bootstrap: CAEC G/P {scale * t_caec:.1f} s, before/ {scale * t_before:.1f} s, support labels on "
          f"the figures {n_trees} x {t_fig_s - t_fig:.2f} s: +{boot:.1f} s; ratio {(today + boot) / today:.2f}x",
          flush=True)
    if args.skip_l2h:
        return

    # ---- L2H: classifier and agglomerative
    L = rng.normal(size=(len(y), C)).astype(np.float32)
    L[np.arange(len(y)), y] += 4.0
    for source in ("classifier", "agglomerative"):
        t_h, h = clock(build_hierarchy, source, X, y, names, L, pca_components=50, max_samples=10_000, seed=0)
        t_s = clock(hierarchy_scores, h["linkage"], h["leaf_of_sample"], y)[0]
        t_n = clock(linkage_to_newick, h["linkage"], h["names"])[0]
        t_cmpl = clock(compare_trees, linkage_to_newick(h["linkage"], h["names"]), prepared)[0]
        t_f = figure_seconds(h["linkage"], h["names"])
        today = t_h + t_s + t_n + t_cmpl + t_f
        t_b, _ = clock(hierarchy_support, h, y, args.timed_boot, seed=0)
        boot = scale * t_b + (t_fig_s - t_fig)
        print(f"L2H {source}: build {t_h:.1f} s, scores {t_s:.1f} s, comparison {t_cmpl:.1f} s, figure "
              f"{t_f:.1f} s: today {today:.1f} s; bootstrap +{boot:.1f} s ({scale * t_b / args.n_boot:.3f} s per "
              f"replicate); ratio {(today + boot) / today:.2f}x", flush=True)


if __name__ == "__main__":
    main()
