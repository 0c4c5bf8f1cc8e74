"""Every report table (CSV + Markdown + LaTeX), the metric heatmaps and the L2H dendrograms."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

from embtree import report as R  # noqa: E402
from embtree.settings import settings_note  # noqa: E402

p = snakemake.params
outdir = Path(snakemake.output.l2h[0]).parent  # results/report (every table sits there)
data, missing = R.load_families(p.specs, partial=p.partial)
sections = R.build_all_tables(
    data, missing, caec_datasets=p.caec_datasets, reference_datasets=p.reference_datasets, order=p.order,
    merge_expand_n_seeds=len(p.merge_expand_seeds), l2h_n_seeds=dict(p.l2h_n_seeds),
)
for section, tables in sections.items():
    note = settings_note(p.changed_settings, section)
    for table in tables:
        if note:  # a table pasted from its .md / .tex / .csv keeps the caption's caution
            table.notes.append(note)
        R.write_report_table(table, outdir)
        log.info("%s: wrote %s (%d x %d)", section, table.name, *table.values.shape)
R.save_figure(R.plot_caec_heatmaps(data["summary"], order=p.order), snakemake.output.caec_heatmap[0])
R.save_figure(R.plot_flat_heatmap(data["flat"], order=p.order), snakemake.output.flat_heatmap[0])

# L2H / agglomerative hierarchies, next to the reference when there is one.
for run in p.tree_figures:
    R.save_figure(R.tree_figure(run, partial=p.partial), run["out"])
    log.info("wrote %s", run["out"])
