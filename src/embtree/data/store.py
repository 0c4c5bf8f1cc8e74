"""The embeddings store: the ``.npz`` file of features and labels that every stage reads.

Public names
------------
:class:`Embeddings`; :func:`validate_embeddings` (its label checks alone: :func:`validate_rows`),
:func:`save_embeddings`,
:func:`load_embeddings`, :func:`npz_shapes`; :func:`check_features_file` (cheap checks of a
user's features file before any job) and its :class:`FeaturesFileError`.

Embeddings file (``results/{dataset}/{encoder}/embeddings.npz``)
----------------------------------------------------------------
features : float32 (n_samples, n_features)
labels : int64 (n_samples,), values in ``0 .. n_classes-1``
class_names : str (n_classes,)
logits : float32 (n_samples, n_logits), optional (models with a classifier head)
sample_ids : str (n_samples,), optional
wnids : str (n_classes,), optional WordNet ids of the classes
coarse_labels : int64 (n_samples,), optional
coarse_names : str (n_coarse,), optional

Written atomically (:func:`embtree.io.save_npz`), with an optional ``.json`` sidecar.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embtree.io import save_npz, write_json
from embtree.validation import check_matrix

__all__ = [
    "Embeddings",
    "validate_embeddings",
    "validate_rows",
    "save_embeddings",
    "load_embeddings",
    "load_eval_embeddings",
    "npz_shapes",
    "check_features_file",
    "FeaturesFileError",
]


@dataclass(kw_only=True)
class Embeddings:
    """In-memory form of an embeddings file (see module docstring for shapes).

    Keyword-only, so that :class:`embtree.data.datasets.LabelledSet` can extend it with
    fields of its own.
    """

    features: np.ndarray
    labels: np.ndarray
    class_names: np.ndarray
    logits: np.ndarray | None = None
    sample_ids: np.ndarray | None = None
    wnids: np.ndarray | None = None
    coarse_labels: np.ndarray | None = None
    coarse_names: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def arrays(self) -> dict:
        out = {
            "features": np.ascontiguousarray(self.features, dtype=np.float32),
            "labels": np.asarray(self.labels, dtype=np.int64),
            "class_names": np.asarray(self.class_names, dtype=str),
        }
        for key in ("logits", "sample_ids", "wnids", "coarse_labels", "coarse_names"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if out.get("logits") is not None:
            out["logits"] = np.asarray(out["logits"], dtype=np.float32)
        out.update(self.extra)
        return out


def validate_embeddings(emb: Embeddings, source="embeddings") -> Embeddings:
    """Check shapes, finiteness and labels; raise ``ValueError`` naming ``source``."""
    X = check_matrix(emb.features, f"{source}: 'features'")
    validate_rows(emb, len(X), source)
    if emb.logits is not None:
        L = check_matrix(emb.logits, f"{source}: 'logits'", axes="(n_samples, n_logits)")
        if len(L) != len(X):
            raise ValueError(f"{source}: 'logits' has shape {L.shape}, expected ({len(X)}, n_logits)")
    return emb


def validate_rows(emb: Embeddings, n_samples, source="embeddings"):
    """The checks of :func:`validate_embeddings` that read no feature or logit values: labels,
    class names, sample ids and WNIDs against ``n_samples`` rows (a caller that streams the
    features, :func:`embtree.data.shards.gather_shards`, checks those block by block)."""
    y = np.asarray(emb.labels)
    if y.ndim != 1 or len(y) != n_samples:
        raise ValueError(
            f"{source}: 'labels' has shape {y.shape} but 'features' has {n_samples} rows; they must match"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{source}: 'labels' must be integers, got dtype {y.dtype}")
    C = len(emb.class_names)
    if len(y) and (y.min() < 0 or y.max() >= C):
        raise ValueError(
            f"{source}: labels must lie in 0..{C - 1} (len(class_names)={C}), got range {y.min()}..{y.max()}"
        )
    names = np.asarray(emb.class_names).astype(str)
    uniq, counts = np.unique(names, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{source}: duplicate class names {uniq[counts > 1][:10].tolist()} in 'class_names'")
    present = np.unique(y)
    empty = np.setdiff1d(np.arange(C), present)
    if len(empty) and len(present) >= 2:
        raise ValueError(
            f"{source}: classes {names[empty][:10].tolist()} (indices {empty[:10].tolist()}) are listed in "
            "'class_names' but have no samples in 'labels'; drop them from class_names"
        )
    if len(present) < 2:
        raise ValueError(f"{source}: needs at least 2 classes with samples, found {len(present)}")
    if emb.sample_ids is not None and len(emb.sample_ids) != n_samples:
        raise ValueError(f"{source}: 'sample_ids' has {len(emb.sample_ids)} entries, expected {n_samples}")
    if emb.wnids is not None and len(emb.wnids) != C:
        raise ValueError(f"{source}: 'wnids' has {len(emb.wnids)} entries, expected {C} (one per class)")


def save_embeddings(path, emb: Embeddings, metadata: dict | None = None):
    """Validate and write ``emb`` to ``path`` (``.npz``) plus a ``.json`` sidecar."""
    validate_embeddings(emb, source=str(path))
    save_npz(path, **emb.arrays())
    if metadata is not None:
        write_json(Path(path).with_suffix(".json"), metadata)


_KNOWN = ("features", "labels", "class_names", "logits", "sample_ids", "wnids", "coarse_labels", "coarse_names")


def load_embeddings(path) -> Embeddings:
    """Read an embeddings ``.npz`` written by :func:`save_embeddings` and validate it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"embeddings file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile/format errors: name the file
        raise ValueError(f"{path}: cannot read as .npz ({exc})") from exc
    for key in ("features", "labels", "class_names"):
        if key not in arrays:
            raise ValueError(f"{path}: missing array '{key}' (has: {sorted(arrays)})")
    emb = Embeddings(
        **{k: arrays[k] for k in _KNOWN if k in arrays},
        extra={k: v for k, v in arrays.items() if k not in _KNOWN},
    )
    return validate_embeddings(emb, source=str(path))


def npz_shapes(path) -> dict:
    """Shape of every array in an ``.npz`` from the member headers, without decompressing data.

    Returns dict name -> shape tuple. Used where only shapes are needed (the workflow reads
    them while building the DAG, on every invocation and every cluster job).
    """
    shapes = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            with zf.open(name) as f:
                shape, _, _ = _read_header(f)
            shapes[name[: -len(".npy")]] = shape
    return shapes


class FeaturesFileError(ValueError):
    """A features file fails :func:`check_features_file`; ``key`` is the config key to blame
    (``path``, ``labels_path`` or ``class_names`` of the dataset entry)."""

    def __init__(self, message, key="path"):
        super().__init__(message)
        self.key = key


def _read_header(f):
    """(shape, fortran_order, dtype) of the .npy stream ``f``, leaving the data unread."""
    major, _ = np.lib.format.read_magic(f)
    reader = {1: np.lib.format.read_array_header_1_0}.get(major, np.lib.format.read_array_header_2_0)
    return reader(f)


def _read_npz_member(zf, name):
    with zf.open(name + ".npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def load_eval_embeddings(path, fit: Embeddings) -> Embeddings:
    """Read a held-out evaluation set's embeddings and check them against the fit set's.

    The workflow checks the configured files before any job; this check covers what only the
    embedding job knows (image folders, encoders): the same classes in the same order (labels
    index them) and the same feature dimension, and at least one sample.
    """
    held = load_embeddings(path)
    if list(map(str, held.class_names)) != list(map(str, fit.class_names)):
        raise ValueError(f"{path}: the evaluation set's classes differ from the fit set's "
                         f"({len(held.class_names)} vs {len(fit.class_names)} classes); check eval_path")
    if held.features.shape[1] != fit.features.shape[1]:
        raise ValueError(f"{path}: feature dimension {held.features.shape[1]}, the fit set's "
                         f"{fit.features.shape[1]}: both must come from the same encoder")
    if not len(held.labels):
        raise ValueError(f"{path}: the evaluation set is empty")
    return held


def check_features_file(path, *, class_names=None, labels_path=None, crc_max_bytes=64 * 2**20):
    """Cheap checks of a ``features`` dataset file, for the workflow to run before any job.

    Reads the member headers, ``labels`` and ``class_names`` (never the features, except to
    verify the CRC of members up to ``crc_max_bytes``) and checks: a readable ``.npz`` zip
    (or ``.npy``), no object arrays, ``features`` 2-D and ``labels`` 1-D of the same length
    with integer values in ``0 .. C-1``, class names given (file array or the config's
    ``class_names``), unique, and each with at least one sample; ``logits`` with one row
    per sample.

    Parameters
    ----------
    path : str or Path, ``.npz`` or ``.npy``
    class_names : list of str, optional
        The config's ``class_names`` (override the file's array).
    labels_path : str, optional
        The labels ``.npy`` of a ``.npy`` features file.

    Returns
    -------
    dict with ``shapes`` (name -> shape, from the headers), ``n_classes``, ``class_names``
    (list of str: the config's or the file's), ``wnids`` (the file's ``wnids`` array, or
    None), ``single_sample_classes`` (names of classes with exactly one sample: valid,
    but their cluster is that sample; the caller warns) and ``class_counts`` (samples per class).

    Raises
    ------
    FeaturesFileError
        Naming the file, with ``.key`` the config key to fix.
    """
    path = Path(path)
    if not path.exists():
        raise FeaturesFileError(f"file not found: {path}")
    try:
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as zf:
                members = {i.filename[: -len(".npy")]: i for i in zf.infolist() if i.filename.endswith(".npy")}
                headers = {}
                for name, info in members.items():
                    with zf.open(info) as f:
                        headers[name] = _read_header(f)
                for name, info in members.items():  # zipfile checks the CRC on a full read
                    if info.file_size <= crc_max_bytes:
                        with zf.open(info) as f:
                            while f.read(2**24):
                                pass
                objects = [n for n, (_, _, dt) in headers.items() if dt.hasobject]
                if objects:
                    raise FeaturesFileError(
                        f"{path}: arrays {objects} hold Python objects (dtype object), which embtree never "
                        "unpickles; save them as numeric / fixed-width string arrays (e.g. np.asarray(x, dtype=str))"
                    )
                for key in ("features", "labels"):
                    if key not in headers:
                        raise FeaturesFileError(f"{path}: missing array '{key}' (has: {sorted(headers)})")
                labels = _read_npz_member(zf, "labels")
                file_names = _read_npz_member(zf, "class_names") if "class_names" in headers else None
                wnids = _read_npz_member(zf, "wnids") if "wnids" in headers else None
            shapes = {n: h[0] for n, h in headers.items()}
        elif path.suffix == ".npy":
            with open(path, "rb") as f:
                shape, _, dtype = _read_header(f)
            if dtype.hasobject:
                raise FeaturesFileError(f"{path}: dtype object (pickled Python objects) is not supported")
            if not labels_path:
                raise FeaturesFileError(f"{path}: a .npy features file needs labels_path (a .npy of int labels)",
                                        key="labels_path")
            try:
                labels = np.load(labels_path, allow_pickle=False)
            except Exception as exc:
                raise FeaturesFileError(f"{labels_path}: cannot read the labels ({exc})", key="labels_path") from exc
            shapes, file_names, wnids = {"features": shape, "labels": labels.shape}, None, None
        else:
            raise FeaturesFileError(f"{path}: features file must be .npz or .npy, got '{path.suffix}'")
    except FeaturesFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise FeaturesFileError(f"{path}: not a readable {path.suffix} file ({type(exc).__name__}: {exc})") from exc

    names_key = "class_names" if class_names is not None else "path"
    if class_names is not None:
        names = np.asarray(class_names).astype(str)
    elif file_names is not None:
        names = np.asarray(file_names).astype(str)
    else:
        raise FeaturesFileError(
            f"{path}: no 'class_names' array in the file; add one or set class_names in the dataset entry",
            key="class_names",
        )
    fshape = shapes["features"]
    if len(fshape) != 2:
        raise FeaturesFileError(f"{path}: 'features' must be 2-D (n_samples, n_features), got shape {fshape}")
    if labels.ndim != 1 or len(labels) != fshape[0]:
        raise FeaturesFileError(f"{path}: 'labels' has shape {labels.shape} but 'features' has {fshape[0]} rows")
    if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    if not np.issubdtype(labels.dtype, np.integer):
        raise FeaturesFileError(f"{path}: 'labels' must be integers, got dtype {labels.dtype}")
    C = len(names)
    if len(labels) and (labels.min() < 0 or labels.max() >= C):
        raise FeaturesFileError(
            f"{path}: labels must lie in 0..{C - 1} (one per class name), got range {labels.min()}..{labels.max()}",
            key=names_key,
        )
    uniq, dup = np.unique(names, return_counts=True)
    if (dup > 1).any():
        raise FeaturesFileError(f"{path}: duplicate class names {uniq[dup > 1][:10].tolist()}", key=names_key)
    counts = np.bincount(labels, minlength=C)
    if (counts == 0).any():
        raise FeaturesFileError(
            f"{path}: classes {names[counts == 0][:10].tolist()} are listed but have no samples in 'labels'",
            key=names_key,
        )
    if "logits" in shapes and (len(shapes["logits"]) != 2 or shapes["logits"][0] != fshape[0]):
        raise FeaturesFileError(f"{path}: 'logits' has shape {shapes['logits']}, expected ({fshape[0]}, n_logits)")
    return {"shapes": shapes, "n_classes": C, "class_names": names.tolist(), "wnids": wnids,
            "single_sample_classes": names[counts == 1].tolist(), "class_counts": counts.tolist()}
