"""Linear probe refitted on paper 002 table 2's benchmarks of a run (embtree.probe): the leaf subset,
leaf HZR and p-HZR labels (those that differ from the classes) and the coarse labels of
heads.coarse_depths. results/{dataset}/{encoder}/probe/variants.tsv: the probe's rows with a
``variant`` column (``leaf``, ``leaf_hzr``, ``p_hzr``, ``depth{d}``)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from embtree.data.store import load_embeddings, load_eval_embeddings  # noqa: E402
from embtree.heads.hzr import VARIANTS, variant_labels  # noqa: E402
from embtree.hierarchy.granularity import coarsen_classes  # noqa: E402
from embtree.io import write_table  # noqa: E402
from embtree.probe import PROBE_COLUMNS, linear_probe  # noqa: E402

emb = load_embeddings(snakemake.input.embeddings)
held = (load_eval_embeddings(snakemake.input.eval_embeddings[0], emb) if snakemake.input.eval_embeddings
        else None)
p = snakemake.params.probe
with np.load(snakemake.input.hzr) as z:
    variants = {k: z[k] for k in z.files}
benchmarks = []  # (name, fit mask, fit labels, eval mask, eval labels)
for v in VARIANTS:
    mask, y = variant_labels(emb.labels, variants, v)
    if (v == "leaf" and mask.all()) or (v != "leaf" and np.array_equal(y, emb.labels)):
        continue  # the classes themselves: the probe's own metrics.tsv
    ev = variant_labels(held.labels, variants, v, "eval_") if held is not None else (None, None)
    benchmarks.append((v, mask, y, *ev))
for d in snakemake.params.depths:
    coarse, _ = coarsen_classes(Path(snakemake.input.reference[0]).read_text(), emb.class_names, int(d))
    benchmarks.append((f"depth{d}", np.ones(len(emb.labels), bool), coarse[emb.labels],
                       *((np.ones(len(held.labels), bool), coarse[held.labels]) if held is not None else (None, None))))
rows = []
for name, mask, y, emask, ey in benchmarks:
    if held is None:
        # Stratified CV needs probe.folds samples per class: a class relabelling left smaller is
        # left out of this probe (n_samples says how many samples it scored).
        counts = np.bincount(y)
        keep = counts[y] >= p["folds"]
        if (~keep).any():
            log.warning("%s: %d samples of %d classes with < %d samples left out of the probe", name,
                        int((~keep).sum()), int(((counts > 0) & (counts < p["folds"])).sum()), p["folds"])
        X, y = emb.features[mask][keep], y[keep]
        Xe = None
    else:
        X, Xe = emb.features[mask], held.features[emask]
    with threadpool_limits(snakemake.threads):
        out = linear_probe(X, y, Xe, ey, Cs=p["Cs"], folds=p["folds"], max_iter=p["max_iter"], seed=p["seed"])
    for row in out:
        log.info("probe on %s, %s (%s): ACC %.4f at C = %g", name, row["split"], row["protocol"], row["acc"], row["C"])
        rows.append({"variant": name, **row})
write_table(snakemake.output.variants, pd.DataFrame(rows, columns=["variant"] + PROBE_COLUMNS))
