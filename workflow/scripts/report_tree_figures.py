"""Relation trees and L2H / agglomerative hierarchies, each next to the reference tree when there is one."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

from embtree import report as R  # noqa: E402

p = snakemake.params
for run in p.runs:
    gone = [f for f in (run["tree"], run["reference"]) if f and not Path(f).exists()]
    if gone:
        if not p.partial:
            raise R.MissingResultsError(f"tree figure needs {', '.join(gone)} (file not found)")
        fig = R.placeholder_figure(f"{R.MISSING}: {', '.join(gone)}")
    elif run["reference"]:
        fig = R.plot_tree_pair(Path(run["tree"]).read_text(), Path(run["reference"]).read_text(),
                               title=run["title"], left_title=run["left"])
    else:
        fig = R.plot_tree(Path(run["tree"]).read_text(), title=run["title"])[0].figure
    R.save_figure(fig, run["out"])
    log.info("wrote %s", run["out"])
