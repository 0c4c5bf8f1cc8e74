"""Merge & Expand on a run's embeddings for one seed of merge_expand.seeds (embtree.merge_expand);
seconds per phase go to the log.

labels.npz: labels, clean, regions, seeds, partition, included, filtered, skipped.
scores.npz: m1, m2, m3, g_s, g_r, seeds, partition.
metrics.tsv (one row per split, with its seed: ``fit``, and ``eval`` for a held-out evaluation set,
whose samples the final classifier assigns; the clean / unclean demarcation is the fit set's
regions', so the eval row has the all-sample scores only), neighbours.tsv (fig. 4c histogram),
heatmaps.png (fig. 3c), neighbours.png.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from embtree import merge_expand as me  # noqa: E402
from embtree.io import atomic_path, save_npz, write_table  # noqa: E402
from embtree.data.store import load_embeddings, load_eval_embeddings  # noqa: E402
from embtree.report.figures.merge_expand import plot_consistent_neighbours, plot_me_scores  # noqa: E402

wc, p = snakemake.wildcards, snakemake.params
emb = load_embeddings(snakemake.input.embeddings)
held = (load_eval_embeddings(snakemake.input.eval_embeddings[0], emb) if snakemake.input.get("eval_embeddings")
        else None)


def load_images(part, n):
    from embtree.data.datasets import load_dataset

    data = load_dataset(p.dataset_spec, part=part, cache_dir=p.cache_dir)
    out = np.stack([np.asarray(data.image(i)) for i in range(len(data))]).transpose(0, 3, 1, 2)
    if len(out) != n:
        raise ValueError(f"{len(out)} images but {n} embeddings ({part} set): data set and embeddings differ")
    return out


images = eval_images = None
if p.me["input"] == "images":
    images = load_images("fit", len(emb.labels))
    if held is not None:
        eval_images = load_images("eval", len(held.labels))

torch.set_num_threads(snakemake.threads)
start = time.perf_counter()
with threadpool_limits(snakemake.threads):
    res = me.merge_expand(emb.features, images=images, seed=p.seed,
                          max_quadratic_samples=p.max_quadratic_samples,
                          eval_features=None if held is None else held.features, eval_images=eval_images, **p.me)
    consistent = me.consistent_neighbours(emb.features, emb.labels, k=10)
for phase, secs in res.seconds.items():
    log.info("seconds %s: %.2f", phase, secs)
log.info("seconds total: %.2f", time.perf_counter() - start)

save_npz(snakemake.output.labels, labels=res.labels, clean=res.clean, regions=res.regions, seeds=res.seeds,
         partition=res.partition, included=res.included, filtered=res.filtered, skipped=res.skipped,
         **({} if held is None else {"eval_labels": res.eval_labels}))
save_npz(snakemake.output.scores, m1=res.m1, m2=res.m2, m3=res.m3, g_s=res.g_s, g_r=res.g_r, seeds=res.seeds,
         partition=res.partition)

scores = me.clean_scores(emb.labels, res.labels, res.clean)
row = {
    "dataset": wc.dataset, "encoder": wc.encoder, "seed": p.seed, "split": "fit", "n_samples": len(res.labels),
    "n_classes": int(len(np.unique(emb.labels))), "n_clusters": res.n_clusters,
    "n_regions": int(res.regions.max()) + 1, "n_seeds": len(res.seeds),
    "n_clean": int(res.clean.sum()), "clean_fraction": float(res.clean.mean()),
    **scores,
    "consistent_all": float(consistent.mean()),
    "consistent_clean": float(consistent[res.clean].mean()) if res.clean.any() else float("nan"),
    "consistent_unclean": float(consistent[~res.clean].mean()) if (~res.clean).any() else float("nan"),
    "n_iterations": res.n_iterations,
}
rows = [row]
if held is not None:
    # The clean / unclean demarcation lives on the fit set's regions: the held-out row has the
    # all-sample scores; its clean / unclean and consistency columns stay empty.
    held_scores = me.clean_scores(held.labels, res.eval_labels, np.zeros(len(held.labels), bool))
    rows.append({
        "dataset": wc.dataset, "encoder": wc.encoder, "seed": p.seed, "split": "eval",
        "n_samples": len(held.labels), "n_classes": int(len(np.unique(held.labels))),
        "n_clusters": int(len(np.unique(res.eval_labels))), "n_regions": row["n_regions"],
        "n_seeds": row["n_seeds"], **{k: v for k, v in held_scores.items() if k.endswith("_all")},
        "n_iterations": res.n_iterations,
    })
for r in rows:
    log.info("metrics (%s): %s", r["split"], r)
write_table(snakemake.output.metrics, pd.DataFrame(rows))

bins = np.arange(11)
hist = pd.DataFrame({
    "dataset": wc.dataset, "encoder": wc.encoder, "consistent": bins,
    "clean": np.bincount(consistent[res.clean], minlength=11),
    "unclean": np.bincount(consistent[~res.clean], minlength=11),
    "all": np.bincount(consistent, minlength=11),
})
write_table(snakemake.output.neighbours, hist)

title = f"{wc.dataset} / {wc.encoder} (seed {p.seed})"
for fig, out in ((plot_me_scores(res.m1, res.m2, res.m3, res.partition, title=f"{title}: pairwise seed scores"),
                  snakemake.output.heatmaps),
                 (plot_consistent_neighbours(hist, k=10, title=f"{title}: consistent neighbours"),
                  snakemake.output.neighbours_png)):
    # Agg PNGs carry no date; a fixed metadata dict keeps reruns byte-identical.
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)
