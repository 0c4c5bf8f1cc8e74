"""embtree.report.figures.base: every kind of report figure saved as a non-empty PNG + SVG."""

import numpy as np
import pandas as pd

from embtree import report as R


def test_figures_written_and_non_empty(tmp_path, caec_summary):
    rng = np.random.default_rng(0)
    figs = {
        "growth": R.plot_growth(rng.poisson(3, (3, 12)), rng.poisson(1, (3, 12)), ["a", "b", "c"]),
        "pair": R.plot_tree_pair("((a:1,b:1):1,c:2);", "((a,c),b);"),
        "tree": R.plot_tree("((a:1,b:1):1,c:2);")[0].figure,
        "scatter": R.plot_projection(rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20), ["a", "b", "c"],
                                     centroids={"G": rng.normal(size=(3, 2))}),
        "heat": R.plot_heatmap(R.caec_metric_table(caec_summary, "purity_mean")),
        "caec_heat": R.plot_caec_heatmaps(caec_summary),
        "flat_heat": R.plot_flat_heatmap(pd.DataFrame(
            [dict(dataset="d", encoder="e", clusterer="kmeans", reducer="none", seed=s, ami=0.5) for s in (0, 1)])),
        "placeholder": R.placeholder_figure("missing: x"),
    }
    for name, fig in figs.items():
        paths = R.save_figure(fig, tmp_path / f"{name}.png")
        for p in paths:
            assert p.exists() and p.stat().st_size > 1000, p
        assert paths[0].read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in paths[1].read_bytes()[:500]
