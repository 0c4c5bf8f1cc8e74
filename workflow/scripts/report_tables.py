"""Every report table (CSV + Markdown + LaTeX), the metric heatmaps and the L2H dendrograms.

The L2H runtime table (paper 001 table 2) reads the L2H jobs' Snakemake benchmark files
(params.l2h_benchmarks) where they exist; a missing one is a note in the table, not an error.
"""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

from embtree import report as R  # noqa: E402
from embtree.report.findings import caption_html, with_caption  # noqa: E402
from embtree.settings import settings_note  # noqa: E402

p = snakemake.params
outdir = Path(snakemake.output.l2h[0]).parent  # results/report (every table sits there)
data, missing = R.load_families(p.specs, partial=p.partial)
l2h_benchmarks = R.load_benchmarks(p.l2h_benchmarks)
if len(l2h_benchmarks[1]):
    log.warning("L2H runtime table: %d job(s) without a benchmark file (noted in the table)", len(l2h_benchmarks[1]))
sections = R.build_all_tables(
    data, missing, caec_datasets=p.caec_datasets, reference_datasets=p.reference_datasets, order=p.order,
    merge_expand_n_seeds=len(p.merge_expand_seeds), l2h_n_seeds=dict(p.l2h_n_seeds), baselines=list(p.baselines),
    l2h_benchmarks=l2h_benchmarks,
    flat_settings=dict(p.flat_settings),
    # Per-class tables of more classes than report.max_table_classes: by superclass of the reference.
    references={ds: Path(f).read_text() for ds, f in dict(p.references).items() if Path(f).exists()},
    max_table_classes=p.max_table_classes,
)
# The caption of each section's tables (input captions, in the order of CAPTION_OF's values),
# shown on the table's HTML page itself: the report shows the page, the caption only behind its ⓘ.
CAPTION_OF = {"caec": "caec_tables", "trees": "tree_tables", "l2h": "l2h_table", "flat": "flat_tables",
              "cross": "cross_table", "merge_expand": "merge_expand_table"}
CAPTION_OF_TABLE = {"l2h_runtime": "l2h_runtime"}  # tables with a caption of their own
captions = {Path(f).stem: caption_html(Path(f).read_text(), {"snakemake": snakemake}) for f in snakemake.input.captions}
for section, tables in sections.items():
    note = settings_note(p.changed_settings, section)
    for table in tables:
        if note:  # a table pasted from its .md / .tex / .csv keeps the caption's caution
            table.notes.append(note)
        html_path = [path for path in R.write_report_table(table, outdir) if path.suffix == ".html"][0]
        caption = captions.get(CAPTION_OF_TABLE.get(table.name, CAPTION_OF.get(section)))
        html_path.write_text(with_caption(html_path.read_text(), caption))
        log.info("%s: wrote %s (%d x %d)", section, table.name, *table.values.shape)
# Built from the summaries (the same flags as the tables): the report's CAEC tables may have the
# data set as a row level (stack_level), and the heatmap needs the wide layout.
heatmap = R.plot_caec_heatmaps(data["summary"], order=p.order, baselines=list(p.baselines))
R.save_figure(heatmap, snakemake.output.caec_heatmap[0])
R.save_figure(R.plot_flat_heatmap(data["flat"], order=p.order), snakemake.output.flat_heatmap[0])
R.save_figure(R.plot_flat_group_heatmap(data["flat"], dict(p.flat_settings), order=p.order),
              snakemake.output.flat_groups[0])

# L2H / agglomerative hierarchies, next to the reference when there is one.
for run in p.tree_figures:
    R.save_figure(R.tree_figure(run, partial=p.partial, style=p.tree_style), run["out"])
    log.info("wrote %s", run["out"])
