"""Growth curves (CAEC paper fig. 3) of a few evenly spaced classes, one figure per CAEC run of a (dataset, encoder)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from embtree import io  # noqa: E402
from embtree import report as R  # noqa: E402

for growth, png in zip(snakemake.input.growth, snakemake.output.png, strict=True):
    with np.load(growth, allow_pickle=False) as data:
        g = {k: data[k] for k in data.files}
    C = len(g["classes"])
    n = min(int(snakemake.params.n_classes), C)
    rows = np.unique(np.linspace(0, C - 1, n).round().astype(int)) if n else np.arange(0)
    fig = R.plot_growth(g["target"][rows], g["other"][rows], [g["class_names"][k] for k in rows],
                        radii=g["radii"][rows], r_f=g["r_f"][rows], r_b=g["r_b"][rows])
    io.savefig(fig, png, dpi=110)
    plt.close(fig)
    log.info("%s: plotted classes %s", png, [str(g["class_names"][k]) for k in rows])
