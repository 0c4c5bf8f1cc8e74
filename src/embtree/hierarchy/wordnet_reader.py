"""Opening nltk's WordNet reader on a location (a dict directory or a zip entry).

Public names
------------
:func:`authorize`, :func:`open_reader`, :func:`pointer`, :func:`location_key`,
:func:`cached_reader` (``cached_reader.cache_clear()`` after WordNet files are rewritten).

The glue under :mod:`embtree.hierarchy.wordnet` (finding, loading) and
:mod:`embtree.hierarchy.wordnet_files` (preparing, shipping), kept apart so neither imports
the other's internals. nltk is imported inside the functions: it takes about a second to
import and the workflow imports these modules at DAG build, where WordNet is often not needed.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

__all__ = ["authorize", "open_reader", "pointer", "location_key", "cached_reader"]


def authorize(root) -> None:
    """Add ``root`` to ``nltk.data.path``.

    nltk >= 3.9.3 only opens corpus files below a directory on its data path
    (``nltk.pathsec``); a WordNet directory chosen by config or argument (or the
    shipped zip's directory) has to be put there explicitly, as nltk's error
    message itself advises.
    """
    import nltk  # deferred: slow import, needed only once WordNet is opened

    root = str(Path(root).resolve())
    if root not in nltk.data.path:
        nltk.data.path.append(root)


def _reader_class():
    from nltk.corpus.reader.wordnet import WordNetCorpusReader  # deferred: slow import

    class _WordNet30Reader(WordNetCorpusReader):
        # nltk 3.9/3.10 compare get_version() ("3.0") with the string "wordnet" in
        # map_wn, so every reader re-reads index.sense from a *second* WordNet found
        # on nltk's search path (and fails when there is none). The map only serves
        # the multilingual OMW functions, which embtree does not use.
        def map_wn(self, version="wordnet"):
            return None

    return _WordNet30Reader


def open_reader(location):
    """A new WordNet 3.0 reader on ``location`` (a path or an nltk path pointer)."""
    with warnings.catch_warnings():
        # No OMW reader is passed on purpose: silence "multilingual functions are not available".
        warnings.filterwarnings("ignore", message="The multilingual functions", category=UserWarning)
        return _reader_class()(location, None)


def location_key(location) -> tuple[str, str | None]:
    """``(directory, None)`` or ``(zip file, entry)``: a hashable key for the reader cache."""
    zip_file = getattr(location, "zipfile", None)
    if zip_file is not None:
        return str(zip_file.filename), location.entry
    return str(location), None


def pointer(path: str, entry: str | None):
    """An nltk path pointer on a directory (``entry=None``) or a zip entry, authorised to read."""
    from nltk.data import FileSystemPathPointer, ZipFilePathPointer  # deferred: slow import

    if entry is None:
        authorize(path)
        return FileSystemPathPointer(path)
    authorize(Path(path).parent)
    return ZipFilePathPointer(path, entry)


@functools.lru_cache(maxsize=4)
def cached_reader(location: str, entry: str | None = None):
    """:func:`open_reader` on :func:`pointer`, cached per ``(location, entry)``."""
    return open_reader(pointer(location, entry))
