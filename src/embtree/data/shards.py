"""Sharded embedding: one data set's image list embedded by N jobs, gathered into one file.

Public names
------------
:func:`shard_bounds` (which images a shard embeds), :func:`save_shard` (a shard job's
output), :func:`gather_metadata` and :func:`gather_shards` (the gather job: the embeddings
``.npz`` and ``.json`` the rest of the workflow reads).

Why the gathered file is byte-identical to one job's
----------------------------------------------------
* A shard is a run of *whole batches* of the encoder's ``batch_size``: every image is
  embedded in the same batch, with the same batch mates, as by the unsharded job (BLAS and
  cuDNN kernels round differently for other batch shapes, see
  :func:`embtree.data.extract.embedding_fingerprint`). So the shards' features, concatenated,
  are the unsharded job's features bit for bit on the same kind of device.
* :func:`gather_shards` writes the ``.npz`` exactly as :func:`embtree.data.store.save_embeddings`
  (``np.savez_compressed``) does: the same members in the same order, each written by the
  same zip calls, the streamed ``features`` / ``logits`` fed to the compressor in the same
  16 MiB pieces ``np.lib.format.write_array`` uses. Only one piece of the shards is in
  memory at a time (no second copy of the feature matrix).

Shard file (``results/{dataset}/{encoder}/shards/{i}-of-{N}.npz``)
-----------------------------------------------------------------
features : float32 (n_i, n_features), C order
logits : float32 (n_i, n_logits), optional
stored uncompressed (``np.savez``: scratch, read once by the gather job), with a ``.json``
sidecar: the shard job's metadata (:func:`embtree.data.extract.encode`) plus ``shard``
(``index``, ``of``, ``start``, ``stop``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from embtree.data.extract import image_list_sha256
from embtree.data.store import Embeddings, validate_rows
from embtree.io import atomic_path, write_json
from embtree.validation import check_matrix

__all__ = ["shard_bounds", "save_shard", "gather_metadata", "gather_shards"]

# Bytes per write into a zip member: np.lib.format.write_array writes the data of a
# C-contiguous array in pieces of 16 MiB (its nditer buffer), and the zip writer compresses
# each write as it comes: the same pieces, the same bytes (tests/test_data_shards.py checks
# the bytes against np.savez_compressed beyond one piece).
_PIECE = 16 * 1024**2
# About this many bytes (whole rows, for the finiteness check) are read from a shard at a time.
_READ = 16 * 1024**2
# The metadata keys that describe the shard's rows rather than the run: replaced by the
# whole data set's in the gathered sidecar.
_PER_SHARD = ("n_images", "image_list_sha256", "shard")


def shard_bounds(n_images, n_shards, batch_size):
    """Row ranges of ``n_shards`` shards of ``n_images`` images: runs of whole batches.

    The ``B = ceil(n_images / batch_size)`` batches of one job are dealt out in order as
    ``np.array_split`` deals ``B`` items: the first ``B mod n_shards`` shards get
    ``B // n_shards + 1`` batches, the others ``B // n_shards``; the last shard ends with the
    one job's last, possibly partial, batch.

    Parameters
    ----------
    n_images, n_shards, batch_size : int, all >= 1, ``n_shards`` at most the number of batches

    Returns
    -------
    bounds : ndarray of shape (n_shards, 2), int64
        ``[start, stop)`` of every shard; together they cover ``0 .. n_images - 1`` once, in order.
    """
    for name, value in (("n_images", n_images), ("n_shards", n_shards), ("batch_size", batch_size)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}={value} should be an integer >= 1")
    n_batches = -(-int(n_images) // int(batch_size))
    if n_shards > n_batches:
        raise ValueError(
            f"n_shards={n_shards} should be <= {n_batches}, the number of batches of batch_size={batch_size} "
            f"in n_images={n_images}: a shard is a run of whole batches (so that every image is embedded with "
            "the same batch mates as by one job), and every shard needs one"
        )
    per_shard = np.full(n_shards, n_batches // n_shards, dtype=np.int64)
    per_shard[: n_batches % n_shards] += 1
    edges = np.minimum(np.concatenate([[0], np.cumsum(per_shard)]) * batch_size, n_images)
    return np.stack([edges[:-1], edges[1:]], axis=1)


def save_shard(path, features, logits=None, metadata=None):
    """Write a shard job's output (see module docstring); a NaN / inf fails this shard's job.

    Parameters
    ----------
    features : ndarray of shape (n_i, n_features), float32
    logits : ndarray of shape (n_i, n_logits), float32, or None
    metadata : dict, optional, written to the ``.json`` sidecar
    """
    X = check_matrix(features, f"{path}: 'features'")
    arrays = {"features": np.ascontiguousarray(X, dtype=np.float32)}
    if logits is not None:
        L = check_matrix(logits, f"{path}: 'logits'", axes="(n_samples, n_logits)")
        if len(L) != len(X):
            raise ValueError(f"{path}: 'logits' has {len(L)} rows, 'features' {len(X)}")
        arrays["logits"] = np.ascontiguousarray(L, dtype=np.float32)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    if metadata is not None:
        write_json(Path(path).with_suffix(".json"), metadata)


def gather_metadata(shard_metadata, data):
    """The gathered sidecar: the shards' common metadata, with the whole data set's rows.

    Equal to what one job's :func:`embtree.data.extract.encode` records, since everything but
    ``n_images`` and ``image_list_sha256`` depends on the run, not on its rows.

    Parameters
    ----------
    shard_metadata : list of dict, the shards' sidecars, in shard order
    data : embtree.data.datasets.LabelledSet, the whole (fit) data set

    Raises
    ------
    ValueError
        when the shards disagree on anything but their rows (another encoder setting, library
        version or mixed precision: e.g. one shard on a CPU, another on a GPU) or a shard's
        rows are not its slice of ``data`` (the image list changed between the jobs).
    """
    if not shard_metadata:
        raise ValueError("shard_metadata is empty: no shards to gather")
    common = {k: v for k, v in shard_metadata[0].items() if k not in _PER_SHARD}
    expected_stop = 0
    for i, meta in enumerate(shard_metadata, start=1):
        other = {k: v for k, v in meta.items() if k not in _PER_SHARD}
        if other != common:
            differ = sorted(k for k in set(other) | set(common) if other.get(k) != common.get(k))
            raise ValueError(f"shard {i} of {len(shard_metadata)} differs from shard 1 in {differ}: all shards "
                             "must run the same encoder settings on the same kind of device (mixed precision "
                             "runs on CUDA only); rerun the odd shard")
        shard = meta.get("shard") or {}
        start, stop = shard.get("start"), shard.get("stop")
        if start != expected_stop or shard.get("index") != i or shard.get("of") != len(shard_metadata):
            raise ValueError(f"shard {i} of {len(shard_metadata)} holds rows {start}..{stop} (index "
                             f"{shard.get('index')} of {shard.get('of')}), expected to start at row {expected_stop}")
        if meta.get("image_list_sha256") != image_list_sha256(data.subset(np.arange(start, stop))):
            raise ValueError(f"shard {i} of {len(shard_metadata)} embedded other images than rows {start}..{stop} "
                             "of the data set (its image list changed since): rerun the shards")
        expected_stop = stop
    if expected_stop != len(data):
        raise ValueError(f"the shards hold {expected_stop} rows, the data set {len(data)}")
    return {**common, "n_images": len(data), "image_list_sha256": image_list_sha256(data)}


def gather_shards(path, shard_paths, data, metadata=None):
    """Write the embeddings ``.npz`` of ``data`` whose features (and logits) are the shards'
    rows, in order: byte-identical to :func:`embtree.data.store.save_embeddings` of the
    concatenation, without holding it (see module docstring).

    Parameters
    ----------
    path : str or Path, the ``.npz`` to write (atomically; ``.json`` sidecar from ``metadata``)
    shard_paths : list of str or Path, the shard files (:func:`save_shard`) in row order
    data : embtree.data.store.Embeddings or embtree.data.datasets.LabelledSet
        labels, class names, sample ids, WNIDs and coarse labels of all rows; its own
        features / logits are ignored.
    metadata : dict, optional

    Raises
    ------
    ValueError
        naming the shard file: shapes or dtypes that do not fit together, a row count other
        than ``len(data.labels)``, logits in some shards only, NaN / inf values.
    """
    path = Path(path)
    if not shard_paths:
        raise ValueError(f"{path}: no shard files to gather")
    heads = [_member_headers(p) for p in shard_paths]
    n_rows = 0
    widths = {}
    for p, members in zip(shard_paths, heads):
        if "features" not in members:
            raise ValueError(f"{p}: no 'features' array (has: {sorted(members)})")
        if ("logits" in members) != ("logits" in heads[0]):
            raise ValueError(f"{p}: 'logits' in some shards only ({shard_paths[0]} "
                             f"{'has' if 'logits' in heads[0] else 'has none'})")
        for key, (shape, fortran, dtype) in members.items():
            if key not in ("features", "logits"):
                continue
            if dtype != np.dtype(np.float32) or fortran or len(shape) != 2:
                raise ValueError(f"{p}: '{key}' must be a 2-D float32 C-order array, got shape {shape}, "
                                 f"dtype {dtype}{', Fortran order' if fortran else ''}")
            if shape[0] != members["features"][0][0]:
                raise ValueError(f"{p}: '{key}' has {shape[0]} rows, 'features' {members['features'][0][0]}")
            if widths.setdefault(key, shape[1]) != shape[1]:
                raise ValueError(f"{p}: '{key}' has {shape[1]} columns, {shard_paths[0]} {widths[key]}")
        n_rows += members["features"][0][0]
    validate_rows(data, n_rows, source=f"{path} (from {len(shard_paths)} shards)")
    streamed = {key: (n_rows, width) for key, width in widths.items()}
    # Zero-row stand-ins: the members' names and order come from Embeddings.arrays(), as in
    # save_embeddings; the stand-ins themselves are never written.
    template = Embeddings(
        features=np.empty((0, widths["features"]), np.float32),
        labels=data.labels, class_names=data.class_names,
        logits=np.empty((0, widths["logits"]), np.float32) if "logits" in widths else None,
        sample_ids=data.sample_ids, wnids=data.wnids,
        coarse_labels=data.coarse_labels, coarse_names=data.coarse_names,
    )  # fmt: skip
    # np.savez_compressed's zip: deflated members, zip64 forced (numpy gh-10776).
    with atomic_path(path, suffix=".npz") as tmp, \
            zipfile.ZipFile(tmp, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for key, value in template.arrays().items():
            with zf.open(key + ".npy", "w", force_zip64=True) as fid:
                if key in streamed:
                    _stream_member(fid, key, streamed[key], shard_paths)
                else:
                    np.lib.format.write_array(fid, np.asanyarray(value), allow_pickle=False)
    if metadata is not None:
        write_json(path.with_suffix(".json"), metadata)
    return path


def _member_headers(path):
    """{name: (shape, fortran_order, dtype)} of the arrays of an ``.npz``, from their headers."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith(".npy"):
                    with zf.open(name) as f:
                        out[name[: -len(".npy")]] = _read_header(f)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ValueError(f"{path}: cannot read as a shard .npz ({type(exc).__name__}: {exc})") from exc
    return out


def _read_header(f):
    major, _ = np.lib.format.read_magic(f)
    reader = {1: np.lib.format.read_array_header_1_0}.get(major, np.lib.format.read_array_header_2_0)
    return reader(f)


def _npy_header(shape, dtype):
    """The ``.npy`` header np.lib.format.write_array writes for a C-order array (version 1.0
    when it fits, as numpy's own version guess; else 2.0)."""
    d = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, d)
    except ValueError:
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def _stream_member(fid, key, shape, shard_paths):
    """Write the ``.npy`` of ``key`` with ``shape`` into ``fid`` from the shards' members,
    re-cut into np.lib.format.write_array's pieces; NaN / inf stop it, naming the shard and row."""
    fid.write(_npy_header(shape, np.float32))
    row_bytes = shape[1] * 4
    pending = bytearray()
    first_row = 0
    for p in shard_paths:
        with zipfile.ZipFile(p) as zf, zf.open(key + ".npy") as f:
            n = _read_header(f)[0][0]
            done = 0
            step = max(1, _READ // row_bytes)
            while done < n:
                rows = min(step, n - done)
                block = f.read(rows * row_bytes)
                if len(block) != rows * row_bytes:
                    raise ValueError(f"{p}: '{key}' ends after {done * row_bytes + len(block)} of "
                                     f"{n * row_bytes} data bytes (a truncated shard: rerun it)")
                values = np.frombuffer(block, dtype=np.float32)
                bad = ~np.isfinite(values)
                if bad.any():
                    rows_bad = np.unique(np.flatnonzero(bad) // shape[1]) + done
                    raise ValueError(f"{p}: '{key}' contains NaN or inf in rows {rows_bad[:5].tolist()} of the "
                                     f"shard (rows {(rows_bad[:5] + first_row).tolist()} of the data set)")
                pending += block
                while len(pending) >= _PIECE:
                    fid.write(pending[:_PIECE])
                    del pending[:_PIECE]
                done += rows
        first_row += n
    if pending:
        fid.write(pending)
