"""One L2H hierarchy (or the agglomerative baseline) of a run: linkage, Newick, metrics, dendrogram.

params.l2h["seed"]: the {seed} wildcard of a seeded source (kmeans, temi, scanv2; one of
l2h.seeds), the first of l2h.seeds for a deterministic one (classifier, agglomerative).
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time
from pathlib import Path

import numpy as np
import pandas as pd

from embtree.report.figures.l2h import plot_dendrogram
from embtree.hierarchy.scores import hierarchy_scores
from embtree.data.store import load_embeddings
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

row = {"dataset": wc.dataset, "encoder": wc.encoder, "source": wc.source, "seed": p["seed"]}
row.update(hierarchy_scores(Z, leaf, emb.labels, max_exact=p["dp_exact_max_cells"],
                                    n_pairs=p["dp_n_pairs"], seed=p["seed"]))
newick = linkage_to_newick(Z, names)
if "reference" in snakemake.input.keys():
    reference = Path(snakemake.input.reference).read_text()
    cmp = compare_trees(newick, reference)
    row.update({k: cmp[k] for k in ("rf", "rf_norm", "clade_recall", "clade_precision", "di", "di_norm")})
    if snakemake.input.get("null"):  # chance level and p-value of each score (embtree.hierarchy.null)
        null = pd.read_csv(snakemake.input.null[0], sep="\t")  # a list: null_input gives [] or [path]
        row.update(chance_and_p(row, {score: null[score].to_numpy() for score in NULL_SCORES}))
log.info("scores: %s", row)

purity = metrics.cluster_purities(emb.labels, leaf, len(names))
title = f"{wc.dataset} / {wc.encoder}: {wc.source}" + (f" (seed {p['seed']})" if seeded else "")
fig = plot_dendrogram(Z, names, leaf_purity=purity, ylabel=h["height"], title=title)
io.savefig(fig, snakemake.output.png, dpi=120, bbox_inches="tight")
with io.atomic_path(snakemake.output.linkage, suffix=".npy") as tmp:
    np.save(tmp, Z)
io.write_text(snakemake.output.nwk, newick + "\n")
io.write_table(snakemake.output.tsv, pd.DataFrame([row]))
# Per leaf (the names of tree.nwk): purity and size, so the report's dendrograms carry the
# same "name (purity %)" labels as dendrogram.png.
io.write_table(snakemake.output.leaves, pd.DataFrame({
    "leaf": [str(n) for n in names],
    "purity": purity,
    "n_samples": np.bincount(np.asarray(leaf), minlength=len(names)),
}))
