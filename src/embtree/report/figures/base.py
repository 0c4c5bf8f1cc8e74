"""Figure helpers shared by every report figure: atomic PNG + SVG saving, placeholders."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from embtree.io import atomic_path


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (``.png``) and the same name with ``.svg``, atomically."""
    path = Path(path)
    out = []
    # One tight bounding box for both formats: bbox_inches="tight" would draw each figure an
    # extra time per format (most of the cost of report regeneration).
    bbox = fig.get_tightbbox().padded(0.1)
    for p in (path.with_suffix(".png"), path.with_suffix(".svg")):
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=100 if p.suffix == ".png" else None, bbox_inches=bbox, format=p.suffix[1:])
        out.append(p)
    plt.close(fig)
    return out



def placeholder_figure(message):
    """A figure that states what is missing (partial reports keep every figure slot visible)."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    ax.axis("off")
    return fig
