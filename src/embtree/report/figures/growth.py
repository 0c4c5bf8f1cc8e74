"""CAEC paper fig. 3: cluster growth curves read from ``caec/{metric}/growth.npz``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


# growth.npz key pairs, first match wins: per-step increments, or cumulative counts to difference.
_GROWTH_INCREMENTS = [("target", "other"), ("dY", "dZ"), ("new_target", "new_other"), ("delta_target", "delta_other")]

_GROWTH_CUMULATIVE = [("Y", "Z"), ("n_target", "n_other"), ("target_counts", "other_counts"),
                      ("cum_target", "cum_other")]



def growth_curves(arrays, n_classes=4):
    """Arguments of :func:`plot_growth` from the arrays of a CAEC ``growth.npz``.

    Accepts per-step increments (``target`` / ``other``) or cumulative counts inside the
    radius (``Y`` / ``Z`` ...; differenced here), padded per class; optional ``radii`` and
    ``class_names``. The first ``n_classes`` classes are kept (all when ``n_classes`` is 0).
    """
    def pick(pairs):
        for a, b in pairs:
            if a in arrays and b in arrays:
                return np.asarray(arrays[a], dtype=float), np.asarray(arrays[b], dtype=float)
        return None

    inc = pick(_GROWTH_INCREMENTS)
    if inc is None:
        cum = pick(_GROWTH_CUMULATIVE)
        if cum is None:
            raise ValueError(f"growth arrays have none of the known count keys; got {sorted(arrays)}")
        inc = tuple(np.diff(c, axis=-1) for c in cum)
        radii = arrays.get("radii")
        radii = None if radii is None else np.asarray(radii, dtype=float)[..., 1:]
    else:
        radii = arrays.get("radii")
    target, other = (np.atleast_2d(x) for x in inc)
    C = target.shape[0]
    names = arrays.get("class_names")
    names = [str(n) for n in names] if names is not None else [str(k) for k in range(C)]
    if "classes" in arrays and len(names) != C:
        names = [names[int(k)] for k in np.asarray(arrays["classes"])]
    keep = slice(None) if not n_classes else slice(0, int(n_classes))
    if radii is not None and np.ndim(radii) == 2:
        radii = radii[keep]
    return {"target": target[keep], "other": other[keep], "class_names": names[keep], "radii": radii}



def _check_growth(target, other, class_names):
    target = np.atleast_2d(np.asarray(target, dtype=float))
    other = np.atleast_2d(np.asarray(other, dtype=float))
    if target.shape != other.shape:
        raise ValueError(f"target shape {target.shape} != other shape {other.shape}")
    if len(class_names) != target.shape[0]:
        raise ValueError(f"len(class_names)={len(class_names)} != target rows {target.shape[0]}")
    return target, other



def plot_growth(target, other, class_names, *, radii=None, title=""):
    """CAEC paper fig. 3: growth |Y_{r+1}| - |Y_r| (target) and |Z_{r+1}| - |Z_r| (other classes).

    Parameters
    ----------
    target, other : ndarray of shape (n_classes, n_steps)
        Per-step increments of target / non-target embeddings inside the growing ball
        (padded with NaN after a class stops growing).
    class_names : sequence of str, length n_classes
    radii : ndarray of shape (n_steps,) or (n_classes, n_steps), optional x values (default: step).

    Returns
    -------
    matplotlib Figure, one panel per class.
    """
    return plot_growth_grid([("", dict(target=target, other=other, class_names=class_names, radii=radii))],
                            title=title)



def plot_growth_grid(rows, *, title=""):
    """Growth curves of several runs (e.g. one column per cluster metric), classes overlaid.

    Top row: target increments |Y_{r+1}| - |Y_r| per class (one colour each); bottom row:
    other-class increments |Z_{r+1}| - |Z_r|, against the radius. Overlaying the classes
    keeps the figure at two panels per run (cheap to draw: report regeneration time) and puts
    the classes of one metric on a common radius axis.

    Parameters
    ----------
    rows : list of (label, dict)
        One entry per column; each dict holds the arguments of :func:`plot_growth`
        (``target``, ``other``, ``class_names``, optional ``radii``).
    """
    if not rows:
        raise ValueError("rows is empty")
    checked = [(label, *_check_growth(c["target"], c["other"], c["class_names"]), c) for label, c in rows]
    n = len(checked)
    fig, axes = plt.subplots(2, n, figsize=(3.4 * n, 4.4), squeeze=False, sharex="col")
    cmap = plt.get_cmap("tab10")
    for j, (label, target, other, c) in enumerate(checked):
        radii = c.get("radii")
        for k in range(target.shape[0]):
            if radii is None:
                x = np.arange(1, target.shape[1] + 1)
            else:
                r = np.asarray(radii, dtype=float)
                x = r[k] if r.ndim == 2 else r
            axes[0, j].plot(x, target[k], color=cmap(k % 10), lw=1, label=str(c["class_names"][k]))
            axes[1, j].plot(x, other[k], color=cmap(k % 10), lw=1)
        axes[0, j].set_title(label, fontsize=9)
        axes[1, j].set_xlabel("radius" if radii is not None else "step r", fontsize=8)
        for ax in axes[:, j]:
            ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("target |Y_{r+1}|-|Y_r|", fontsize=8)
    axes[1, 0].set_ylabel("other |Z_{r+1}|-|Z_r|", fontsize=8)
    axes[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.25, hspace=0.12, top=0.9 if title else 0.95)
    return fig
