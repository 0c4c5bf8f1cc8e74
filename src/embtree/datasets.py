"""Data sets: labelled images (digits, CIFAR, ImageNet, image folders) or precomputed features.

One entry point, :func:`load_dataset`, turns a dataset entry of the config into a
:class:`LabelledSet`: integer labels ``0..C-1``, class names, sample ids and, where
they exist, WordNet ids and coarse labels, plus either images (decoded lazily, one
``PIL.Image`` in RGB per sample) or a feature matrix (``features`` / ``planted-tree``).

Layouts on disk
---------------
cifar10 / cifar100 / cifar100-coarse
    torchvision's layout under ``path`` (default ``<cache_dir>/datasets``):
    ``cifar-10-batches-py/`` and ``cifar-100-python/`` (``snakemake prefetch`` downloads them).
imagenet
    ``path`` is the ILSVRC-2012 validation folder in the usual class-folder layout (one
    sub-folder per WNID, ``n01440764/ILSVRC2012_val_00000293.JPEG``; what torchvision's
    ``ImageNet`` and the ``valprep.sh`` script produce). A flat folder of images is also
    accepted together with ``labels_path``: Kaggle's ``LOC_val_solution.csv``
    (``ImageId,PredictionString``; the first token of PredictionString is the WNID).
imagefolder
    one sub-folder per class, class name = folder name; folders in sorted order.
features
    ``.npz`` with ``features`` [N, d], ``labels`` [N], ``class_names`` [C] (optional
    ``logits``, ``wnids``, ``sample_ids``, ``coarse_labels``, ``coarse_names``), or ``.npy``
    features with ``labels_path`` (``.npy``) and ``class_names`` in the config.
planted-tree
    synthetic Gaussian classes around the leaves of a known tree (:func:`planted_tree`).

WordNet ids are ``n`` + the 8-digit WordNet 3.0 noun offset (ImageNet's convention).

Over 600 lines on purpose: one loader per data-set type (seven), all sharing the same
validation, subsampling and class-name handling, which would otherwise be imported back and forth.
"""

from __future__ import annotations

import csv
import logging
import pickle
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from embtree.hierarchy.catalogue import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    CIFAR100_COARSE_CLASSES,
    CLASS_SYNSETS,
    WNID_RE,
    builtin_wnids,
    read_synsets_tsv,
    synsets_override,
)
from embtree.io import Embeddings, validate_embeddings

__all__ = [
    "LabelledSet",
    "ArrayImages",
    "FileImages",
    "load_dataset",
    "prefetch_dataset",
    "dataset_class_names",
    "planted_tree",
    "stratified_subsample",
    "builtin_wnids",
    "folder_wnids",
    "read_synsets_tsv",
    "check_tree_leaves",
    "imagenet_class_names",
    "read_image",
    "CLASS_SYNSETS",
    "CIFAR10_CLASSES",
    "CIFAR100_CLASSES",
    "CIFAR100_COARSE_CLASSES",
    "IMAGE_EXTENSIONS",
]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")

# Defaults of the config schema, so direct Python callers get the same behaviour.
_DEFAULTS = {
    "split": "test",
    "max_per_class": None,
    "subsample_seed": 0,
    "imbalance": None,
    "depth": 3,
    "branching": 2,
    "dim": 32,
    "samples_per_class": 100,
    "step_scale": 4.0,
    "decay": 0.6,
    "noise": 1.0,
    "seed": 0,
}



# --------------------------------------------------------------------------- containers


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
        from PIL import Image

        img = self.array[i]
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        return Image.fromarray(np.ascontiguousarray(img))  # uint8 (H, W, 3) -> RGB

    def subset(self, indices):
        return ArrayImages(self.array[indices])


class FileImages:
    """Images as file paths, decoded on access (a corrupt file raises naming the file).

    The paths come from torchvision's ImageFolder scan (:func:`_scan_class_folders`); its
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
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # forces the full decode, so truncation is caught here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"corrupt or unreadable image file {path}: {exc}") from exc


@dataclass
class LabelledSet:
    """A labelled data set: images (image data sets) or features (feature data sets).

    Attributes
    ----------
    labels : ndarray of shape (n_samples,), int64 in ``0..n_classes-1``
    class_names : ndarray of shape (n_classes,), str
    sample_ids : ndarray of shape (n_samples,), str
    wnids : ndarray of shape (n_classes,) or None
    coarse_labels : ndarray of shape (n_samples,) or None
    coarse_names : ndarray of shape (n_coarse,) or None
    images : ArrayImages or FileImages or None
        ``images.load(i)`` gives sample ``i`` as an RGB ``PIL.Image``.
    features : ndarray of shape (n_samples, n_features) or None
    logits : ndarray of shape (n_samples, n_logits) or None
    newick : str or None
        the true class tree (planted-tree), leaves named by ``class_names``.
    info : dict
        provenance for the sidecar JSON (type, source, split, subsampling).
    """

    labels: np.ndarray
    class_names: np.ndarray
    sample_ids: np.ndarray
    wnids: np.ndarray | None = None
    coarse_labels: np.ndarray | None = None
    coarse_names: np.ndarray | None = None
    images: ArrayImages | FileImages | None = None
    features: np.ndarray | None = None
    logits: np.ndarray | None = None
    newick: str | None = None
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.labels)

    @property
    def n_classes(self):
        return len(self.class_names)

    @property
    def is_image(self):
        return self.images is not None

    def image(self, i):
        """Sample ``i`` as an RGB ``PIL.Image``."""
        if self.images is None:
            raise ValueError("this data set holds features, not images")
        return self.images.load(i)

    def subset(self, indices):
        """The samples at ``indices`` (classes, names and WNIDs unchanged)."""
        idx = np.asarray(indices, dtype=np.int64)

        def take(a):
            return None if a is None else a[idx]

        return replace(
            self,
            labels=self.labels[idx],
            sample_ids=self.sample_ids[idx],
            coarse_labels=take(self.coarse_labels),
            features=take(self.features),
            logits=take(self.logits),
            images=None if self.images is None else self.images.subset(idx),
            info=dict(self.info),
        )

    def to_embeddings(self, features=None, logits=None) -> Embeddings:
        """An :class:`embtree.io.Embeddings` with ``features`` (default: the set's own)."""
        features = self.features if features is None else features
        logits = self.logits if logits is None else logits
        if features is None:
            raise ValueError("features is None: an image data set must be embedded first")
        return Embeddings(
            features=np.asarray(features, dtype=np.float32),
            labels=self.labels,
            class_names=self.class_names,
            logits=logits,
            sample_ids=self.sample_ids,
            wnids=self.wnids,
            coarse_labels=self.coarse_labels,
            coarse_names=self.coarse_names,
        )


# --------------------------------------------------------------------------- helpers


def stratified_subsample(labels, max_per_class, seed=0):
    """Indices keeping at most ``max_per_class`` samples of each class, seeded.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
    max_per_class : int or None
        None keeps everything.
    seed : int

    Returns
    -------
    ndarray of shape (n_kept,), int64, sorted (the original order is preserved).
    """
    labels = np.asarray(labels)
    if max_per_class is None:
        return np.arange(len(labels))
    if int(max_per_class) < 1:
        raise ValueError(f"max_per_class={max_per_class} should be >= 1 or None")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) > max_per_class:
            idx = rng.choice(idx, size=int(max_per_class), replace=False)
        keep.append(idx)
    return np.sort(np.concatenate(keep))


IMBALANCES = ("odd-half",)


def imbalance_subsample(labels, imbalance, seed=0):
    """Indices of an imbalanced subset (paper 002, section 4.1), seeded, original order kept.

    ``odd-half`` keeps half (rounded down) of the samples of every odd class index and all
    samples of the even ones, like ImageNet-1K ODD. ``None`` keeps everything.

    Parameters
    ----------
    labels : int ndarray of shape (n_samples,)
    imbalance : {None, "odd-half"}
    """
    labels = np.asarray(labels)
    if imbalance is None:
        return np.arange(len(labels))
    if imbalance not in IMBALANCES:
        raise ValueError(f"imbalance={imbalance!r} must be one of {list(IMBALANCES)} or null")
    rng = np.random.default_rng(seed)
    drop = []
    for c in np.unique(labels[labels % 2 == 1]):  # one draw per odd class
        idx = np.flatnonzero(labels == c)
        drop.append(rng.choice(idx, size=len(idx) - len(idx) // 2, replace=False))
    keep = np.ones(len(labels), dtype=bool)
    if drop:
        keep[np.concatenate(drop)] = False
    return np.flatnonzero(keep)


def check_tree_leaves(newick, class_names, source="reference tree"):
    """Raise ``ValueError`` unless the Newick tree's leaves are exactly ``class_names``."""
    import dendropy

    tree = dendropy.Tree.get(data=newick, schema="newick", preserve_underscores=True)
    leaves = [n.taxon.label for n in tree.leaf_node_iter()]
    dup = sorted({x for x in leaves if leaves.count(x) > 1})
    if dup:
        raise ValueError(f"{source}: duplicate leaf names {dup[:10]}")
    extra = sorted(set(leaves) - {str(c) for c in class_names})
    missing = sorted({str(c) for c in class_names} - set(leaves))
    if extra or missing:
        raise ValueError(
            f"{source}: leaves must equal the data set's class names; "
            f"not classes: {extra[:10]}, classes missing from the tree: {missing[:10]}"
        )
    return leaves


def _spec_get(spec, key):
    return spec.get(key, _DEFAULTS.get(key))


def _finish(data: LabelledSet, spec, source):
    """Apply ``synsets`` override and ``max_per_class``; validate."""
    if spec.get("synsets"):
        data.wnids = synsets_override(spec["synsets"], data.class_names, data.wnids)
    seed = _spec_get(spec, "subsample_seed")
    m = _spec_get(spec, "max_per_class")
    if m is not None:
        data = data.subset(stratified_subsample(data.labels, m, seed))
    imbalance = _spec_get(spec, "imbalance")
    if imbalance is not None:
        data = data.subset(imbalance_subsample(data.labels, imbalance, seed))
    present = np.unique(data.labels)
    if len(present) < 2:
        raise ValueError(f"{source}: needs at least 2 classes with samples, found {len(present)}")
    data.info.update(
        type=spec["type"], source=str(source), max_per_class=m, subsample_seed=seed, n_samples=len(data),
        imbalance=imbalance,
    )
    if data.features is not None:
        validate_embeddings(data.to_embeddings(), source=str(source))
    return data


# --------------------------------------------------------------------------- loaders


def _load_digits(spec, cache_dir, download):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # 0..16 grey levels -> uint8; the encoder transform converts to 3 channels and resizes.
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    n = len(images)
    data = LabelledSet(
        labels=bunch.target.astype(np.int64),
        class_names=np.array([str(c) for c in bunch.target_names]),
        sample_ids=np.array([f"digits/{i}" for i in range(n)]),
        images=ArrayImages(images),
        info={"split": "all"},  # load_digits has no train/test split
    )
    return _finish(data, spec, "sklearn.datasets.load_digits")


_CIFAR = {
    # type: (folder, archive, torchvision class, train files, test files)
    "cifar10": ("cifar-10-batches-py", "cifar-10-python.tar.gz", "CIFAR10",
                [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"]),
    "cifar100": ("cifar-100-python", "cifar-100-python.tar.gz", "CIFAR100", ["train"], ["test"]),
}  # fmt: skip
_CIFAR["cifar100-coarse"] = _CIFAR["cifar100"]


def _cifar_root(spec, cache_dir):
    return Path(spec.get("path") or Path(cache_dir) / "datasets")


def _load_cifar(spec, cache_dir, download):
    kind = spec["type"]
    split = _spec_get(spec, "split")
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: {kind} has splits 'train' and 'test'")
    folder, archive, _, train_files, test_files = _CIFAR[kind]
    root = _cifar_root(spec, cache_dir)
    base = root / folder
    files = [base / f for f in (train_files if split == "train" else test_files)]
    if download and not all(f.exists() for f in files):
        prefetch_dataset(spec, cache_dir)
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(
            f"{kind}: data not found ({missing[0]}). Run `snakemake prefetch` on a machine with "
            f"internet, or download {archive} from https://www.cs.toronto.edu/~kriz/cifar.html "
            f"and extract it into {root} (so that {base} exists)."
        )
    # The pickles are read here, not by torchvision's CIFAR10 / CIFAR100 (used to download
    # them): those md5-check every file of both splits on each load and drop CIFAR-100's
    # coarse labels, which cifar100 (superclasses) and cifar100-coarse need.
    xs, fine, coarse = [], [], []
    for f in files:
        with open(f, "rb") as fh:
            entry = pickle.load(fh, encoding="latin1")  # the official CIFAR format is a pickle
        xs.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        fine.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        coarse.extend(entry.get("coarse_labels", []))
    images = np.concatenate(xs).transpose(0, 2, 3, 1)  # NCHW -> NHWC
    n = len(images)
    sample_ids = np.array([f"{kind}/{split}/{i}" for i in range(n)])
    fine = np.asarray(fine, dtype=np.int64)
    if kind == "cifar10":
        data = LabelledSet(fine, np.array(CIFAR10_CLASSES), sample_ids, wnids=builtin_wnids(CIFAR10_CLASSES))
    elif kind == "cifar100":
        data = LabelledSet(
            fine,
            np.array(CIFAR100_CLASSES),
            sample_ids,
            wnids=builtin_wnids(CIFAR100_CLASSES),
            coarse_labels=np.asarray(coarse, dtype=np.int64),
            coarse_names=np.array(CIFAR100_COARSE_CLASSES),
        )
    else:  # cifar100-coarse: the 20 superclasses are the classes (no WordNet synsets)
        data = LabelledSet(np.asarray(coarse, dtype=np.int64), np.array(CIFAR100_COARSE_CLASSES), sample_ids)
    data.images = ArrayImages(images)
    data.info["split"] = split
    return _finish(data, spec, base)


def _is_image(path):
    """An image file by its extension (:data:`IMAGE_EXTENSIONS`), hidden files excluded."""
    return not Path(path).name.startswith(".") and Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _image_files(folder):
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and _is_image(p))


def _scan_class_folders(root):
    """torchvision's ImageFolder scan (sorted class folders, files sorted per folder), plus
    what it lacks: hidden folders / files skipped, at least 2 classes, an error naming an
    empty class folder (ImageFolder names only the class)."""
    from torchvision.datasets.folder import find_classes, make_dataset

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    names = [c for c in find_classes(str(root))[0] if not c.startswith(".")]
    if len(names) < 2:
        raise ValueError(f"{root}: needs at least 2 class sub-folders, found {len(names)}")
    samples = make_dataset(str(root), {c: i for i, c in enumerate(names)}, is_valid_file=_is_image, allow_empty=True)
    labels = np.asarray([c for _, c in samples], dtype=np.int64)
    empty = [names[c] for c in np.flatnonzero(np.bincount(labels, minlength=len(names)) == 0)]
    if empty:
        raise ValueError(
            f"class folder {root / empty[0]} contains no images (extensions: {', '.join(IMAGE_EXTENSIONS)})"
        )
    return names, [Path(p) for p, _ in samples], labels


def folder_wnids(names):
    """WNIDs of class folders: the folder names when all of them are WNIDs, else the built-in
    table's (:func:`builtin_wnids`; None where unknown)."""
    return np.array(names) if all(WNID_RE.match(n) for n in names) else builtin_wnids(names)


def _load_imagefolder(spec, cache_dir, download):
    root = Path(spec["path"])
    names, paths, labels = _scan_class_folders(root)
    wnids = folder_wnids(names)
    data = LabelledSet(
        labels,
        np.array(names),
        np.array([str(p.relative_to(root)) for p in paths]),
        wnids=wnids,
        images=FileImages(paths),
        info={"split": _spec_get(spec, "split")},
    )
    return _finish(data, spec, root)


def imagenet_class_names(wnids):
    """Readable, unique, Newick-safe names for ImageNet WNIDs (timm's ImageNet-1k lemmas).

    The first lemma, spaces -> ``_``, apostrophes dropped; the two lemmas that occur twice in
    ImageNet-1k (crane, maillot) get the WNID appended. Unknown WNIDs keep the WNID as name.
    """
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    known = set(info.label_names())
    names = []
    for w in wnids:
        if w in known:
            lemma = info.label_name_to_description(w).split(",")[0].strip()
            names.append(re.sub(r"[^A-Za-z0-9_.-]", "", lemma.replace(" ", "_")))
        else:
            names.append(w)
    counts = {n: names.count(n) for n in names}
    return np.array([f"{n}_{w}" if counts[n] > 1 else n for n, w in zip(names, wnids)])


def _load_imagenet(spec, cache_dir, download):
    root = Path(spec["path"])
    if not root.is_dir():
        raise FileNotFoundError(f"ImageNet folder not found: {root}")
    subdirs = [p for p in root.iterdir() if p.is_dir() and WNID_RE.match(p.name)]
    if subdirs:
        wnids, paths, labels = _scan_class_folders(root)
        bad = [w for w in wnids if not WNID_RE.match(w)]
        if bad:
            raise ValueError(f"{root}: ImageNet class folders must be WNIDs (n + 8 digits), found {bad[:5]}")
    else:
        if not spec.get("labels_path"):
            raise ValueError(
                f"{root}: no WNID sub-folders; for a flat validation folder set labels_path "
                "to LOC_val_solution.csv"
            )
        solution = {}
        with open(spec["labels_path"], newline="") as fh:
            for row in csv.DictReader(fh):
                solution[row["ImageId"]] = row["PredictionString"].split()[0]
        files = _image_files(root)
        unlabelled = [f.name for f in files if f.stem not in solution]
        if unlabelled:
            raise ValueError(f"{spec['labels_path']}: no label for images {unlabelled[:5]} in {root}")
        wnids = sorted({solution[f.stem] for f in files})
        index = {w: i for i, w in enumerate(wnids)}
        paths = files
        labels = np.array([index[solution[f.stem]] for f in files], dtype=np.int64)
    # Readable class names (tables, trees, figures); the WNIDs travel beside them (`wnids`), and
    # the reference job matches resources/hierarchies/imagenet.nwk's WNID leaves through them.
    data = LabelledSet(
        labels,
        imagenet_class_names(wnids),
        np.array([str(Path(p).relative_to(root)) for p in paths]),
        wnids=np.array(wnids),
        images=FileImages(paths),
        info={"split": _spec_get(spec, "split")},
    )
    return _finish(data, spec, root)


def _load_features(spec, cache_dir, download):
    path = Path(spec["path"])
    if not path.exists():
        raise FileNotFoundError(f"features file not found: {path}")
    arrays = {}
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        elif path.suffix == ".npy":
            arrays["features"] = np.load(path, allow_pickle=False)
            if not spec.get("labels_path"):
                raise ValueError(f"{path}: a .npy features file needs labels_path (a .npy of int labels)")
            arrays["labels"] = np.load(spec["labels_path"], allow_pickle=False)
        else:
            raise ValueError(f"{path}: features file must be .npz or .npy, got '{path.suffix}'")
    except Exception as exc:  # zip / CRC / header / object-array errors: name the file
        if str(path) in str(exc):
            raise
        raise ValueError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    for key in ("features", "labels"):
        if key not in arrays:
            raise ValueError(f"{path}: missing array '{key}' (has: {sorted(arrays)})")
    class_names = spec.get("class_names")
    if class_names is None:
        if "class_names" not in arrays:
            raise ValueError(f"{path}: no 'class_names' array in the file and none in the config")
        class_names = arrays["class_names"]
    class_names = np.asarray(class_names).astype(str)
    X = arrays["features"]
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{path}: 'features' must be numeric, got dtype {X.dtype}")
    y = arrays["labels"]
    if y.ndim == 1 and np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    n = len(X)
    data = LabelledSet(
        labels=y,
        class_names=class_names,
        sample_ids=np.asarray(arrays["sample_ids"]).astype(str) if "sample_ids" in arrays
        else np.array([str(i) for i in range(n)]),
        wnids=np.asarray(arrays["wnids"]).astype(str) if "wnids" in arrays else builtin_wnids(class_names),
        coarse_labels=arrays.get("coarse_labels"),
        coarse_names=np.asarray(arrays["coarse_names"]).astype(str) if "coarse_names" in arrays else None,
        features=X,
        logits=arrays.get("logits"),
        info={"split": None},
    )  # fmt: skip
    # Check before subsampling so the message describes the user's file, not a subset.
    validate_embeddings(data.to_embeddings(features=X), source=str(path))
    data.labels = data.labels.astype(np.int64)
    data.features = np.asarray(X, dtype=np.float32)
    return _finish(data, spec, path)


def planted_tree(depth=3, branching=2, dim=32, samples_per_class=100, step_scale=4.0, decay=0.6,
                 noise=1.0, seed=0):  # fmt: skip
    """Gaussian classes around the leaves of a complete tree (a known hierarchy).

    Node means follow a branching random walk from the origin: a child's mean is its
    parent's plus ``N(0, s_l^2 I)`` with ``s_l = step_scale * decay**l`` for a parent at
    level ``l`` (root: 0). Each leaf is a class; its samples are the leaf mean plus
    ``N(0, noise^2 I)``. Sibling leaves are therefore closer (in expectation) than
    cousins whenever ``decay < 1``, and the true tree is the generating tree.

    Parameters
    ----------
    depth : int >= 1
    branching : int >= 2
    dim : int >= 1
    samples_per_class : int >= 1
    step_scale, decay, noise : float > 0
    seed : int

    Returns
    -------
    features : ndarray of shape (branching**depth * samples_per_class, dim), float32
        class-major order.
    labels : ndarray of shape (n_samples,), int64
    class_names : ndarray of shape (branching**depth,), str
        ``c`` + the child indices along the path, e.g. ``c0_1_1``.
    newick : str
        the generating tree, leaves named by ``class_names`` (topology only).
    """
    for name, value, low in (("depth", depth, 1), ("branching", branching, 2), ("dim", dim, 1),
                             ("samples_per_class", samples_per_class, 1)):  # fmt: skip
        if int(value) != value or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}")
    for name, value in (("step_scale", step_scale), ("decay", decay), ("noise", noise)):
        if not value > 0:
            raise ValueError(f"{name}={value!r} should be > 0")
    n_classes = branching**depth
    if n_classes > 100_000:
        raise ValueError(f"branching**depth = {n_classes} classes is too many (max 100000)")
    rng = np.random.default_rng(seed)
    means = np.zeros((1, dim))
    paths = [()]
    for level in range(depth):  # breadth-first: level by level, children in order
        steps = rng.normal(0.0, step_scale * decay**level, size=(len(means), branching, dim))
        means = (means[:, None, :] + steps).reshape(-1, dim)
        paths = [p + (k,) for p in paths for k in range(branching)]
    class_names = np.array(["c" + "_".join(map(str, p)) for p in paths])
    labels = np.repeat(np.arange(n_classes), samples_per_class)
    features = means[labels] + rng.normal(0.0, noise, size=(len(labels), dim))

    def newick(prefix):
        if len(prefix) == depth:
            return "c" + "_".join(map(str, prefix))
        return "(" + ",".join(newick(prefix + (k,)) for k in range(branching)) + ")"

    return features.astype(np.float32), labels.astype(np.int64), class_names, newick(()) + ";"


def _load_planted(spec, cache_dir, download):
    params = {k: _spec_get(spec, k) for k in
              ("depth", "branching", "dim", "samples_per_class", "step_scale", "decay", "noise", "seed")}  # fmt: skip
    X, y, names, nwk = planted_tree(**params)
    data = LabelledSet(
        labels=y,
        class_names=names,
        sample_ids=np.array([f"planted/{i}" for i in range(len(y))]),
        features=X,
        newick=nwk,
        info={"split": None, "planted_tree": params},
    )
    return _finish(data, spec, "planted-tree")


_LOADERS = {
    "digits": _load_digits,
    "cifar10": _load_cifar,
    "cifar100": _load_cifar,
    "cifar100-coarse": _load_cifar,
    "imagenet": _load_imagenet,
    "imagefolder": _load_imagefolder,
    "features": _load_features,
    "planted-tree": _load_planted,
}


def load_dataset(spec, *, cache_dir="resources/cache", download=False) -> LabelledSet:
    """Load the data set described by a config entry (``config['datasets'][name]``).

    Parameters
    ----------
    spec : dict
        the dataset entry; ``type`` selects the loader (see the module docstring).
    cache_dir : str or Path
        the config's ``cache_dir``; CIFAR lives in ``<cache_dir>/datasets`` unless ``path`` is set.
    download : bool
        fetch torchvision data sets when missing (only ``snakemake prefetch`` should).

    Returns
    -------
    LabelledSet
        after the optional ``synsets`` override and ``max_per_class`` subsampling.
    """
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"spec={spec!r} should be a dict with a 'type' key")
    if spec["type"] not in _LOADERS:
        raise ValueError(f"spec['type']={spec['type']!r} is not one of {sorted(_LOADERS)}")
    return _LOADERS[spec["type"]](spec, cache_dir, download)


def dataset_class_names(spec, *, cache_dir="resources/cache"):
    """The class names of a data set, cheaply where they are known without reading the data."""
    kind = spec.get("type")
    if kind == "cifar10":
        return np.array(CIFAR10_CLASSES)
    if kind == "cifar100":
        return np.array(CIFAR100_CLASSES)
    if kind == "cifar100-coarse":
        return np.array(CIFAR100_COARSE_CLASSES)
    if kind == "digits":
        return np.array([str(i) for i in range(10)])
    if kind == "planted-tree":
        return planted_tree(_spec_get(spec, "depth"), _spec_get(spec, "branching"), dim=1, samples_per_class=1)[2]
    return load_dataset(spec, cache_dir=cache_dir).class_names


def prefetch_dataset(spec, cache_dir="resources/cache"):
    """Download a torchvision data set (CIFAR) into its root; a no-op for local data sets.

    Returns the directory the data is in, or None when nothing needs downloading.
    """
    kind = spec.get("type")
    if kind not in _CIFAR:
        log.info("dataset type %s: nothing to download", kind)
        return None
    import torchvision

    root = _cifar_root(spec, cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    cls = getattr(torchvision.datasets, _CIFAR[kind][2])
    for train in (True, False):  # one archive holds both splits; check both
        cls(str(root), train=train, download=True)
    return root / _CIFAR[kind][0]
