"""Growth curves (CAEC paper fig. 3) of a few evenly spaced classes of one CAEC run."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402

from embtree import io  # noqa: E402
from embtree import report as R  # noqa: E402

with np.load(snakemake.input.growth, allow_pickle=False) as data:
    g = {k: data[k] for k in data.files}
C = len(g["classes"])
n = min(int(snakemake.params.n_classes), C)
rows = np.unique(np.linspace(0, C - 1, n).round().astype(int)) if n else np.arange(0)
fig = R.plot_growth(g["target"][rows], g["other"][rows], [g["class_names"][k] for k in rows],
                    radii=g["radii"][rows], r_f=g["r_f"][rows], r_b=g["r_b"][rows])
with io.atomic_path(snakemake.output.png) as tmp:
    fig.savefig(tmp, dpi=110)
log.info("plotted classes %s", [str(g["class_names"][k]) for k in rows])
