"""Linear probe of a run (embtree.probe): results/{dataset}/{encoder}/probe/metrics.tsv."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from embtree.data.store import load_embeddings, load_eval_embeddings  # noqa: E402
from embtree.io import write_table  # noqa: E402
from embtree.probe import PROBE_COLUMNS, linear_probe  # noqa: E402

emb = load_embeddings(snakemake.input.embeddings)
p = snakemake.params.probe
held = (load_eval_embeddings(snakemake.input.eval_embeddings[0], emb) if snakemake.input.eval_embeddings
        else None)  # a held-out evaluation set: fit on the fit set, score both
with threadpool_limits(snakemake.threads):
    rows = linear_probe(emb.features, emb.labels, None if held is None else held.features,
                        None if held is None else held.labels, Cs=p["Cs"], folds=p["folds"],
                        max_iter=p["max_iter"], seed=p["seed"])
for row in rows:
    log.info("probe %s (%s): ACC %.4f, top-5 %.4f at C = %g", row["split"], row["protocol"], row["acc"],
             row["top5_acc"], row["C"])
write_table(snakemake.output.metrics, pd.DataFrame(rows, columns=PROBE_COLUMNS))
