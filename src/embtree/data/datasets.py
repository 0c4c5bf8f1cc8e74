"""Data sets: labelled images (digits, MNIST, CIFAR, ImageNet, image folders) or precomputed features.

Public names
------------
:func:`load_dataset` (a dataset entry of the config -> :class:`LabelledSet`),
:class:`LabelledSet`, :func:`dataset_class_names`, :func:`prefetch_dataset`,
:func:`imagenet_class_names`.

A :class:`LabelledSet` holds integer labels ``0..C-1``, class names, sample ids and, where
they exist, WordNet ids and coarse labels, plus either images (decoded lazily, one
``PIL.Image`` in RGB per sample) or a feature matrix (``features`` / ``planted-tree``).

Layouts on disk
---------------
cifar10 / cifar100 / cifar100-coarse
    torchvision's layout under ``path`` (default ``<cache_dir>/datasets``):
    ``cifar-10-batches-py/`` and ``cifar-100-python/`` (``snakemake prefetch`` downloads them).
mnist / mnist-tran
    torchvision's layout under ``path`` (default ``<cache_dir>/datasets``):
    ``MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (``snakemake prefetch``).
    mnist-tran is MNIST with each digit's ``translated_per_class`` images moved by the
    ``translations`` (paper 003, section III.B; :func:`embtree.data.mnist.mnist_tran`).
imagenet
    ``path`` is the ILSVRC-2012 validation folder in the usual class-folder layout (one
    sub-folder per WNID, ``n01440764/ILSVRC2012_val_00000293.JPEG``; what torchvision's
    ``ImageNet`` and the ``valprep.sh`` script produce). A flat folder of images is also
    accepted together with ``labels_path``: Kaggle's ``LOC_val_solution.csv``
    (``ImageId,PredictionString``; the first token of PredictionString is the WNID).
imagenet21k
    ImageNet-21K-P (winter 2021, paper 002): ``path`` is one split's folder of the processed
    release, one sub-folder per WNID (``imagenet21k_train/n00005787/...``); the other split goes
    in ``eval_path`` (``imagenet21k_val``). Class names are WordNet lemmas (timm's ImageNet-21k
    table, offline); the WNIDs travel beside them for ``reference: wordnet``.
imagefolder
    one sub-folder per class, class name = folder name; folders in sorted order.
features
    ``.npz`` with ``features`` [N, d], ``labels`` [N], ``class_names`` [C] (optional
    ``logits``, ``wnids``, ``sample_ids``, ``coarse_labels``, ``coarse_names``), or ``.npy``
    features with ``labels_path`` (``.npy``) and ``class_names`` in the config.
planted-tree
    synthetic Gaussian classes around the leaves of a known tree
    (:func:`embtree.data.planted.planted_tree`).

WordNet ids are ``n`` + the 8-digit WordNet 3.0 noun offset (ImageNet's convention).
"""

from __future__ import annotations

import collections
import csv
import logging
import pickle
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from embtree.data.images import ArrayImages, FileImages, folder_wnids, image_files, scan_class_folders
from embtree.data.mnist import mnist_files, mnist_tran, read_idx
from embtree.data.planted import PLANTED_DEFAULTS, planted_params, planted_tree
from embtree.data.store import Embeddings, validate_embeddings
from embtree.data.subsample import (
    CLASS_FREQUENCY_SUBSETS,
    frequency_classes,
    holdout_split,
    imbalance_subsample,
    stratified_subsample,
)
from embtree.hierarchy.catalogue import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    CIFAR100_COARSE_CLASSES,
    WNID_RE,
    builtin_wnids,
    synsets_override,
)

__all__ = [
    "LabelledSet",
    "load_dataset",
    "has_eval_set",
    "eval_spec",
    "prefetch_dataset",
    "dataset_class_names",
    "imagenet_class_names",
]

log = logging.getLogger(__name__)

# Defaults of the config schema, so direct Python callers get the same behaviour.
_DEFAULTS = {
    "split": "test",
    "max_per_class": None,
    "subsample_seed": 0,
    "imbalance": None,
    # mnist-tran (the config schema's defaults; docs/methods/merge-expand.md says why these)
    "translations": [[4, 0], [0, 4]],
    "translated_per_class": 500,
    "canvas_size": 28,
    "keep_originals": False,
    **PLANTED_DEFAULTS,
}


@dataclass(kw_only=True)
class LabelledSet(Embeddings):
    """A labelled data set: an :class:`embtree.data.store.Embeddings` whose features may be
    absent (an image data set, until :func:`embtree.data.extract.encode` embeds it), with its
    images, true tree and provenance.

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

    features: np.ndarray | None = None
    sample_ids: np.ndarray
    images: ArrayImages | FileImages | None = None
    newick: str | None = None
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.labels)

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

    def keep_classes(self, classes):
        """The samples of the label values ``classes`` (sorted), relabelled ``0..len(classes)-1``
        in that order; class names and WNIDs follow."""
        classes = np.asarray(classes, dtype=np.int64)
        lookup = np.full(len(self.class_names), -1, dtype=np.int64)
        lookup[classes] = np.arange(len(classes))
        out = self.subset(np.flatnonzero(lookup[self.labels] >= 0))
        out.labels = lookup[out.labels]
        out.class_names = np.asarray(self.class_names)[classes]
        out.wnids = None if self.wnids is None else np.asarray(self.wnids)[classes]
        return out

    def to_embeddings(self, features=None, logits=None) -> Embeddings:
        """An :class:`embtree.data.store.Embeddings` with ``features`` (default: the set's own)."""
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


def _spec_get(spec, key):
    return spec.get(key, _DEFAULTS.get(key))


def _finish(data: LabelledSet, spec, source):
    """Apply ``synsets`` override, the held-out part of ``eval_fraction`` and ``max_per_class``; validate."""
    if spec.get("synsets"):
        data.wnids = synsets_override(spec["synsets"], data.class_names, data.wnids)
    seed = _spec_get(spec, "subsample_seed")
    imbalance = _spec_get(spec, "imbalance")
    if spec.get("_keep_class_names") is not None:  # an evaluation set: the fit set's classes
        index = {str(c): i for i, c in enumerate(data.class_names)}
        absent = [c for c in spec["_keep_class_names"] if c not in index]
        if absent:
            raise ValueError(f"{source}: the evaluation set lacks classes {absent[:10]} of the fit set")
        data = data.keep_classes(sorted(index[c] for c in spec["_keep_class_names"]))
    elif imbalance in CLASS_FREQUENCY_SUBSETS:
        # Whole classes by their number of samples in the data as given (before any subsampling).
        keep = frequency_classes(data.labels, imbalance, spec["imbalance_percentiles"], spec.get("imbalance_top", 10.0))
        data = data.keep_classes(keep)
        data.info["class_frequency_subset"] = {"kind": imbalance, "percentiles": list(spec["imbalance_percentiles"]),
                                               "n_classes": len(keep)}
    holdout = spec.get("_holdout")  # (part, fraction), set by eval_spec / load_dataset(part=...)
    if holdout is not None:
        fit_idx, eval_idx = holdout_split(data.labels, holdout[1], seed)
        data = data.subset(fit_idx if holdout[0] == "fit" else eval_idx)
        data.info["holdout"] = {"part": holdout[0], "fraction": holdout[1]}
        if not len(data):
            raise ValueError(f"{source}: eval_fraction={holdout[1]} leaves the {holdout[0]} part empty")
    m = _spec_get(spec, "max_per_class")
    if m is not None:
        data = data.subset(stratified_subsample(data.labels, m, seed))
    if imbalance is not None and imbalance not in CLASS_FREQUENCY_SUBSETS:
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
    from sklearn.datasets import load_digits  # deferred: sklearn.datasets takes seconds to import

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


def _torchvision_root(spec, cache_dir):
    return Path(spec.get("path") or Path(cache_dir) / "datasets")


def _load_cifar(spec, cache_dir, download):
    kind = spec["type"]
    split = _spec_get(spec, "split")
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: {kind} has splits 'train' and 'test'")
    folder, archive, _, train_files, test_files = _CIFAR[kind]
    root = _torchvision_root(spec, cache_dir)
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
        data = LabelledSet(labels=fine, class_names=np.array(CIFAR10_CLASSES), sample_ids=sample_ids,
                           wnids=builtin_wnids(CIFAR10_CLASSES))  # fmt: skip
    elif kind == "cifar100":
        data = LabelledSet(
            labels=fine,
            class_names=np.array(CIFAR100_CLASSES),
            sample_ids=sample_ids,
            wnids=builtin_wnids(CIFAR100_CLASSES),
            coarse_labels=np.asarray(coarse, dtype=np.int64),
            coarse_names=np.array(CIFAR100_COARSE_CLASSES),
        )
    else:  # cifar100-coarse: the 20 superclasses are the classes (no WordNet synsets)
        data = LabelledSet(labels=np.asarray(coarse, dtype=np.int64),
                           class_names=np.array(CIFAR100_COARSE_CLASSES), sample_ids=sample_ids)  # fmt: skip
    data.images = ArrayImages(images)
    data.info["split"] = split
    return _finish(data, spec, base)


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"


def _load_mnist(spec, cache_dir, download):
    kind = spec["type"]
    split = _spec_get(spec, "split")
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: {kind} has splits 'train' and 'test'")
    root = _torchvision_root(spec, cache_dir)
    files = mnist_files(root, split)
    present = [f.exists() or f.with_name(f.name + ".gz").exists() for f in files]
    if download and not all(present):
        prefetch_dataset(spec, cache_dir)
        present = [f.exists() or f.with_name(f.name + ".gz").exists() for f in files]
    if not all(present):
        missing = files[present.index(False)]
        raise FileNotFoundError(
            f"{kind}: MNIST data not found ({missing}). Run `snakemake prefetch` on a machine with "
            f"internet (torchvision downloads MNIST into {root}), or put {', '.join(f.name + '.gz' for f in files)} "
            f"from {_MNIST_URL} into {missing.parent}."
        )
    images, labels = read_idx(files[0]), read_idx(files[1]).astype(np.int64)
    if images.ndim != 3 or labels.shape != (len(images),):
        raise ValueError(f"{files[0].parent}: {len(labels)} labels for images of shape {images.shape}")
    ids = np.array([f"mnist/{split}/{i}" for i in range(len(labels))])
    info = {"split": split}
    if kind == "mnist-tran":
        translations = _spec_get(spec, "translations")
        images, labels, source, moved = mnist_tran(
            images, labels, translations=translations, per_class=_spec_get(spec, "translated_per_class"),
            canvas_size=_spec_get(spec, "canvas_size"), keep_originals=_spec_get(spec, "keep_originals"),
            seed=_spec_get(spec, "subsample_seed"),
        )
        # The source image and its displacement in the id (e.g. mnist/train/7+dx4dy0), so results name both.
        shift = [""] + [f"+dx{dx}dy{dy}" for dx, dy in translations]
        ids = np.array([f"{ids[s]}{shift[m + 1]}" for s, m in zip(source, moved)])
        info["translated"] = int((moved >= 0).sum())
    data = LabelledSet(labels=labels, class_names=np.array([str(i) for i in range(10)]), sample_ids=ids,
                       images=ArrayImages(images), info=info)
    return _finish(data, spec, files[0].parent)


def _load_imagefolder(spec, cache_dir, download):
    root = Path(spec["path"])
    names, paths, labels = scan_class_folders(root)
    wnids = folder_wnids(names)
    data = LabelledSet(
        labels=labels,
        class_names=np.array(names),
        sample_ids=np.array([str(p.relative_to(root)) for p in paths]),
        wnids=wnids,
        images=FileImages(paths),
        info={"split": _spec_get(spec, "split")},
    )
    return _finish(data, spec, root)


def imagenet_class_names(wnids):
    """Readable, unique, Newick-safe names for ImageNet WNIDs (timm's ImageNet-1k lemmas, then its
    ImageNet-21k table for the other WNIDs).

    The first lemma, spaces -> ``_``, apostrophes dropped; lemmas that occur twice among ``wnids``
    (ImageNet-1k: crane, maillot) get the WNID appended. Unknown WNIDs keep the WNID as name.
    """
    from timm.data import ImageNetInfo  # deferred: timm (the `encoders` extra) imports torch

    tables = [(info, set(info.label_names())) for info in [ImageNetInfo()]]
    if any(w not in tables[0][1] for w in wnids):
        info = ImageNetInfo("imagenet-21k")
        tables.append((info, set(info.label_names())))
    names = []
    for w in wnids:
        info = next((i for i, known in tables if w in known), None)
        if info is not None:
            lemma = info.label_name_to_description(w).split(",")[0].strip()
            names.append(re.sub(r"[^A-Za-z0-9_.-]", "", lemma.replace(" ", "_")))
        else:
            names.append(w)
    counts = collections.Counter(names)
    return np.array([f"{n}_{w}" if counts[n] > 1 else n for n, w in zip(names, wnids)])


def _wnid_folders(root, what):
    """(wnids, paths, labels) of a folder with one sub-folder per WNID; other folder names stop it."""
    wnids, paths, labels = scan_class_folders(root)
    bad = [w for w in wnids if not WNID_RE.match(w)]
    if bad:
        raise ValueError(f"{root}: {what} class folders must be WNIDs (n + 8 digits), found {bad[:5]}")
    return wnids, paths, labels


def _wnid_set(spec, root, wnids, paths, labels):
    """The LabelledSet of WNID-labelled images under ``root``, finished (:func:`_finish`)."""
    # Readable class names (tables, trees, figures); the WNIDs travel beside them (`wnids`), and
    # the reference job matches resources/hierarchies/imagenet.nwk's WNID leaves through them.
    data = LabelledSet(
        labels=labels,
        class_names=imagenet_class_names(wnids),
        sample_ids=np.array([str(Path(p).relative_to(root)) for p in paths]),
        wnids=np.array(wnids),
        images=FileImages(paths),
        info={"split": _spec_get(spec, "split")},
    )
    return _finish(data, spec, root)


def _load_imagenet(spec, cache_dir, download):
    root = Path(spec["path"])
    if not root.is_dir():
        raise FileNotFoundError(f"ImageNet folder not found: {root}")
    subdirs = [p for p in root.iterdir() if p.is_dir() and WNID_RE.match(p.name)]
    if subdirs:
        wnids, paths, labels = _wnid_folders(root, "ImageNet")
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
        files = image_files(root)
        unlabelled = [f.name for f in files if f.stem not in solution]
        if unlabelled:
            raise ValueError(f"{spec['labels_path']}: no label for images {unlabelled[:5]} in {root}")
        wnids = sorted({solution[f.stem] for f in files})
        index = {w: i for i, w in enumerate(wnids)}
        paths = files
        labels = np.array([index[solution[f.stem]] for f in files], dtype=np.int64)
    return _wnid_set(spec, root, wnids, paths, labels)


def _load_imagenet21k(spec, cache_dir, download):
    root = Path(spec["path"])
    if not root.is_dir():
        raise FileNotFoundError(f"ImageNet-21K-P folder not found: {root}")
    return _wnid_set(spec, root, *_wnid_folders(root, "ImageNet-21K-P"))


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


def _load_planted(spec, cache_dir, download):
    params = planted_params(spec)
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
    "mnist": _load_mnist,
    "mnist-tran": _load_mnist,
    "imagenet": _load_imagenet,
    "imagenet21k": _load_imagenet21k,
    "imagefolder": _load_imagefolder,
    "features": _load_features,
    "planted-tree": _load_planted,
}


_EVAL_KEYS = ("eval_path", "eval_labels_path", "eval_split", "eval_fraction")


def has_eval_set(spec) -> bool:
    """Whether a dataset entry names a held-out evaluation set (``eval_*`` keys)."""
    return any(spec.get(k) is not None for k in _EVAL_KEYS)


def eval_spec(spec):
    """The dataset entry of ``spec``'s evaluation set, loadable by :func:`load_dataset`.

    ``eval_path`` / ``eval_labels_path`` / ``eval_split`` take the places of ``path`` /
    ``labels_path`` / ``split``; with ``eval_fraction`` the entry loads the held-out part of the
    fit set's own data. The evaluation set is kept whole: ``max_per_class`` and ``imbalance``
    shape the fit set only (paper 002 subsamples ImageNet ODD for training, validation whole).
    """
    if not has_eval_set(spec):
        raise ValueError(f"the dataset entry has no evaluation set (one of {list(_EVAL_KEYS)})")
    out = {k: v for k, v in spec.items() if k not in _EVAL_KEYS}
    out.update(max_per_class=None, imbalance=None)
    if spec.get("eval_fraction") is not None:
        return {**out, "_holdout": ("eval", float(spec["eval_fraction"]))}
    for key in ("path", "labels_path", "split"):
        if spec.get(f"eval_{key}") is not None:
            out[key] = spec[f"eval_{key}"]
    if spec.get("eval_path") is not None and spec.get("eval_labels_path") is None:
        out.pop("labels_path", None)  # the fit set's labels never describe another file
    return out


def load_dataset(spec, *, part="fit", cache_dir="resources/cache", download=False) -> LabelledSet:
    """Load the data set described by a config entry (``config['datasets'][name]``).

    Parameters
    ----------
    spec : dict
        the dataset entry; ``type`` selects the loader (see the module docstring).
    part : {"fit", "eval"}
        the set the methods are fitted on, or the held-out evaluation set the entry names
        (``eval_path``, ``eval_split`` or ``eval_fraction``; see :func:`eval_spec`).
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
    if part not in ("fit", "eval"):
        raise ValueError(f"part={part!r} must be 'fit' or 'eval'")
    if part == "eval":
        held = eval_spec(spec)
        if spec.get("imbalance") in CLASS_FREQUENCY_SUBSETS:
            # The subset's classes come from the fit set's class frequencies.
            names = load_dataset(spec, part="fit", cache_dir=cache_dir, download=download).class_names
            held["_keep_class_names"] = [str(c) for c in names]
        spec = held
    elif spec.get("eval_fraction") is not None:
        spec = {**spec, "_holdout": ("fit", float(spec["eval_fraction"]))}
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
    if kind in ("digits", "mnist", "mnist-tran"):
        return np.array([str(i) for i in range(10)])
    if kind == "planted-tree":
        return planted_tree(_spec_get(spec, "depth"), _spec_get(spec, "branching"), dim=1, samples_per_class=1)[2]
    return load_dataset(spec, cache_dir=cache_dir).class_names


def prefetch_dataset(spec, cache_dir="resources/cache"):
    """Download a torchvision data set (CIFAR, MNIST) into its root; a no-op for local data sets.

    Returns the directory the data is in, or None when nothing needs downloading. A failed
    download (no internet) raises ``RuntimeError`` naming the data set and its root.
    """
    kind = spec.get("type")
    if kind not in _CIFAR and kind not in ("mnist", "mnist-tran"):
        log.info("dataset type %s: nothing to download", kind)
        return None
    import torchvision  # deferred: the `encoders` extra; imports torch

    root = _torchvision_root(spec, cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    cls = getattr(torchvision.datasets, _CIFAR[kind][2] if kind in _CIFAR else "MNIST")
    try:
        for train in (True, False):  # one download holds both splits; check both
            cls(str(root), train=train, download=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError; torchvision's md5 failure a RuntimeError
        raise RuntimeError(f"{kind}: download into {root} failed ({type(exc).__name__}: {exc}); "
                           "run `snakemake prefetch` on a machine with internet") from exc
    return root / (_CIFAR[kind][0] if kind in _CIFAR else "MNIST/raw")
