"""CAEC growth curves (paper fig. 3), 2-D embedding scatters, relation trees next to the reference, and
the trees before and after clustering side by side (paper fig. 7)."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from embtree import report as R  # noqa: E402

p = snakemake.params


def absent(paths):
    gone = [str(f) for f in paths if not Path(f).exists()]
    if gone and not p.partial:
        raise R.MissingResultsError(f"report figures need {', '.join(gone)} (file not found)")
    return gone


for run in p.growth:
    rows = []
    for metric, path in run["growth"].items():
        if not absent([path]):
            with np.load(path, allow_pickle=False) as data:
                rows.append((metric, R.growth_curves({k: data[k] for k in data.files}, n_classes=p.n_classes)))
    gone = absent(run["growth"].values())
    fig = R.plot_growth_grid(rows, title=run["title"]) if rows else R.placeholder_figure(
        f"{R.MISSING}: {', '.join(gone)}")
    R.save_figure(fig, run["out"])
    log.info("wrote %s%s", run["out"], f" (missing: {gone})" if gone else "")

for run in p.projection:
    gone = absent([run["projection"]])
    if gone:
        fig = R.placeholder_figure(f"{R.MISSING}: {gone[0]}")
    else:
        with np.load(run["projection"], allow_pickle=False) as d:
            pre = "tsne_" if run["method"] == "tsne" else ""  # report_projection.py's arrays of that map
            centroids = {f"G^f ({p.metric})": d[f"{pre}G__{p.metric}"], f"P ({p.metric})": d[f"{pre}P__{p.metric}"]}
            fig = R.plot_projection(d[f"{pre}xy"], d["labels"], d["class_names"], centroids=centroids,
                                    title=run["title"], method=run["method"])
    R.save_figure(fig, run["out"])
    log.info("wrote %s", run["out"])

for run in p.tree_figures:
    R.save_figure(R.tree_figure(run, partial=p.partial, style=p.tree_style), run["out"])
    log.info("wrote %s", run["out"])

for run in p.before_after:
    R.save_figure(R.before_after_figure(run, partial=p.partial, style=p.tree_style), run["out"])
    log.info("wrote %s", run["out"])
