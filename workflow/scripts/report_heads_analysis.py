"""Heads analyses (paper 002): sweep tables and curves (figs. 5-6), TEMI - SCANv2 per encoder
(fig. 3 right), class separability table and figure (fig. 4)."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

from embtree import report as R  # noqa: E402
from embtree.report.findings import caption_html, with_caption  # noqa: E402
from embtree.settings import settings_note  # noqa: E402

p = snakemake.params
data, missing = R.load_families(p.specs, partial=p.partial)
note = settings_note(p.changed_settings, "heads")
caption = caption_html(Path(snakemake.input.captions[0]).read_text(), {"snakemake": snakemake})
tables = {Path(f).stem: f for f in snakemake.output.tables if f.endswith(".csv")}
figures = {Path(f).stem: f for f in snakemake.output.figures if f.endswith(".png")}
built = []
for sweep, name in (("knn", "heads_knn_sweep"), ("n_clusters", "heads_overclustering")):
    if name in tables:
        built.append(R.heads_sweep_table(data["sweep"], sweep, order=p.order, n_seeds=len(p.seeds)))
    if name in figures:
        R.save_figure(R.plot_heads_sweep(data["sweep"], sweep), figures[name])
if "heads_separability" in tables:
    built.append(R.heads_separability_table(data["separability"], data.get("probe"), order=p.order))
if "heads_separability" in figures:
    R.save_figure(R.plot_separability(data["separability"], data.get("probe")), figures["heads_separability"])
if "heads_gap" in figures:
    R.save_figure(R.plot_method_gap(data["heads"]), figures["heads_gap"])
for table in built:
    if note:  # a table pasted from its .md / .tex / .csv keeps the caption's caution
        table.notes.append(note)
    paths = R.write_report_table(table, Path(tables[table.name]).parent)
    html_path = [path for path in paths if path.suffix == ".html"][0]
    html_path.write_text(with_caption(html_path.read_text(), caption))
    log.info("wrote %s (%d x %d)", table.name, *table.values.shape)
