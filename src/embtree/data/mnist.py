"""MNIST in torchvision's on-disk layout, and MNIST-TRAN (paper 003, section III.B).

:func:`read_idx`
    One IDX file (``*-idx3-ubyte`` images, ``*-idx1-ubyte`` labels; ``.gz`` too) as an array.
:func:`mnist_files`
    Where torchvision keeps a split: ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.
:func:`translate`
    Images shifted by a displacement vector on a canvas of a given size, zeros elsewhere.
:func:`mnist_tran`
    MNIST-TRAN: per digit, a seeded choice of images replaced by their copies under each of the
    fixed displacement vectors.

The paper: "500 images of each digit are randomly selected, and each image undergoes
translations with two fixed displacement vectors (total: (5500 + 500 + 500) x 10)". It gives
neither the vectors nor the canvas; embtree's defaults (the config schema's ``translations``,
``canvas_size``) and the reading of the total are in ``docs/methods/merge-expand.md``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

__all__ = ["MNIST_FILES", "read_idx", "mnist_files", "translate", "mnist_tran"]

#: split -> (images file, labels file), as torchvision's ``MNIST`` extracts them into ``MNIST/raw``.
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def mnist_files(root, split):
    """``(images, labels)`` paths of ``split`` ("train" or "test") under a torchvision root."""
    if split not in MNIST_FILES:
        raise ValueError(f"split={split!r}: MNIST has splits 'train' and 'test'")
    base = Path(root) / "MNIST" / "raw"
    return tuple(base / name for name in MNIST_FILES[split])


def read_idx(path):
    """An IDX file (LeCun's MNIST format) as a uint8 array of the shape its header states.

    Reads ``path`` or, when only that exists, ``path.gz``. Header: two zero bytes, the type
    code (0x08 = unsigned byte), the number of dimensions, then each dimension as a
    big-endian int32.
    """
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".gz").exists():
        path = path.with_name(path.name + ".gz")
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says shape {dims}, the file holds {data.size} values")
    return data.reshape(dims).copy()


def translate(images, dx, dy, canvas_size=None):
    """Images moved by ``(dx, dy)`` pixels on a ``canvas_size`` square canvas (zeros elsewhere).

    The image is centred on the canvas (offset ``(canvas_size - H) // 2``), then shifted: the
    pixel at row ``r``, column ``c`` goes to row ``r + offset + dy``, column ``c + offset + dx``
    (``dx`` > 0 moves right, ``dy`` > 0 moves down); pixels pushed past the canvas edge are lost.

    Parameters
    ----------
    images : ndarray of shape (n, H, W)
    dx, dy : int
    canvas_size : int, optional
        side of the square canvas, at least ``max(H, W)`` (default: ``H``, the image's own size,
        requiring square images then).

    Returns
    -------
    ndarray of shape (n, canvas_size, canvas_size), the input's dtype
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, H, W), got {images.shape}")
    n, h, w = images.shape
    size = h if canvas_size is None else int(canvas_size)
    if size < max(h, w):
        raise ValueError(f"canvas_size={size} should be >= the image size {max(h, w)}")
    out = np.zeros((n, size, size), dtype=images.dtype)
    r0, c0 = (size - h) // 2 + int(dy), (size - w) // 2 + int(dx)
    # The part of the shifted image that lies on the canvas.
    rs, re_ = max(r0, 0), min(r0 + h, size)
    cs, ce = max(c0, 0), min(c0 + w, size)
    if rs < re_ and cs < ce:
        out[:, rs:re_, cs:ce] = images[:, rs - r0 : re_ - r0, cs - c0 : ce - c0]
    return out


def mnist_tran(images, labels, *, translations, per_class, canvas_size=None, keep_originals=False, seed=0):
    """MNIST-TRAN (paper 003, section III.B): each digit's ``per_class`` seeded-chosen images
    under each displacement vector of ``translations``.

    Parameters
    ----------
    images : ndarray of shape (n, H, W)
    labels : ndarray of shape (n,), int
    translations : sequence of (dx, dy)
        the paper's "two fixed displacement vectors" (see :func:`translate` for the axes).
    per_class : int
        images chosen per class (the paper: 500); a class with fewer contributes all of its.
    canvas_size : int, optional
        every image, moved or not, sits on this canvas (default: the images' own size).
    keep_originals : bool
        False (the paper's total, (5500 + 500 + 500) x 10): the chosen images appear only
        translated. True (its "adding 10000 images"): the originals stay as well.
    seed : int
        seeds the choice.

    Returns
    -------
    images : ndarray of shape (m, canvas_size, canvas_size)
        the originals kept (in input order), then the chosen images under the first vector,
        then under the second, ... (each block in input order).
    labels : ndarray of shape (m,), int64
    source : ndarray of shape (m,), int64, the input row each output image comes from
    moved : ndarray of shape (m,), int64, index into ``translations`` (-1: not translated)
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or labels.shape != (len(images),):
        raise ValueError(f"images (n, H, W) and labels (n,) expected, got {images.shape} and {labels.shape}")
    translations = [tuple(int(v) for v in t) for t in translations]
    if not translations or any(len(t) != 2 for t in translations):
        raise ValueError(f"translations={translations!r} should be a non-empty list of (dx, dy) pairs")
    if int(per_class) < 1:
        raise ValueError(f"per_class={per_class} should be >= 1")
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        chosen[rng.choice(members, size=min(int(per_class), len(members)), replace=False)] = True
    picked = np.flatnonzero(chosen)
    kept = np.arange(len(labels)) if keep_originals else np.flatnonzero(~chosen)
    parts = [translate(images[kept], 0, 0, canvas_size)]
    parts += [translate(images[picked], dx, dy, canvas_size) for dx, dy in translations]
    source = np.concatenate([kept] + [picked] * len(translations)).astype(np.int64)
    moved = np.concatenate([np.full(len(kept), -1)]
                           + [np.full(len(picked), t) for t in range(len(translations))]).astype(np.int64)
    return np.concatenate(parts), labels[source].astype(np.int64), source, moved
