"""WordNet 3.0's files: Debian's copy made readable by nltk, and the nouns shipped with embtree.

Public names
------------
:data:`LEXNAMES`, :func:`lexnames_text`, :data:`SHIPPED_WORDNET`, :data:`SHIPPED_ENTRY`,
:data:`DEBIAN_WORDNET`, :data:`INSTALL_HINT`; :func:`prepare_nltk_wordnet`,
:func:`ship_wordnet`, :func:`wordnet_license_text`.

What the shipped zip holds and why: docs/methods/reference-trees.md.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from embtree.hierarchy.wordnet_reader import authorize, cached_reader, open_reader

__all__ = [
    "LEXNAMES",
    "lexnames_text",
    "SHIPPED_WORDNET",
    "SHIPPED_ENTRY",
    "DEBIAN_WORDNET",
    "INSTALL_HINT",
    "prepare_nltk_wordnet",
    "ship_wordnet",
    "wordnet_license_text",
]

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

#: How to get a WordNet 3.0; ends every "not found" / "cannot be read" message.
INSTALL_HINT = (
    "embtree ships WordNet 3.0's nouns (src/embtree/data/wordnet-3.0-nouns.zip) and uses them when\n"
    "no other WordNet is found: leave config 'wordnet.dir' unset (null) to use it, or restore that\n"
    "file (git checkout / reinstall embtree). To use another WordNet 3.0 instead:\n"
    "  * Debian/Ubuntu (offline): apt-get install wordnet-base wordnet-sense-index, then\n"
    "    python -m embtree.hierarchy.wordnet prepare resources/nltk_data   (setup.sh does this)\n"
    "  * with internet: python -c \"import nltk; nltk.download('wordnet')\"\n"
    "and/or set config 'wordnet.dir' to an NLTK data directory holding corpora/wordnet."
)

#: WordNet 3.0's noun database shipped inside the package (package data, see pyproject.toml).
SHIPPED_WORDNET = Path(__file__).resolve().parents[1] / "data" / "wordnet-3.0-nouns.zip"
#: The directory inside :data:`SHIPPED_WORDNET` that nltk reads as ``corpora/wordnet``.
SHIPPED_ENTRY = "wordnet/"
#: Where Debian/Ubuntu's ``wordnet-base`` installs the WordNet 3.0 dict directory.
DEBIAN_WORDNET = Path("/usr/share/wordnet")


def lexnames_text() -> str:
    """Contents of WordNet's ``lexnames`` file (number, name, syntactic category)."""
    return "".join(
        f"{i:02d}\t{name}\t{_LEX_CATEGORY[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES)
    )


# ---------------------------------------------------------------------------
# Debian WordNet -> NLTK layout
# ---------------------------------------------------------------------------


def prepare_nltk_wordnet(dest, src=DEBIAN_WORDNET) -> Path:
    """Copy a WordNet 3.0 dict directory into NLTK's layout ``<dest>/corpora/wordnet/``.

    Debian's ``wordnet-base`` lacks ``lexnames``; it is written from
    :data:`LEXNAMES` when missing. The copy is made in a temporary directory
    and renamed into place, so a failure leaves no partial corpus.

    Returns the ``corpora/wordnet`` directory.
    """
    src = Path(src)
    if not (src / "data.noun").is_file():
        raise FileNotFoundError(f"src={str(src)!r} is not a WordNet dict directory (no data.noun).\n" + INSTALL_HINT)
    target = Path(dest) / "corpora" / "wordnet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".wordnet.", dir=target.parent))
    try:
        for f in src.iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
        if not (tmp / "lexnames").exists():
            (tmp / "lexnames").write_text(lexnames_text())
        authorize(tmp)
        open_reader(str(tmp)).synset("dog.n.01")  # fail here, not later
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    cached_reader.cache_clear()
    return target


# ---------------------------------------------------------------------------
# The WordNet shipped with embtree (src/embtree/data/wordnet-3.0-nouns.zip)
# ---------------------------------------------------------------------------

_SHIP_VERBATIM = ("data.noun", "index.noun", "noun.exc")
_SHIP_HEADER_ONLY = tuple(f"{kind}.{pos}" for pos in ("adj", "adv", "verb") for kind in ("data", "index"))
_SHIP_EMPTY = ("adj.exc", "adv.exc", "verb.exc")
# Written into the zip: changing it changes the shipped file's bytes (it names the command
# of the time it was made).
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
    return {SHIPPED_ENTRY + name: members[name] for name in sorted(members)}


def ship_wordnet(out=SHIPPED_WORDNET, src=DEBIAN_WORDNET) -> Path:
    """Write the noun-only WordNet 3.0 zip that embtree ships (docs/methods/reference-trees.md).

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
    src, out = Path(src), Path(out)
    missing = [n for n in _SHIP_VERBATIM + _SHIP_HEADER_ONLY if not (src / n).is_file()]
    if missing:
        raise FileNotFoundError(f"src={str(src)!r} is not a WordNet dict directory (no {missing}).\n" + INSTALL_HINT)
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
        + members[SHIPPED_ENTRY + "LICENSE"].decode()
    )
    (out.parent / "WORDNET-LICENSE").write_text(license_text)
    cached_reader.cache_clear()
    return out
