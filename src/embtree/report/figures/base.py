"""Figure helpers shared by every report figure: atomic PNG + SVG saving, placeholders and
"no data" notes (a figure or panel without data says so instead of showing empty axes)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from embtree.io import savefig


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (``.png``) and the same name with ``.svg``, atomically and
    deterministically (:func:`embtree.io.savefig`)."""
    path = Path(path)
    out = []
    # One tight bounding box for both formats: bbox_inches="tight" would draw each figure an
    # extra time per format (most of the cost of report regeneration).
    bbox = fig.get_tightbbox().padded(0.1)
    for p in (path.with_suffix(".png"), path.with_suffix(".svg")):
        out.append(savefig(fig, p, dpi=100 if p.suffix == ".png" else None, bbox_inches=bbox))
    plt.close(fig)
    return out


NO_DATA = "no data"


def placeholder_figure(message):
    """A figure that states what is missing (partial reports keep every figure slot visible)."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    ax.axis("off")
    return fig


def no_data_figure(reason):
    """A figure that says ``no data: <reason>`` (an input with nothing to draw)."""
    return placeholder_figure(f"{NO_DATA}: {reason}")


def no_data_panel(ax, reason):
    """Turn ``ax`` into a note ``no data: <reason>`` (a panel of a larger figure with nothing to draw)."""
    ax.cla()
    ax.text(0.5, 0.5, f"{NO_DATA}: {reason}", ha="center", va="center", fontsize=8, wrap=True,
            transform=ax.transAxes)
    ax.axis("off")
    return ax
