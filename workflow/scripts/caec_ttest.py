"""Paired t-tests of per-class coverage between the CAEC distance metrics (section 4.3, table 9)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import pandas as pd  # noqa: E402

from embtree import io, stats  # noqa: E402

wc = snakemake.wildcards
coverage = {}
for metric, path in zip(snakemake.params.metrics, snakemake.input.per_class):
    df = pd.read_csv(path, sep="\t").sort_values("class")
    coverage[metric] = df["coverage"].to_numpy()
rows = stats.paired_ttests(coverage)
table = pd.DataFrame(
    [{"dataset": wc.dataset, "encoder": wc.encoder, **row, "n_classes": len(df)} for row in rows],
    columns=["dataset", "encoder", "metric_a", "metric_b", "t", "p", "significant", "n_classes"],
)
io.write_table(snakemake.output[0], table)
log.info("%d metric pairs, %d significant at p <= %g", len(table), table["significant"].sum(), stats.TTEST_ALPHA)
