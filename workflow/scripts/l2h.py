"""One L2H hierarchy (or the agglomerative baseline) of a run: linkage, Newick, metrics, dendrogram.

params.l2h["seed"]: the {seed} wildcard of a seeded source (kmeans, temi, scanv2; one of
l2h.seeds), the first of l2h.seeds for a deterministic one (classifier, agglomerative); it also
seeds the bootstrap (params.l2h["bootstrap"] replicates, embtree.l2h.hierarchy_support), whose
clade support is written as internal labels (percent) in tree.nwk and drawn on dendrogram.png.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time
from pathlib import Path

import numpy as np
import pandas as pd

from embtree.report.figures.l2h import plot_dendrogram
from embtree.hierarchy.scores import hierarchy_scores
from embtree.data.store import load_embeddings, load_eval_embeddings
from embtree.hierarchy.compare import compare_trees
from embtree.hierarchy.null import NULL_SCORES, chance_and_p
from embtree.hierarchy.newick import linkage_to_newick
from embtree import io, l2h, metrics

wc = snakemake.wildcards
p = snakemake.params.l2h
emb = load_embeddings(snakemake.input.embeddings)
seeded = "seed" in wc.keys()
log.info("%s/%s source=%s seed=%d: %d samples, %d classes", wc.dataset, wc.encoder, wc.source, p["seed"],
         len(emb.labels), emb.n_classes)

logits = emb.logits
if "heads" in snakemake.input.keys():
    # A clustering head's soft assignments (paper 002): their logs are valid logits.
    with np.load(snakemake.input.heads) as heads_npz:
        logits = np.log(np.maximum(heads_npz["soft"].astype(np.float64), 1e-300))
t0 = time.perf_counter()
h = l2h.build_hierarchy(
    wc.source, emb.features, emb.labels, emb.class_names, logits,
    kmeans_temperature=p["kmeans_temperature"], pca_components=p["baseline_pca_components"],
    max_samples=p["baseline_max_samples"], seed=p["seed"],
)
log.info("hierarchy built in %.2f s", time.perf_counter() - t0)
Z, leaf, names = h["linkage"], h["leaf_of_sample"], h["names"]
n_boot = p["bootstrap"]
t0 = time.perf_counter()
support = l2h.hierarchy_support(h, emb.labels, n_boot, seed=p["seed"], n_jobs=snakemake.threads)
resampled = (f"the rows of each Ward cluster resampled {n_boot} times" if wc.source == "agglomerative"
             else f"the samples of each class resampled {n_boot} times (logits not retrained)")
log.info("bootstrap support (%s) in %.1f s", resampled, time.perf_counter() - t0)

key = {"dataset": wc.dataset, "encoder": wc.encoder, "source": wc.source, "seed": p["seed"]}
# n_leaves: the tree's leaves (paper 001 table 1's "# leaves": K for L2H and the Ward cut);
# n_samples: the samples scored (table 2's N).
row = {**key, "split": "fit", "n_leaves": len(names), "n_samples": len(emb.labels)}
row.update(hierarchy_scores(Z, leaf, emb.labels, max_exact=p["dp_exact_max_cells"],
                            n_pairs=p["dp_n_pairs"], seed=p["seed"]))
newick = linkage_to_newick(Z, names, support=support)
tree_scores = {}
if "reference" in snakemake.input.keys():
    reference = Path(snakemake.input.reference).read_text()
    cmp = compare_trees(newick, reference)
    tree_scores = {k: cmp[k] for k in ("rf", "rf_norm", "clade_recall", "clade_precision", "di", "di_norm")}
    if snakemake.input.get("null"):  # chance level and p-value of each score (embtree.hierarchy.null)
        null = pd.read_csv(snakemake.input.null[0], sep="\t")  # a list: null_input gives [] or [path]
        tree_scores.update(chance_and_p(tree_scores, {score: null[score].to_numpy() for score in NULL_SCORES}))
row.update(tree_scores)
rows = [row]
if snakemake.input.get("eval_embeddings"):
    # Paper 001: the tree is built from the fit set (training logits) and scored on the held-out
    # set; its samples are placed as the source places its own (l2h.assign_leaves). The tree, and
    # so its scores against the reference, is the fit set's: repeated in the eval row.
    held = load_eval_embeddings(snakemake.input.eval_embeddings[0], emb)
    held_logits = held.logits
    if "heads" in snakemake.input.keys():
        with np.load(snakemake.input.heads) as heads_npz:
            held_logits = np.log(np.maximum(heads_npz["eval_soft"].astype(np.float64), 1e-300))
    if wc.source == "classifier" and (held_logits is None or held_logits.shape[1] != len(names)):
        log.warning("%s has no classifier logits with one column per class: no eval row for the classifier "
                    "source", snakemake.input.eval_embeddings[0])
    else:
        held_leaf = l2h.assign_leaves(h, features=held.features, logits=held_logits)
        held_row = {**key, "split": "eval", "n_leaves": len(names), "n_samples": len(held.labels)}
        held_row.update(hierarchy_scores(Z, held_leaf, held.labels, max_exact=p["dp_exact_max_cells"],
                                         n_pairs=p["dp_n_pairs"], seed=p["seed"]))
        rows.append({**held_row, **tree_scores})
for r in rows:
    log.info("scores (%s): %s", r["split"], r)

purity = metrics.cluster_purities(emb.labels, leaf, len(names))
title = (f"{wc.dataset} / {wc.encoder}: {wc.source}" + (f" (seed {p['seed']})" if seeded else "")
         + f"\ninternal labels: bootstrap support in %, {resampled}")
fig = plot_dendrogram(Z, names, leaf_purity=purity, ylabel=h["height"], title=title, support=support)
io.savefig(fig, snakemake.output.png, dpi=120, bbox_inches="tight")
with io.atomic_path(snakemake.output.linkage, suffix=".npy") as tmp:
    np.save(tmp, Z)
io.write_text(snakemake.output.nwk, newick + "\n")
io.write_table(snakemake.output.tsv, pd.DataFrame(rows))
# Per leaf (the names of tree.nwk): purity and size, so the report's dendrograms carry the
# same "name (purity %)" labels as dendrogram.png.
io.write_table(snakemake.output.leaves, pd.DataFrame({
    "leaf": [str(n) for n in names],
    "purity": purity,
    "n_samples": np.bincount(np.asarray(leaf), minlength=len(names)),
}))
