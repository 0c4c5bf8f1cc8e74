"""Atomic file output and the embeddings file format shared by every stage.

Every writer here goes through a temporary file in the destination directory
and ``os.replace``: a crash or a validation error never leaves a partial file
under the final name, so Snakemake never mistakes half an output for a result.

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
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embtree._validation import check_matrix

__all__ = [
    "Embeddings",
    "atomic_path",
    "save_npz",
    "write_text",
    "write_json",
    "write_table",
    "save_embeddings",
    "load_embeddings",
    "npz_shapes",
    "validate_embeddings",
]


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    ``suffix`` defaults to the final suffix so libraries that infer the format
    from the extension (matplotlib, numpy) behave.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give outputs the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_npz(path, **arrays):
    """``np.savez_compressed`` through a temporary file (never a partial ``.npz``)."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_table(path, df, **kwargs):
    """Write a pandas DataFrame as TSV (``.tsv``) or CSV (``.csv``) atomically."""
    path = Path(path)
    sep = "\t" if path.suffix == ".tsv" else ","
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep=sep, index=False, **kwargs)


@dataclass
class Embeddings:
    """In-memory form of an embeddings file (see module docstring for shapes)."""

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
    y = np.asarray(emb.labels)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"{source}: 'labels' has shape {y.shape} but 'features' has {len(X)} rows; they must match"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{source}: 'labels' must be integers, got dtype {y.dtype}")
    C = len(emb.class_names)
    if len(y) and (y.min() < 0 or y.max() >= C):
        raise ValueError(
            f"{source}: labels must lie in 0..{C - 1} (len(class_names)={C}), got range {y.min()}..{y.max()}"
        )
    present = np.unique(y)
    if len(present) < 2:
        raise ValueError(f"{source}: needs at least 2 classes with samples, found {len(present)}")
    if emb.logits is not None:
        L = check_matrix(emb.logits, f"{source}: 'logits'", axes="(n_samples, n_logits)")
        if len(L) != len(X):
            raise ValueError(f"{source}: 'logits' has shape {L.shape}, expected ({len(X)}, n_logits)")
    if emb.sample_ids is not None and len(emb.sample_ids) != len(X):
        raise ValueError(f"{source}: 'sample_ids' has {len(emb.sample_ids)} entries, expected {len(X)}")
    if emb.wnids is not None and len(emb.wnids) != C:
        raise ValueError(f"{source}: 'wnids' has {len(emb.wnids)} entries, expected {C} (one per class)")
    return emb


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
    import zipfile

    shapes = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            with zf.open(name) as f:
                major, _ = np.lib.format.read_magic(f)
                read_header = {1: np.lib.format.read_array_header_1_0}.get(
                    major, np.lib.format.read_array_header_2_0
                )
                shape, _, _ = read_header(f)
            shapes[name[: -len(".npy")]] = shape
    return shapes

