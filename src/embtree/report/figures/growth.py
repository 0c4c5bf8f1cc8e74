"""CAEC paper fig. 3: cluster growth curves read from ``caec/{metric}/growth.npz``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from embtree.report.figures.base import no_data_figure, no_data_panel

#: y-axis name of every growth panel (CAEC eq. 3-4 increments).
GROWTH_YLABEL = "new embeddings per step"


def growth_curves(arrays, n_classes=4):
    """Arguments of :func:`plot_growth` / :func:`plot_growth_grid` from a CAEC ``growth.npz``.

    Reads the keys of ``docs/design.md``: per-step increments ``target`` / ``other`` with
    their ``radii``, and ``class_names``; a file holding only the cumulative counts ``Y`` /
    ``Z`` is differenced (radii shifted to each step's end). The first ``n_classes`` classes
    are kept (all when ``n_classes`` is 0).
    """
    if "target" in arrays and "other" in arrays:
        inc = (arrays["target"], arrays["other"])
        radii = arrays.get("radii")
    elif "Y" in arrays and "Z" in arrays:
        inc = tuple(np.diff(np.asarray(arrays[k], dtype=float), axis=-1) for k in ("Y", "Z"))
        radii = arrays.get("radii")
        radii = None if radii is None else np.asarray(radii, dtype=float)[..., 1:]
    else:
        raise ValueError(f"growth arrays have none of the known count keys (target/other, Y/Z); got {sorted(arrays)}")
    target, other = (np.atleast_2d(np.asarray(x, dtype=float)) for x in inc)
    C = target.shape[0]
    names = arrays.get("class_names")
    names = [str(n) for n in names] if names is not None else [str(k) for k in range(C)]
    keep = slice(None) if not n_classes else slice(0, int(n_classes))
    if radii is not None and np.ndim(radii) == 2:
        radii = radii[keep]
    out = {"target": target[keep], "other": other[keep], "class_names": names[keep], "radii": radii}
    for key in ("r_b", "r_f"):  # bounding and final radius per class (eq. 3-4), marked in the plot
        if key in arrays:
            out[key] = np.asarray(arrays[key], dtype=float)[keep]
    return out


def _check_growth(target, other, class_names):
    target = np.atleast_2d(np.asarray(target, dtype=float))
    other = np.atleast_2d(np.asarray(other, dtype=float))
    if target.shape != other.shape:
        raise ValueError(f"target shape {target.shape} != other shape {other.shape}")
    if len(class_names) != target.shape[0]:
        raise ValueError(f"len(class_names)={len(class_names)} != target rows {target.shape[0]}")
    return target, other


def _steps_x(radii, k, n_steps):
    """x values of class ``k``: its radii ((C, T) or (T,)), or the step numbers 1..T."""
    if radii is None:
        return np.arange(1, n_steps + 1)
    r = np.asarray(radii, dtype=float)
    return r[k] if r.ndim == 2 else r


def plot_growth(target, other, class_names, *, radii=None, r_f=None, r_b=None, title=""):
    """CAEC paper fig. 3 for one run: one panel per class, growth of target and other classes.

    Parameters
    ----------
    target, other : ndarray of shape (n_classes, n_steps)
        Per-step increments |Y_{r+1}| - |Y_r| and |Z_{r+1}| - |Z_r| (``growth.npz``), padded
        with NaN after a class stops growing.
    class_names : sequence of str, length n_classes (the panel titles)
    radii : ndarray of shape (n_classes, n_steps) or (n_steps,), optional x values (default: step).
    r_f, r_b : ndarray of shape (n_classes,), optional radii marked with vertical lines.

    Returns
    -------
    matplotlib Figure
    """
    target, other = _check_growth(target, other, class_names)
    n = max(len(class_names), 1)
    ncols = min(n, 2)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(class_names):]:
        ax.set_visible(False)
    for k, ax in enumerate(axes.flat[: len(class_names)]):
        valid = ~np.isnan(target[k])
        if not valid.any():
            no_data_panel(ax, f"{class_names[k]}: the cluster never grew (no growth step recorded)")
            continue
        x = _steps_x(radii, k, target.shape[1])[valid]
        ax.plot(x, target[k, valid], label="target |Y_{r+1}|-|Y_r|", lw=1.2)
        ax.plot(x, other[k, valid], label="other |Z_{r+1}|-|Z_r|", lw=1.2)
        if r_f is not None:
            ax.axvline(r_f[k], color="k", ls="--", lw=0.8, label="r_f")
        if r_b is not None:
            ax.axvline(r_b[k], color="r", ls=":", lw=0.8, label="r_b")
        ax.set_title(str(class_names[k]))
        ax.set_xlabel("radius r (distance in the cluster metric)" if radii is not None else "step r")
        ax.set_ylabel(GROWTH_YLABEL)
    if axes.flat[0].lines:
        axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_growth_grid(rows, *, title=""):
    """Growth curves of several runs (one column per cluster metric), one row per class.

    Each panel shows, against the radius, the target increments |Y_{r+1}| - |Y_r| in blue and
    the other-class increments |Z_{r+1}| - |Z_r| in red (CAEC paper fig. 3), with the bounding
    radius r_b (dashed) and the final radius r_f (dotted) of eq. 3-4 when the arrays carry them.

    Parameters
    ----------
    rows : list of (label, dict)
        One entry per column; each dict holds the arguments of :func:`plot_growth`
        (``target``, ``other``, ``class_names``, optional ``radii``, ``r_b``, ``r_f``).
    """
    if not rows:
        return no_data_figure(f"{title + ': ' if title else ''}no CAEC growth arrays")
    checked = [(label, *_check_growth(c["target"], c["other"], c["class_names"]), c) for label, c in rows]
    n = len(checked)
    n_rows = max(t.shape[0] for _, t, _, _ in checked)
    fig, axes = plt.subplots(n_rows, n, figsize=(3.2 * n + 0.6, 1.5 * n_rows + 0.9), squeeze=False)
    for j, (label, target, other, c) in enumerate(checked):
        radii = c.get("radii")
        for k in range(n_rows):
            ax = axes[k, j]
            ax.tick_params(labelsize=7)
            if k >= target.shape[0]:
                ax.set_visible(False)
                continue
            if j == 0:
                ax.set_ylabel(f"class {c['class_names'][k]}\n{GROWTH_YLABEL}", fontsize=7)
            if k == 0:
                ax.set_title(label, fontsize=9)
            if not np.isfinite(target[k]).any():
                no_data_panel(ax, "the cluster never grew")
                continue
            x = _steps_x(radii, k, target.shape[1])
            ax.plot(x, target[k], color="tab:blue", lw=1, label="target |Y_{r+1}|-|Y_r|")
            ax.plot(x, other[k], color="tab:red", lw=1, label="other |Z_{r+1}|-|Z_r|")
            for key, style in (("r_b", "--"), ("r_f", ":")):
                if c.get(key) is not None and np.isfinite(c[key][k]):
                    ax.axvline(c[key][k], color="0.3", ls=style, lw=1, label=key)
        axes[min(target.shape[0], n_rows) - 1, j].set_xlabel(
            f"radius r ({label} distance)" if radii is not None else "step r", fontsize=8)
    drawn = [ax for ax in axes.flat if ax.lines]  # a panel may be a "no data" note
    handles, labels = drawn[0].get_legend_handles_labels() if drawn else ([], [])
    if labels:
        fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=len(labels), frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95 if title else 1))
    return fig
