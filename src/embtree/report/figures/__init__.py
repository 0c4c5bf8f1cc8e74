"""Report figures, one module per kind of result (every figure is saved as PNG + SVG by
:func:`embtree.report.figures.base.save_figure`)."""

import matplotlib

matplotlib.use("Agg")  # headless: report rules run on compute nodes without a display
