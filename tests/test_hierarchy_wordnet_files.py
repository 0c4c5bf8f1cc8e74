"""embtree.hierarchy.wordnet_files: Debian's WordNet in NLTK's layout, and the nouns shipped with embtree.

The shipped copy is compared with NLTK's WordNet (Debian's ``wordnet-base`` prepared with
``python -m embtree.hierarchy.wordnet prepare``, or ``nltk.download``) where one is installed.
"""

import zipfile
from pathlib import Path

import pytest

from conftest import HIERARCHIES, no_installed_wordnet
from embtree.hierarchy.wordnet import find_wordnet, is_shipped, load_wordnet, resolve_synsets
from embtree.hierarchy import reference, wordnet_files

SHIPPED_SETS = ["cifar10", "cifar100", "cifar100-coarse", "imagenet"]


@pytest.fixture(scope="module")
def shipped_wn():
    """A reader on the WordNet shipped with embtree."""
    with pytest.MonkeyPatch.context() as mp:
        no_installed_wordnet(mp)
        assert is_shipped(find_wordnet())
        return load_wordnet()


@pytest.fixture(scope="module")
def nltk_wn(tmp_path_factory):
    """A reader on NLTK's WordNet 3.0: the installed one, else Debian's prepared in a temporary dir."""
    if not is_shipped(find_wordnet()):
        return load_wordnet()
    if not (wordnet_files.DEBIAN_WORDNET / "data.noun").is_file():
        pytest.skip("no NLTK WordNet 3.0 to compare the shipped copy with "
                    "(apt-get install wordnet-base wordnet-sense-index, or nltk.download('wordnet'))")
    dest = tmp_path_factory.mktemp("nltk_data")
    wordnet_files.prepare_nltk_wordnet(dest)
    return load_wordnet(dest)


def _shipped_set(name):
    import pandas as pd

    return pd.read_csv(HIERARCHIES / f"{name}_synsets.tsv", sep="\t", keep_default_na=False)


def test_lexnames_match_wordnet_30():
    text = wordnet_files.lexnames_text().splitlines()
    assert len(text) == 45
    assert text[0] == "00\tadj.all\t3"
    assert text[5] == "05\tnoun.animal\t1"
    assert text[44] == "44\tadj.ppl\t3"


@pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").is_file(), reason="Debian wordnet-base not installed")
def test_prepare_nltk_wordnet_from_debian(tmp_path):
    target = wordnet_files.prepare_nltk_wordnet(tmp_path)
    assert (target / "lexnames").is_file()
    wn = load_wordnet(tmp_path)
    assert wn.synset("dog.n.01").name() == "dog.n.01"
    assert wn.get_version() == "3.0"


# --- the WordNet shipped with embtree ------------------------------------------------------


@pytest.mark.wordnet
def test_shipped_wordnet_gives_nltk_wordnet_trees_on_the_shipped_class_sets(shipped_wn, nltk_wn):
    assert nltk_wn is not shipped_wn
    for name in SHIPPED_SETS:
        table = _shipped_set(name)
        synsets, names = list(table["synset"]), list(table["class_name"])
        ours = reference.reference_tree(synsets, names=names, wn=shipped_wn)
        assert ours == reference.reference_tree(synsets, names=names, wn=nltk_wn), name
        assert ours == (HIERARCHIES / f"{name}.nwk").read_text().strip(), name
        found = resolve_synsets(synsets, shipped_wn)
        assert [s.definition() for s in found] == list(table["definition"]), name
        theirs = resolve_synsets(synsets, nltk_wn)
        assert [s.lemma_names() for s in found] == [s.lemma_names() for s in theirs], name


@pytest.mark.slow
@pytest.mark.wordnet
def test_shipped_wordnet_equals_nltk_wordnet_on_every_noun(shipped_wn, nltk_wn):
    def nouns(wn):
        return [(s.name(), s.lemma_names(), s.definition(),
                 sorted(h.name() for h in s.hypernyms() + s.instance_hypernyms())) for s in wn.all_synsets("n")]  # fmt: skip

    ours = nouns(shipped_wn)
    assert len(ours) == 82115 and ours == nouns(nltk_wn)


@pytest.mark.skipif(
    not (wordnet_files.DEBIAN_WORDNET / "data.noun").is_file(), reason="Debian wordnet-base not installed"
)
def test_shipped_zip_is_rebuilt_from_wordnet_30(tmp_path):
    out = wordnet_files.ship_wordnet(tmp_path / wordnet_files.SHIPPED_WORDNET.name)
    with zipfile.ZipFile(out) as new, zipfile.ZipFile(wordnet_files.SHIPPED_WORDNET) as shipped:
        assert new.namelist() == shipped.namelist()
        for info in new.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert new.read(info) == shipped.read(info.filename), info.filename
        assert new.read("wordnet/data.noun") == (wordnet_files.DEBIAN_WORDNET / "data.noun").read_bytes()
    license_text = (tmp_path / "WORDNET-LICENSE").read_text()
    assert license_text == (wordnet_files.SHIPPED_WORDNET.parent / "WORDNET-LICENSE").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in license_text
    # the same bytes on every run (fixed dates and attributes)
    assert wordnet_files.ship_wordnet(tmp_path / "again" / out.name).read_bytes() == out.read_bytes()
