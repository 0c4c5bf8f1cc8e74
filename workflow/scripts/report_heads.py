"""Heads report section: tables (CSV + Markdown + LaTeX) and the calibration / coarse-depth figures."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import os  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from embtree import report as R  # noqa: E402
from embtree.report.findings import caption_html, with_caption  # noqa: E402
from embtree.settings import settings_note  # noqa: E402

p = snakemake.params
data, missing = R.load_families(p.specs, partial=p.partial)
note = settings_note(p.changed_settings, "heads")
# The caption, shown on each table's HTML page itself (the report shows the page; the caption only behind its ⓘ).
caption = caption_html(Path(snakemake.input.captions[0]).read_text(), {"snakemake": snakemake})
for table in R.build_heads_tables(data["heads"], data["heads_spread"], probe=data.get("probe"), order=p.order,
                                  multilabel=p.multilabel, n_seeds=len(p.seeds), baselines=list(p.baselines),
                                  variants=data.get("hzr"), probe_variants=data.get("probe_variants"),
                                  knn=data.get("knn"), coarse=p.coarse):
    if note:  # a table pasted from its .md / .tex / .csv keeps the caption's caution
        table.notes.append(note)
    paths = R.write_report_table(table, Path(snakemake.output.tables[0]).parent)
    html_path = [path for path in paths if path.suffix == ".html"][0]
    html_path.write_text(with_caption(html_path.read_text(), caption))
    log.info("wrote %s (%d x %d)", table.name, *table.values.shape)
runs = []
for run in p.calibration:
    if os.path.exists(run["path"]):
        with np.load(run["path"]) as z:
            runs.append({"title": run["title"], "soft": z["soft"], "targets": z["targets"]})
figures = {Path(f).stem: f for f in snakemake.output.figures if f.endswith(".png")}
R.save_figure(R.plot_calibration_grid(runs), figures["heads_calibration"])
if "heads_coarse_depths" in figures:
    R.save_figure(R.plot_coarse_depths(data["heads"]), figures["heads_coarse_depths"])
if "heads_hzr_moves" in figures:
    R.save_figure(R.plot_hzr_moves(data.get("hzr_moves")), figures["heads_hzr_moves"])
