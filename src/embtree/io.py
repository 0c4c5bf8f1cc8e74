"""Atomic file output: arrays, figures, text, JSON and tables.

Public names
------------
:func:`atomic_path`, :func:`save_npz`, :func:`savefig`, :func:`write_text`,
:func:`write_json`, :func:`write_table`; :data:`SVG_HASHSALT`.

Every writer here goes through a temporary file in the destination directory
and ``os.replace``: a crash or a validation error never leaves a partial file
under the final name, so Snakemake never mistakes half an output for a result.
The embeddings file format is :mod:`embtree.data.store`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "atomic_path",
    "save_npz",
    "savefig",
    "write_text",
    "write_json",
    "write_table",
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


# Metadata that would make two renderings of the same figure differ (dates) is dropped;
# the SVG element ids are drawn from a fixed hash salt instead of a random one.
_STABLE_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None},
                    "png": {"Software": None}}
SVG_HASHSALT = "embtree"


def savefig(fig, path, **kwargs):
    """``fig.savefig`` through a temporary file, byte-identical for identical figures.

    Every figure embtree writes goes through here: fixed ``svg.hashsalt`` (matplotlib's
    clip-path / glyph ids are otherwise random per process) and no date / version
    metadata, so a rerun of the same config reproduces every result file byte for byte.
    ``kwargs`` go to :meth:`matplotlib.figure.Figure.savefig` (``dpi``, ``bbox_inches``,
    ``format``; the format defaults to the path's suffix).
    """
    import matplotlib  # deferred: most importers of this module (DAG build, jobs) draw nothing

    path = Path(path)
    fmt = kwargs.pop("format", None) or path.suffix[1:].lower()
    metadata = {**_STABLE_METADATA.get(fmt, {}), **kwargs.pop("metadata", {})}
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, metadata=metadata, **kwargs)
    return path


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
