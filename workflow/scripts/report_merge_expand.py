"""Merge & Expand report figures per run, from one seed of merge_expand.seeds (the first): t-SNE
maps by class / seed region / cluster (figs. 3a/b), the seed score heat maps (fig. 3c), example
clean and unclean images (figs. 4a/b; a features-only data set's figure says why it has none)
and the consistent-neighbour histograms (fig. 4c); a placeholder where a run's output is missing."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import os  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from embtree import report as R  # noqa: E402


def tsne_figure(run, name):
    if not (os.path.exists(run["tsne"]) and os.path.exists(run["labels"])):
        return R.placeholder_figure(f"{name}: Merge & Expand t-SNE map or labels missing")
    with np.load(run["tsne"]) as t, np.load(run["labels"]) as lab:
        i = t["index"]
        return R.plot_me_tsne(t["xy"], t["labels"], t["class_names"], lab["regions"][i], lab["seeds"],
                              lab["labels"][i], lab["clean"][i], translated=t["translated"],
                              title=f"{name}: t-SNE of {len(i)} samples")


def examples_figure(run, name):
    if run["examples"] is None:
        return R.no_data_figure(f"{name}: a '{run['dataset_type']}' data set holds features, not images, "
                                "so there are no example images (figs. 4a/b need an image data set)")
    if not os.path.exists(run["examples"]):
        return R.placeholder_figure(f"{name}: Merge & Expand example images missing")
    with np.load(run["examples"]) as e:
        return R.plot_me_examples(e["clean_thumbs"], e["clean_labels"], e["unclean_thumbs"], e["unclean_labels"],
                                  e["class_names"], title=f"{name}: clean and unclean examples")


for run in snakemake.params.runs:
    name = f"{run['dataset']} / {run['encoder']} (seed {run['seed']})"
    R.save_figure(tsne_figure(run, name), run["out_tsne"])
    if os.path.exists(run["scores"]):
        with np.load(run["scores"]) as s:
            fig = R.plot_me_scores(s["m1"], s["m2"], s["m3"], s["partition"], title=f"{name}: pairwise seed scores")
    else:
        fig = R.placeholder_figure(f"{name}: Merge & Expand scores missing")
    R.save_figure(fig, run["out_scores"])
    R.save_figure(examples_figure(run, name), run["out_examples"])
    if os.path.exists(run["neighbours"]):
        fig = R.plot_consistent_neighbours(pd.read_csv(run["neighbours"], sep="\t"), k=10,
                                           title=f"{name}: consistent neighbours")
    else:
        fig = R.placeholder_figure(f"{name}: Merge & Expand neighbour histogram missing")
    R.save_figure(fig, run["out_neighbours"])
    log.info("wrote %s, %s, %s, %s", run["out_tsne"], run["out_scores"], run["out_examples"], run["out_neighbours"])
