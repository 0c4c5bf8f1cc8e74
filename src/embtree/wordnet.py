"""Reference class hierarchies from WordNet 3.0 (CAEC paper section 4.5).

A dataset's reference tree is the subtree of the WordNet noun hierarchy induced
by its classes' synsets:

1. each class's synset gives one hypernym path root -> synset
   (``Synset.hypernym_paths()``, instance hypernyms included);
2. when a synset has several hypernym paths (WordNet is a DAG), the
   **longest** path is used (``path="longest"``, the default). nltk returns the
   paths in an order that changes with ``PYTHONHASHSEED`` (it keeps hypernym
   pointers in a set), so the paths are first sorted by their synset names (root
   first) and ties go to the first in that order. The longest path is the most specific chain and follows
   the taxonomy, while the shorter ones run through "role" synsets: nltk's
   *first* path for ``dog.n.01`` goes dog -> domestic_animal -> animal and
   would make dog a sister of all vertebrates, whereas the longest goes
   dog -> canine -> carnivore -> placental -> ... -> animal. ``path="first"``
   takes the first path in the sorted order;
3. the paths are merged into a trie; every class hangs as a leaf below its own
   synset node (so a class whose synset is an ancestor of another class's
   synset still becomes a leaf, sister to the more specific classes);
4. internal nodes with a single child are collapsed, so only branching
   synsets remain (the usual induced tree); the result is multifurcating
   where WordNet is.

Leaves are named as given (WNIDs such as ``n02084071`` or synset names such as
``dog.n.01``) unless ``names`` maps them to class names.

Where WordNet is read from (first found): the ``wordnet_dir`` argument
(config ``wordnet.dir``; an error when it holds no WordNet); ``resources/nltk_data``
(relative to the working directory, then to the repository of this package); nltk's
own search path (``NLTK_DATA``, ``~/nltk_data``, ...); finally the copy shipped inside
this package, :data:`SHIPPED_WORDNET`. Each NLTK location is a data directory holding
``corpora/wordnet/`` (or ``corpora/wordnet.zip``); a WordNet ``dict`` directory with
``lexnames`` is accepted too. :func:`check_wordnet` (run by the workflow at DAG build)
also opens the files, so a missing or unreadable WordNet stops ``snakemake -n``.

The shipped copy (``src/embtree/data/wordnet-3.0-nouns.zip``, about 6 MB, licence in
``WORDNET-LICENSE`` beside it and ``LICENSE`` inside) holds Princeton WordNet 3.0's
noun database byte for byte (``data.noun`` with the definitions, ``index.noun``,
``noun.exc``) plus ``lexnames``; the adjective, adverb and verb files keep only their
licence header, so nltk's ``WordNetCorpusReader`` reads the zip directly (no
extraction) and gives the same noun synsets, names, hypernyms and definitions -- and
so the same trees -- as a full WordNet 3.0 (``tests/test_wordnet.py`` checks the
shipped references against it). Other parts of speech (``wn.synsets("run",
pos="v")``, derivational links to verbs) are empty in it. ``python -m embtree.wordnet
ship`` rebuilds it from a WordNet 3.0 dict directory, the same bytes on every run.

Debian/Ubuntu ship WordNet 3.0 offline (``apt-get install wordnet-base
wordnet-sense-index``) in ``/usr/share/wordnet`` but without the ``lexnames``
file nltk needs; :func:`prepare_nltk_wordnet` (``python -m embtree.wordnet
prepare resources/nltk_data``) copies it into NLTK's layout and writes
``lexnames`` (its 45 rows are those of the lexnames(5WN) manual page).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from embtree.hierarchy.catalogue import CIFAR10_SYNSETS, CIFAR100_SUPERCLASSES, CIFAR100_SYNSETS

__all__ = [
    "LEXNAMES",
    "SHIPPED_WORDNET",
    "find_wordnet",
    "check_wordnet",
    "is_shipped",
    "load_wordnet",
    "resolve_synsets",
    "unknown_synsets",
    "reference_tree",
    "prepare_nltk_wordnet",
    "ship_wordnet",
    "wordnet_license_text",
    "WordNetNotFoundError",
    "lexnames_text",
    "common_hypernym",
    "imagenet_wnids",
    "builtin_hierarchies",
    "CIFAR10_SYNSETS",
    "CIFAR100_SYNSETS",
    "CIFAR100_SUPERCLASSES",
]

log = logging.getLogger(__name__)

#: WordNet 3.0 lexicographer files, in file-number order (lexnames(5WN)).
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal",
    "noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
    "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon",
    "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body",
    "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
)  # fmt: skip
_LEX_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

_INSTALL_HINT = (
    "embtree ships WordNet 3.0's nouns (src/embtree/data/wordnet-3.0-nouns.zip) and uses them when\n"
    "no other WordNet is found: leave config 'wordnet.dir' unset (null) to use it, or restore that\n"
    "file (git checkout / reinstall embtree). To use another WordNet 3.0 instead:\n"
    "  * Debian/Ubuntu (offline): apt-get install wordnet-base wordnet-sense-index, then\n"
    "    python -m embtree.wordnet prepare resources/nltk_data   (setup.sh does this)\n"
    "  * with internet: python -c \"import nltk; nltk.download('wordnet')\"\n"
    "and/or set config 'wordnet.dir' to an NLTK data directory holding corpora/wordnet."
)

#: WordNet 3.0's noun database shipped inside the package (module docstring; ``ship``).
SHIPPED_WORDNET = Path(__file__).resolve().parent / "data" / "wordnet-3.0-nouns.zip"
_SHIPPED_ENTRY = "wordnet/"
#: Where Debian/Ubuntu's ``wordnet-base`` installs the WordNet 3.0 dict directory.
DEBIAN_WORDNET = Path("/usr/share/wordnet")

_WNID = re.compile(r"^([nvasr])(\d{8})$")
_SYNSET_NAME = re.compile(r"^.+\.[nvasr]\.\d+$")


class WordNetNotFoundError(FileNotFoundError):
    """No usable WordNet 3.0 installation was found (or the one found cannot be read)."""


def _repo_nltk_data() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "resources" / "nltk_data"
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
    import nltk

    try:
        return nltk.data.find("corpora/wordnet")
    except LookupError:
        return None


def _shipped_wordnet():
    """A path pointer into :data:`SHIPPED_WORDNET`; WordNetNotFoundError when missing or not a zip."""
    from nltk.data import ZipFilePathPointer

    path = SHIPPED_WORDNET
    if not path.is_file():
        raise WordNetNotFoundError(
            f"the WordNet shipped with embtree is missing: {path}" + _shipped_hint(path) + "\n" + _INSTALL_HINT
        )
    _authorize(path.parent)
    try:
        return ZipFilePathPointer(str(path), _SHIPPED_ENTRY)
    except Exception as exc:  # BadZipFile, OSError, nltk's PermissionError / ValueError
        raise WordNetNotFoundError(
            f"the WordNet shipped with embtree cannot be read: {path}: {exc}" + _shipped_hint(path)
            + "\n" + _INSTALL_HINT
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
    return zip_file is not None and Path(zip_file.filename).resolve() == SHIPPED_WORDNET


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
            hint = " (WordNet files without 'lexnames': run python -m embtree.wordnet prepare <dir>)"
        raise WordNetNotFoundError(
            f"wordnet_dir={str(p)!r} holds no WordNet 3.0 in NLTK layout (corpora/wordnet){hint}.\n"
            + _INSTALL_HINT
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
        import nltk

        return list(nltk.data.path)
    except ImportError:  # pragma: no cover - nltk is a dependency
        return []


def _authorize(root) -> None:
    """Add ``root`` to ``nltk.data.path``.

    nltk >= 3.9.3 only opens corpus files below a directory on its data path
    (``nltk.pathsec``); a WordNet directory chosen by config or argument (or the
    shipped zip's directory) has to be put there explicitly, as nltk's error
    message itself advises.
    """
    import nltk

    root = str(Path(root).resolve())
    if root not in nltk.data.path:
        nltk.data.path.append(root)


def _reader_class():
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _WordNet30Reader(WordNetCorpusReader):
        # nltk 3.9/3.10 compare get_version() ("3.0") with the string "wordnet" in
        # map_wn, so every reader re-reads index.sense from a *second* WordNet found
        # on nltk's search path (and fails when there is none). The map only serves
        # the multilingual OMW functions, which embtree does not use.
        def map_wn(self, version="wordnet"):
            return None

    return _WordNet30Reader


def _open_reader(location):
    import warnings

    with warnings.catch_warnings():
        # No OMW reader is passed on purpose: silence "multilingual functions are not available".
        warnings.filterwarnings("ignore", message="The multilingual functions", category=UserWarning)
        return _reader_class()(location, None)


def _location_key(location) -> tuple[str, str | None]:
    """``(directory, None)`` or ``(zip file, entry)``: a hashable key for the reader cache."""
    zip_file = getattr(location, "zipfile", None)
    if zip_file is not None:
        return str(zip_file.filename), location.entry
    return str(location), None


def _pointer(path: str, entry: str | None):
    from nltk.data import FileSystemPathPointer, ZipFilePathPointer

    if entry is None:
        _authorize(path)
        return FileSystemPathPointer(path)
    _authorize(Path(path).parent)
    return ZipFilePathPointer(path, entry)


# Files nltk's WordNetCorpusReader opens while loading (cntlist.rev and index.sense are read
# only on demand, by functions embtree does not use).
_READER_FILES = ("lexnames",) + tuple(
    f"{kind}.{pos}" for pos in ("noun", "verb", "adj", "adv") for kind in ("data", "index")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))


def _unreadable(location, exc) -> WordNetNotFoundError:
    what = "the WordNet shipped with embtree" if is_shipped(location) else "WordNet"
    return WordNetNotFoundError(f"{what} at {location} cannot be read: {type(exc).__name__}: {exc}\n" + _INSTALL_HINT)


def check_wordnet(wordnet_dir=None):
    """:func:`find_wordnet`, then open every file nltk's reader loads; return the location.

    Cheap (no parsing; reading the shipped zip's members checks their CRC), so the
    workflow runs it at DAG build: a missing or unreadable WordNet (absent files, a
    corrupt zip, files nltk refuses to read) raises :class:`WordNetNotFoundError`
    there rather than in a job.
    """
    location = find_wordnet(wordnet_dir)
    path, entry = _location_key(location)
    try:
        root = _pointer(path, entry)
        for name in _READER_FILES:
            with root.join(name).open():  # nltk reads a zip member whole: its CRC is checked
                pass
    except Exception as exc:  # OSError, zipfile.BadZipFile, nltk's PermissionError / ValueError
        raise _unreadable(location, exc) from exc
    return location


@functools.lru_cache(maxsize=4)
def _reader(location: str, entry: str | None = None):
    return _open_reader(_pointer(location, entry))


def load_wordnet(wordnet_dir=None):
    """An nltk ``WordNetCorpusReader`` on WordNet 3.0 (see :func:`find_wordnet`).

    Readers are cached per location, so repeated calls are cheap.
    """
    loc = find_wordnet(wordnet_dir)
    try:
        wn = _reader(*_location_key(loc))
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
    import warnings

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


def _choose_path(synset, path):
    # nltk keeps a synset's hypernym pointers in a set, so the order of hypernym_paths()
    # changes with PYTHONHASHSEED; sort the paths (root first, by synset names) so the
    # reference trees are identical in every process.
    paths = sorted(synset.hypernym_paths(), key=lambda p: [s.name() for s in p])
    if path == "first":
        return paths[0]
    return max(paths, key=len)  # max keeps the first (in sorted order) of equally long paths


def reference_tree(
    synsets, *, names=None, wordnet_dir=None, path="longest", internal_labels=True, wn=None
) -> str:
    """WordNet reference hierarchy over classes, as Newick (induced, collapsed).

    Parameters
    ----------
    synsets : sequence of str, length n_classes
        WNIDs (``n02084071``) or synset names (``dog.n.01``); ``n_classes >= 3``.
    names : sequence of str, optional
        Leaf names, one per synset (class names); default: the synset ids.
        Must be unique.
    wordnet_dir : path, optional
        NLTK data directory with ``corpora/wordnet`` (config ``wordnet.dir``).
    path : {"longest", "first"}
        Which hypernym path to use when a synset has several (module docstring).
    internal_labels : bool, default True
        Label internal nodes with their synset names (``animal.n.01``).
    wn : WordNetCorpusReader, optional
        An already loaded reader (skips :func:`load_wordnet`).

    Returns
    -------
    str
        Rooted Newick without branch lengths; children ordered by the first
        class (in input order) below them, so the output is deterministic.
    """
    from .trees import _check_names, _quote

    ids = [str(s) for s in synsets]
    if len(ids) < 3:
        raise ValueError(f"synsets has {len(ids)} entries; a reference tree needs at least 3 classes")
    leaves = _check_names(ids if names is None else names, len(ids), "names" if names is not None else "synsets")
    if path not in ("first", "longest"):
        raise ValueError(f"path={path!r} should be 'first' or 'longest'")
    wn = load_wordnet(wordnet_dir) if wn is None else wn
    syns = resolve_synsets(ids, wn)

    # Trie over synset names; a class is a leaf ("\0", i) below its own synset.
    children: dict = {}
    root = None
    for i, s in enumerate(syns):
        p = [x.name() for x in _choose_path(s, path)]
        if root is None:
            root = p[0]
        elif p[0] != root:  # pragma: no cover - WordNet 3.0 nouns share entity.n.01
            raise ValueError(f"synsets span several WordNet roots ({root}, {p[0]}); use nouns only")
        for parent, child in zip(p, p[1:]):
            children.setdefault(parent, {}).setdefault(child, None)
        children.setdefault(p[-1], {})[("\0", i)] = None

    def first_leaf(node):  # the smallest class index below a node (for ordering)
        if isinstance(node, tuple):
            return node[1]
        return min(first_leaf(c) for c in children[node])

    # Iterative post-order build with unary-node collapsing.
    memo_first = {}
    stack = [(root, False)]
    text: dict = {}
    while stack:
        node, done = stack.pop()
        if isinstance(node, tuple):
            text[node] = _quote(leaves[node[1]])
            memo_first[node] = node[1]
            continue
        kids = list(children[node])
        if not done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids)
            continue
        kids.sort(key=lambda k: memo_first[k])
        memo_first[node] = memo_first[kids[0]]
        if len(kids) == 1:
            text[node] = text.pop(kids[0])
        else:
            label = _quote(node) if internal_labels else ""
            text[node] = "(" + ",".join(text.pop(k) for k in kids) + ")" + label
    out = text[root]
    if not out.startswith("("):  # pragma: no cover - n >= 3 distinct leaves always branch
        raise ValueError("reference tree degenerated to a single leaf")
    return out + ";"


# ---------------------------------------------------------------------------
# Debian WordNet -> NLTK layout
# ---------------------------------------------------------------------------


def lexnames_text() -> str:
    """Contents of WordNet's ``lexnames`` file (number, name, syntactic category)."""
    return "".join(
        f"{i:02d}\t{name}\t{_LEX_CATEGORY[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES)
    )


def prepare_nltk_wordnet(dest, src=DEBIAN_WORDNET) -> Path:
    """Copy a WordNet 3.0 dict directory into NLTK's layout ``<dest>/corpora/wordnet/``.

    Debian's ``wordnet-base`` lacks ``lexnames``; it is written from
    :data:`LEXNAMES` when missing. The copy is made in a temporary directory
    and renamed into place, so a failure leaves no partial corpus.

    Returns the ``corpora/wordnet`` directory.
    """
    src = Path(src)
    if not (src / "data.noun").is_file():
        raise FileNotFoundError(f"src={str(src)!r} is not a WordNet dict directory (no data.noun).\n" + _INSTALL_HINT)
    target = Path(dest) / "corpora" / "wordnet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".wordnet.", dir=target.parent))
    try:
        for f in src.iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
        if not (tmp / "lexnames").exists():
            (tmp / "lexnames").write_text(lexnames_text())
        _authorize(tmp)
        _open_reader(str(tmp)).synset("dog.n.01")  # fail here, not later
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _reader.cache_clear()
    return target


# ---------------------------------------------------------------------------
# The WordNet shipped with embtree (src/embtree/data/wordnet-3.0-nouns.zip)
# ---------------------------------------------------------------------------

_SHIP_VERBATIM = ("data.noun", "index.noun", "noun.exc")
_SHIP_HEADER_ONLY = tuple(f"{kind}.{pos}" for pos in ("adj", "adv", "verb") for kind in ("data", "index"))
_SHIP_EMPTY = ("adj.exc", "adv.exc", "verb.exc")
_SHIP_README = """\
WordNet 3.0 noun database for embtree (made by: python -m embtree.wordnet ship).

data.noun, index.noun and noun.exc are Princeton WordNet 3.0's files, unchanged: every noun
synset with its lemma names, pointers (hypernyms, ...) and gloss (definition and examples).
data.adj, data.adv, data.verb, index.adj, index.adv and index.verb keep only their licence
header and adj.exc, adv.exc and verb.exc are empty, so that nltk's WordNetCorpusReader opens
this directory (and reads the version, 3.0, from data.adj) while holding the nouns alone.
lexnames lists the 45 lexicographer files as in lexnames(5WN). LICENSE is WordNet 3.0's licence,
the text at the head of every WordNet file.
"""
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: the zip has the same bytes on every run


def _license_header(path: Path) -> bytes:
    """The numbered licence lines (``"  1 This software ..."``) at the head of a WordNet file."""
    out = []
    with open(path, "rb") as fh:
        for line in fh:
            if not line.startswith(b"  "):
                break
            out.append(line)
    return b"".join(out)


def wordnet_license_text(src=DEBIAN_WORDNET) -> str:
    """WordNet 3.0's licence, as printed at the head of ``<src>/data.noun`` (numbers stripped)."""
    lines = _license_header(Path(src) / "data.noun").decode("ascii").splitlines()
    return "\n".join(re.sub(r"^  \d+ ?", "", line).rstrip() for line in lines).strip() + "\n"


def _shipped_members(src: Path) -> dict[str, bytes]:
    members = {"LICENSE": wordnet_license_text(src).encode(), "README": _SHIP_README.encode()}
    lexnames = src / "lexnames"
    members["lexnames"] = lexnames.read_bytes() if lexnames.is_file() else lexnames_text().encode()
    for name in _SHIP_VERBATIM:
        members[name] = (src / name).read_bytes()
    for name in _SHIP_HEADER_ONLY:
        members[name] = _license_header(src / name)
    for name in _SHIP_EMPTY:
        members[name] = b""
    return {_SHIPPED_ENTRY + name: members[name] for name in sorted(members)}


def ship_wordnet(out=SHIPPED_WORDNET, src=DEBIAN_WORDNET) -> Path:
    """Write the noun-only WordNet 3.0 zip that embtree ships (module docstring).

    Parameters
    ----------
    out : path, default :data:`SHIPPED_WORDNET`
        The zip to write (atomically); ``WORDNET-LICENSE`` is written beside it.
    src : path, default ``/usr/share/wordnet``
        A WordNet 3.0 dict directory (Debian's ``wordnet-base``, or ``corpora/wordnet``
        of an NLTK data directory).

    Members are sorted, dated 1980-01-01 and deflated at level 9, so two runs with the
    same zlib give the same bytes. Returns ``out``.
    """
    import zipfile

    src, out = Path(src), Path(out)
    missing = [n for n in _SHIP_VERBATIM + _SHIP_HEADER_ONLY if not (src / n).is_file()]
    if missing:
        raise FileNotFoundError(f"src={str(src)!r} is not a WordNet dict directory (no {missing}).\n" + _INSTALL_HINT)
    if b"WordNet 3.0 Copyright" not in _license_header(src / "data.adj"):
        raise ValueError(f"src={str(src)!r} is not WordNet 3.0 (data.adj's header names another version)")
    members = _shipped_members(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".wordnet.", suffix=".zip", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, whatever the host
                info.external_attr = 0o644 << 16
                zf.writestr(info, data, compresslevel=9)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    license_text = (
        f"The WordNet 3.0 files in {out.name} (Princeton University's WordNet 3.0 noun database,\n"
        "see its README) are distributed under WordNet 3.0's licence:\n\n"
        + members[_SHIPPED_ENTRY + "LICENSE"].decode()
    )
    (out.parent / "WORDNET-LICENSE").write_text(license_text)
    _reader.cache_clear()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embtree.wordnet", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="copy Debian's WordNet into an NLTK data directory")
    p.add_argument("dest", help="NLTK data directory, e.g. resources/nltk_data")
    p.add_argument("--src", default=str(DEBIAN_WORDNET), help="WordNet dict directory (default: %(default)s)")
    s = sub.add_parser("ship", help="rebuild the noun-only WordNet 3.0 zip shipped with embtree")
    s.add_argument("out", nargs="?", default=str(SHIPPED_WORDNET), help="zip to write (default: %(default)s)")
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


# ---------------------------------------------------------------------------
# Built-in class lists (standard label order) and their synsets
# ---------------------------------------------------------------------------



def common_hypernym(synsets, *, wn, path="longest") -> str:
    """Name of the deepest synset shared by the chosen hypernym paths of ``synsets``.

    This is the node the members meet at in :func:`reference_tree` (same path
    choice), used as the synset of a superclass such as a CIFAR-100 coarse
    class (e.g. "trees" -> the synset where its five tree species meet).
    """
    paths = [[x.name() for x in _choose_path(s, path)] for s in resolve_synsets(synsets, wn)]
    common = None
    for depth in range(min(map(len, paths))):
        names = {p[depth] for p in paths}
        if len(names) != 1:
            break
        common = names.pop()
    if common is None:  # pragma: no cover - all nouns share entity.n.01
        raise ValueError(f"synsets {list(synsets)} share no hypernym")
    return common


def imagenet_wnids() -> list[str]:
    """The 1000 ImageNet-1k WNIDs in class-index order, from timm's bundled list."""
    from timm.data import ImageNetInfo

    return list(ImageNetInfo().label_names())


def builtin_hierarchies(*, wn):
    """The reference hierarchies shipped in ``resources/hierarchies/``, rebuilt from WordNet.

    * ``cifar10`` / ``cifar100``: leaves = class names in the data sets' label order, synsets
      from :data:`CIFAR10_SYNSETS` / :data:`CIFAR100_SYNSETS`;
    * ``cifar100-coarse``: leaves = the 20 superclasses, each placed at the deepest synset
      its five fine classes share (:func:`common_hypernym`);
    * ``imagenet``: leaves = the 1000 ILSVRC-2012 WNIDs in timm's class order.

    Returns
    -------
    dict name -> (newick str, pandas.DataFrame with columns index, class_name, synset, definition)
    """
    import pandas as pd

    coarse = {
        name: common_hypernym([CIFAR100_SYNSETS[c] for c in fine], wn=wn)
        for name, fine in CIFAR100_SUPERCLASSES.items()
    }
    wnids = imagenet_wnids()
    sets = {
        "cifar10": CIFAR10_SYNSETS,
        "cifar100": CIFAR100_SYNSETS,
        "cifar100-coarse": coarse,
        "imagenet": dict(zip(wnids, wnids)),
    }
    out = {}
    for name, mapping in sets.items():
        names, synsets = list(mapping), list(mapping.values())
        table = pd.DataFrame({
            "index": range(len(names)),
            "class_name": names,
            "synset": synsets,
            "definition": [s.definition() for s in resolve_synsets(synsets, wn)],
        })
        out[name] = (reference_tree(synsets, names=names, wn=wn), table)
    return out

