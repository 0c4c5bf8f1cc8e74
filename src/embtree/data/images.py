"""Image containers and image files: what an image data set holds, and how folders are read.

Public names
------------
:data:`IMAGE_EXTENSIONS`; :class:`ArrayImages`, :class:`FileImages` (``load(i)`` -> RGB
``PIL.Image``, ``subset(indices)``); :func:`read_image`, :func:`is_image_file`,
:func:`image_files`, :func:`scan_class_folders`, :func:`folder_wnids`, :func:`thumbnails`.

Nothing here opens an image before it is asked for: folders are listed, files decoded on access.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from embtree.hierarchy.catalogue import WNID_RE, builtin_wnids

__all__ = [
    "IMAGE_EXTENSIONS",
    "ArrayImages",
    "FileImages",
    "read_image",
    "is_image_file",
    "image_files",
    "scan_class_folders",
    "folder_wnids",
    "thumbnails",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")


class ArrayImages:
    """Images held in memory as uint8 ``(N, H, W)`` or ``(N, H, W, 3)``."""

    def __init__(self, array):
        array = np.asarray(array)
        if array.dtype != np.uint8 or array.ndim not in (3, 4):
            raise ValueError(f"array must be uint8 (N, H, W[, 3]), got {array.dtype} {array.shape}")
        self.array = array

    def __len__(self):
        return len(self.array)

    def load(self, i):
        img = self.array[i]
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        return Image.fromarray(np.ascontiguousarray(img))  # uint8 (H, W, 3) -> RGB

    def subset(self, indices):
        return ArrayImages(self.array[indices])


class FileImages:
    """Images as file paths, decoded on access (a corrupt file raises naming the file).

    The paths come from torchvision's ImageFolder scan (:func:`scan_class_folders`); its
    ``pil_loader`` is not used because it raises PIL's error without the file name.
    """

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]

    def __len__(self):
        return len(self.paths)

    def load(self, i):
        return read_image(self.paths[i])

    def subset(self, indices):
        return FileImages([self.paths[i] for i in np.asarray(indices)])


def read_image(path):
    """Decode ``path`` to an RGB ``PIL.Image``; ``ValueError`` naming the file if unreadable."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # forces the full decode, so truncation is caught here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"corrupt or unreadable image file {path}: {exc}") from exc


def is_image_file(path):
    """An image file by its name (:data:`IMAGE_EXTENSIONS`, any case), hidden files excluded.

    Only the name is read: the caller checks that ``path`` is a file where it matters.
    """
    return not Path(path).name.startswith(".") and Path(path).suffix.lower() in IMAGE_EXTENSIONS


def image_files(folder):
    """The image files directly in ``folder`` (:func:`is_image_file`), sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_image_file(p))


def scan_class_folders(root):
    """torchvision's ImageFolder scan (sorted class folders, files sorted per folder), plus
    what it lacks: hidden folders / files skipped, at least 2 classes, an error naming an
    empty class folder (ImageFolder names only the class).

    Returns
    -------
    names : list of str
        the class folders, sorted.
    paths : list of Path
    labels : ndarray of shape (n_images,), int64
    """
    # Deferred: torchvision (the `encoders` extra) imports torch, seconds per process.
    from torchvision.datasets.folder import find_classes, make_dataset

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    names = [c for c in find_classes(str(root))[0] if not c.startswith(".")]
    if len(names) < 2:
        raise ValueError(f"{root}: needs at least 2 class sub-folders, found {len(names)}")
    samples = make_dataset(str(root), {c: i for i, c in enumerate(names)}, is_valid_file=is_image_file,
                           allow_empty=True)  # fmt: skip
    labels = np.asarray([c for _, c in samples], dtype=np.int64)
    empty = [names[c] for c in np.flatnonzero(np.bincount(labels, minlength=len(names)) == 0)]
    if empty:
        raise ValueError(
            f"class folder {root / empty[0]} contains no images (extensions: {', '.join(IMAGE_EXTENSIONS)})"
        )
    return names, [Path(p) for p, _ in samples], labels


def folder_wnids(names):
    """WNIDs of class folders: the folder names when all of them are WNIDs, else the built-in
    table's (:func:`embtree.hierarchy.catalogue.builtin_wnids`; None where unknown)."""
    return np.array(names) if all(WNID_RE.match(n) for n in names) else builtin_wnids(names)


def thumbnails(images, max_size=64):
    """Square RGB thumbnails of PIL images, one size for all, as a uint8 array.

    The side is the largest image side, capped at ``max_size``; each image is centre-cropped
    to a square and resized to it (:func:`PIL.ImageOps.fit`), so square images no larger than
    ``max_size`` (digits, MNIST, CIFAR) keep their pixels exactly.

    Returns
    -------
    ndarray of shape (n, S, S, 3), uint8
    """
    images = [img.convert("RGB") for img in images]
    if not images:
        raise ValueError("images is empty")
    side = min(int(max_size), max(max(img.size) for img in images))
    return np.stack([np.asarray(ImageOps.fit(img, (side, side), method=Image.Resampling.BILINEAR))
                     for img in images]).astype(np.uint8)
