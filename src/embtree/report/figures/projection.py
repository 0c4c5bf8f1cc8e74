"""2-D embedding scatter with the CAEC cluster points (G^f, P), and its linear projection."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from embtree.report.figures.base import no_data_figure


def project_pca(X, *, n_max=5000, seed=0):
    """A 2-D PCA projection fitted on a random subsample (cheap, linear, so centroids map too).

    Linear PCA is used instead of UMAP / t-SNE because cluster centroids G and manifold mean
    points P (CAEC eq. 7-9) must be projected with the same map as the embeddings: a linear
    map sends the mean of the points to the projected mean.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_max : int, maximum number of samples kept (and used to fit)
    seed : int, random state of the subsample

    Returns
    -------
    index : ndarray of shape (n_kept,), the kept sample indices (sorted)
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (2, n_features); project ``Y`` as ``(Y - mean) @ components.T``
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 3:
        raise ValueError(f"X must be 2-D with at least 3 rows, got shape {X.shape}")
    if int(n_max) < 3:
        raise ValueError(f"n_max={n_max} should be >= 3")
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(X), size=min(int(n_max), len(X)), replace=False))
    # svd_solver="full": the exact SVD whatever the shape ("auto" may pick a randomised or
    # covariance solver); sklearn's svd_flip makes the largest |loading| positive (stable plots).
    pca = PCA(n_components=min(2, X.shape[1]), svd_solver="full").fit(X[index])
    comps = np.zeros((2, X.shape[1]))
    comps[: len(pca.components_)] = pca.components_
    mean = pca.mean_
    return index, mean, comps



def tsne_map(X, extra=(), *, seed=0, perplexity=30.0):
    """A 2-D t-SNE of the rows of ``X`` and of ``extra`` point sets, embedded jointly.

    The CAEC paper draws its embedding spaces with t-SNE (figs. 1, 4, 6). t-SNE has no map for
    new points, so the class means and cluster points (``extra``, each an array of shape
    (k, n_features)) join the samples in one embedding and are read back from it.
    scikit-learn's ``TSNE`` (Barnes-Hut, ``init="pca"``, seeded); the perplexity is capped
    at (n - 1) / 3 for small inputs.

    Returns
    -------
    (xy of shape (len(X), 2), list of arrays of shape (k, 2), one per ``extra`` set), float32
    """
    from sklearn.manifold import TSNE  # deferred: only runs that ask for t-SNE pay its import

    X = np.asarray(X, dtype=np.float64)
    parts = [np.asarray(e, dtype=np.float64).reshape(-1, X.shape[1]) for e in extra]
    Z = np.vstack([X, *parts]) if parts else X
    if len(Z) < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {len(Z)}")
    perp = float(min(perplexity, (len(Z) - 1) / 3.0))
    Y = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(Z).astype(np.float32)
    out, start = [], len(X)
    for e in parts:
        out.append(Y[start : start + len(e)])
        start += len(e)
    return Y[: len(X)], out


def plot_projection(xy, labels, class_names, *, centroids=None, title="", method="pca"):
    """2-D scatter of projected embeddings coloured by class, with cluster centroids.

    Parameters
    ----------
    xy : ndarray of shape (n_samples, 2)
    labels : ndarray of shape (n_samples,), int class indices
    class_names : sequence of str
    centroids : dict name -> ndarray of shape (n_classes, 2), optional (e.g. ``{"G": ..., "P": ...}``)
    method : {"pca", "tsne"}, what made ``xy`` (names the axes: t-SNE's have no unit)
    """
    xy = np.asarray(xy, dtype=float)
    labels = np.asarray(labels)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must have shape (n, 2), got {xy.shape}")
    if len(labels) != len(xy):
        raise ValueError(f"len(labels)={len(labels)} != len(xy)={len(xy)}")
    if not len(xy):
        return no_data_figure(f"{title + ': ' if title else ''}no embeddings to project")
    C = len(class_names)
    cmap = plt.get_cmap("tab10" if C <= 10 else "tab20" if C <= 20 else "gist_ncar")
    colors = [cmap(k / max(C - 1, 1)) if C > 20 else cmap(k) for k in range(C)]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for k in range(C):
        sel = labels == k
        ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.35, color=colors[k],
                   label=str(class_names[k]) if C <= 20 else None, rasterized=True)
    markers = ["X", "P", "D", "*", "s"]
    for m, (name, pts) in enumerate((centroids or {}).items()):
        pts = np.asarray(pts, dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], s=70, marker=markers[m % len(markers)],
                   c=[colors[k % C] for k in range(len(pts))], edgecolors="black", linewidths=0.8,
                   label=f"{name}")
    if method == "tsne":  # t-SNE coordinates have no unit: only neighbourhoods are meaningful
        ax.set_xlabel("t-SNE 1 (no unit: distances between far groups mean little)")
        ax.set_ylabel("t-SNE 2")
    else:
        ax.set_xlabel("PC 1 (embedding units)")
        ax.set_ylabel("PC 2 (embedding units)")
    if C <= 20 or centroids:
        ax.legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title, fontsize=10)
    return fig
