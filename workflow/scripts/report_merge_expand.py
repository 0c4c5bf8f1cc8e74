"""Merge & Expand report figures: per run the seed score heat maps (fig. 3c) and the
consistent-neighbour histograms (fig. 4c) of one seed of merge_expand.seeds (the first); a
placeholder where a run's output is missing."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import os  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from embtree import report as R  # noqa: E402

for run in snakemake.params.runs:
    name = f"{run['dataset']} / {run['encoder']} (seed {run['seed']})"
    if os.path.exists(run["scores"]):
        with np.load(run["scores"]) as s:
            fig = R.plot_me_scores(s["m1"], s["m2"], s["m3"], s["partition"], title=f"{name}: pairwise seed scores")
    else:
        fig = R.placeholder_figure(f"{name}: Merge & Expand scores missing")
    R.save_figure(fig, run["out_scores"])
    if os.path.exists(run["neighbours"]):
        fig = R.plot_consistent_neighbours(pd.read_csv(run["neighbours"], sep="\t"), k=10,
                                           title=f"{name}: consistent neighbours")
    else:
        fig = R.placeholder_figure(f"{name}: Merge & Expand neighbour histogram missing")
    R.save_figure(fig, run["out_neighbours"])
    log.info("wrote %s, %s", run["out_scores"], run["out_neighbours"])
