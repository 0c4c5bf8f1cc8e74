"""WordNet 3.0: finding it, checking it, loading it, resolving synset ids; the command line.

Public names
------------
:class:`WordNetNotFoundError`; :func:`find_wordnet`, :func:`check_wordnet`, :func:`is_shipped`,
:func:`load_wordnet`, :func:`resolve_synsets`, :func:`unknown_synsets`; :func:`main`
(``python -m embtree.hierarchy.wordnet prepare|ship|check``).

Search order (first found): ``wordnet_dir`` (config ``wordnet.dir``; an error when it holds no
WordNet), ``resources/nltk_data``, nltk's search path, the nouns shipped with embtree
(:data:`embtree.hierarchy.wordnet_files.SHIPPED_WORDNET`). Why, and what the shipped copy
holds: docs/methods/reference-trees.md.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings
from pathlib import Path

# SHIPPED_WORDNET is read as wordnet_files.SHIPPED_WORDNET: one binding, which tests replace.
from embtree.hierarchy import wordnet_files
from embtree.hierarchy.wordnet_files import (
    DEBIAN_WORDNET,
    INSTALL_HINT,
    SHIPPED_ENTRY,
    prepare_nltk_wordnet,
    ship_wordnet,
)
from embtree.hierarchy.wordnet_reader import authorize, cached_reader, location_key, pointer

__all__ = [
    "WordNetNotFoundError",
    "find_wordnet",
    "check_wordnet",
    "is_shipped",
    "load_wordnet",
    "resolve_synsets",
    "unknown_synsets",
    "main",
]

log = logging.getLogger(__name__)

_WNID = re.compile(r"^([nvasr])(\d{8})$")
_SYNSET_NAME = re.compile(r"^.+\.[nvasr]\.\d+$")


class WordNetNotFoundError(FileNotFoundError):
    """No usable WordNet 3.0 installation was found (or the one found cannot be read)."""


def _repo_nltk_data() -> list[Path]:
    here = Path(__file__).resolve().parents[3] / "resources" / "nltk_data"
    cwd = Path.cwd() / "resources" / "nltk_data"
    return [cwd] if cwd.resolve() == here else [cwd, here]


def _dict_dir(path: Path) -> Path | None:
    """The WordNet dict directory inside ``path`` (an NLTK data dir or a dict dir)."""
    for cand in (path / "corpora" / "wordnet", path):
        if (cand / "data.noun").is_file() and (cand / "lexnames").is_file():
            return cand
    return None


def _nltk_wordnet():
    """nltk's own ``corpora/wordnet`` (a path pointer, maybe into a zip), or None."""
    import nltk  # deferred: slow import, needed only once WordNet is looked for there

    try:
        return nltk.data.find("corpora/wordnet")
    except LookupError:
        return None


def _shipped_wordnet():
    """A path pointer into the shipped zip; WordNetNotFoundError when missing or not a zip."""
    from nltk.data import ZipFilePathPointer  # deferred: slow import, needed only once WordNet is opened

    path = wordnet_files.SHIPPED_WORDNET
    if not path.is_file():
        raise WordNetNotFoundError(
            f"the WordNet shipped with embtree is missing: {path}" + _shipped_hint(path) + "\n" + INSTALL_HINT
        )
    authorize(path.parent)
    try:
        return ZipFilePathPointer(str(path), SHIPPED_ENTRY)
    except Exception as exc:  # BadZipFile, OSError, nltk's PermissionError / ValueError
        raise WordNetNotFoundError(
            f"the WordNet shipped with embtree cannot be read: {path}: {exc}" + _shipped_hint(path)
            + "\n" + INSTALL_HINT
        ) from exc


def _shipped_hint(path: Path) -> str:
    try:
        head = path.read_bytes()[:64] if path.is_file() else b""
    except OSError:
        return ""
    if head.startswith(b"version https://git-lfs"):
        return " (a Git LFS pointer, not the file: run git lfs pull)"
    return ""


def is_shipped(location) -> bool:
    """True when ``location`` (from :func:`find_wordnet`) is the copy shipped with embtree."""
    zip_file = getattr(location, "zipfile", None)
    return zip_file is not None and Path(zip_file.filename).resolve() == wordnet_files.SHIPPED_WORDNET


def find_wordnet(wordnet_dir=None):
    """Locate WordNet; return something ``WordNetCorpusReader`` can open.

    Returns a ``Path`` (a dict directory) or an nltk path pointer (nltk's search
    path, possibly a zip, or the shipped copy, see :func:`is_shipped`). Does not
    open the files (:func:`check_wordnet` does). Raises
    :class:`WordNetNotFoundError` when ``wordnet_dir`` is given but holds no
    WordNet, or when nothing is found and the shipped copy is missing or not a zip.
    """
    tried = []
    if wordnet_dir is not None:
        p = Path(wordnet_dir)
        d = _dict_dir(p)
        if d is not None:
            return d
        hint = ""
        if (p / "data.noun").is_file() or (p / "corpora" / "wordnet" / "data.noun").is_file():
            hint = " (WordNet files without 'lexnames': run python -m embtree.hierarchy.wordnet prepare <dir>)"
        raise WordNetNotFoundError(
            f"wordnet_dir={str(p)!r} holds no WordNet 3.0 in NLTK layout (corpora/wordnet){hint}.\n"
            + INSTALL_HINT
        )
    for p in _repo_nltk_data():
        d = _dict_dir(p)
        if d is not None:
            return d
        tried.append(str(p))
    found = _nltk_wordnet()
    if found is not None:
        return found
    tried.append("nltk search path " + str(_nltk_path()))
    try:
        return _shipped_wordnet()
    except WordNetNotFoundError as exc:
        raise WordNetNotFoundError(f"WordNet 3.0 not found (tried {'; '.join(tried)}); {exc}") from exc


def _nltk_path():
    try:
        import nltk  # deferred: slow import, only for this error message

        return list(nltk.data.path)
    except ImportError:  # pragma: no cover - nltk is a dependency
        return []


# Files nltk's WordNetCorpusReader opens while loading (cntlist.rev and index.sense are read
# only on demand, by functions embtree does not use).
_READER_FILES = ("lexnames",) + tuple(
    f"{kind}.{pos}" for pos in ("noun", "verb", "adj", "adv") for kind in ("data", "index")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))


def _unreadable(location, exc) -> WordNetNotFoundError:
    what = "the WordNet shipped with embtree" if is_shipped(location) else "WordNet"
    return WordNetNotFoundError(f"{what} at {location} cannot be read: {type(exc).__name__}: {exc}\n" + INSTALL_HINT)


def check_wordnet(wordnet_dir=None):
    """:func:`find_wordnet`, then open every file nltk's reader loads; return the location.

    Cheap (no parsing; reading the shipped zip's members checks their CRC), so the
    workflow runs it at DAG build: a missing or unreadable WordNet (absent files, a
    corrupt zip, files nltk refuses to read) raises :class:`WordNetNotFoundError`
    there rather than in a job.
    """
    location = find_wordnet(wordnet_dir)
    path, entry = location_key(location)
    try:
        root = pointer(path, entry)
        for name in _READER_FILES:
            with root.join(name).open():  # nltk reads a zip member whole: its CRC is checked
                pass
    except Exception as exc:  # OSError, zipfile.BadZipFile, nltk's PermissionError / ValueError
        raise _unreadable(location, exc) from exc
    return location


def load_wordnet(wordnet_dir=None):
    """An nltk ``WordNetCorpusReader`` on WordNet 3.0 (see :func:`find_wordnet`).

    Readers are cached per location, so repeated calls are cheap.
    """
    loc = find_wordnet(wordnet_dir)
    try:
        wn = cached_reader(*location_key(loc))
    except Exception as exc:  # OSError, zipfile.BadZipFile, nltk's WordNetError / PermissionError
        raise _unreadable(loc, exc) from exc
    version = wn.get_version()
    log.info("WordNet %s from %s%s", version, loc, " (shipped with embtree)" if is_shipped(loc) else "")
    if version != "3.0":
        log.warning("WordNet version %s found; the shipped references use 3.0", version)
    return wn


def _resolve(s, wn):
    """The nltk synset of one id, or None when it is malformed or not in WordNet."""
    s = str(s).strip()
    m = _WNID.match(s)
    try:
        if m:
            return wn.synset_from_pos_and_offset(m.group(1), int(m.group(2)))
        if _SYNSET_NAME.match(s):
            return wn.synset(s)
    except Exception:  # nltk raises WordNetError / ValueError for unknown ids
        pass
    return None


def _resolve_all(ids, wn) -> list:
    with warnings.catch_warnings():
        # nltk warns "No WordNet synset found for pos=n at offset=..." and returns None
        warnings.filterwarnings("ignore", message="No WordNet synset found", category=UserWarning)
        return [_resolve(s, wn) for s in ids]


def unknown_synsets(ids, wn) -> list[str]:
    """The ids among ``ids`` (WNIDs or synset names) that are malformed or not in WordNet."""
    ids = list(ids)
    return [str(s).strip() for s, syn in zip(ids, _resolve_all(ids, wn)) if syn is None]


def resolve_synsets(ids, wn):
    """Map synset ids (WNIDs ``n02084071`` or names ``dog.n.01``) to nltk synsets.

    Raises ``ValueError`` listing every id that is malformed or not in WordNet.
    """
    ids = list(ids)
    out = _resolve_all(ids, wn)
    bad = [str(s).strip() for s, syn in zip(ids, out) if syn is None]
    if bad:
        raise ValueError(
            f"synsets: {len(bad)} id(s) are not WordNet 3.0 synsets: {bad[:20]}. Give WNIDs "
            "(n02084071) or synset names (dog.n.01); to use class names, write a mapping file "
            "(TSV: class_name<TAB>synset, see resources/hierarchies/*_synsets.tsv) and pass "
            "its synset column with names= the class names."
        )
    return out


def main(argv=None) -> int:
    """``python -m embtree.hierarchy.wordnet prepare|ship|check``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m embtree.hierarchy.wordnet", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="copy Debian's WordNet into an NLTK data directory")
    p.add_argument("dest", help="NLTK data directory, e.g. resources/nltk_data")
    p.add_argument("--src", default=str(DEBIAN_WORDNET), help="WordNet dict directory (default: %(default)s)")
    s = sub.add_parser("ship", help="rebuild the noun-only WordNet 3.0 zip shipped with embtree")
    s.add_argument(
        "out", nargs="?", default=str(wordnet_files.SHIPPED_WORDNET), help="zip to write (default: %(default)s)"
    )
    s.add_argument("--src", default=str(DEBIAN_WORDNET), help="WordNet 3.0 dict directory (default: %(default)s)")
    c = sub.add_parser("check", help="report where WordNet is found and resolve dog.n.01")
    c.add_argument("--dir", default=None, help="NLTK data directory (config wordnet.dir)")
    args = parser.parse_args(argv)
    if args.cmd == "prepare":
        target = prepare_nltk_wordnet(args.dest, args.src)
        print(f"WordNet prepared in {target}")
        return 0
    if args.cmd == "ship":
        out = ship_wordnet(args.out, args.src)
        print(f"WordNet 3.0 nouns written to {out} ({out.stat().st_size} bytes) and {out.parent / 'WORDNET-LICENSE'}")
        return 0
    try:
        loc = check_wordnet(args.dir)
        wn = load_wordnet(args.dir)
    except WordNetNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    where = f"{loc} (shipped with embtree)" if is_shipped(loc) else str(loc)
    print(f"WordNet {wn.get_version()} at {where}: dog.n.01 = {wn.synset('dog.n.01').definition()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
