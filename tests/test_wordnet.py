"""WordNet reference hierarchies, and the WordNet 3.0 nouns shipped with embtree.

Tests marked ``wordnet`` use an installed WordNet 3.0 when there is one, else the shipped copy
(so they run on any machine); the shipped copy is compared with NLTK's WordNet (Debian's
``wordnet-base`` prepared with ``python -m embtree.wordnet prepare``, or ``nltk.download``)
where one is installed.
"""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, dry_run
from embtree import trees, wordnet

HIERARCHIES = ROOT / "resources" / "hierarchies"
SHIPPED_SETS = ["cifar10", "cifar100", "cifar100-coarse", "imagenet"]


def _wordnet_or_skip():
    try:
        return wordnet.load_wordnet()
    except wordnet.WordNetNotFoundError as exc:
        pytest.skip(f"no WordNet 3.0 data found: {str(exc).splitlines()[0]}")


def _no_installed_wordnet(mp):
    """Hide resources/nltk_data and nltk's search path from find_wordnet: only the shipped copy is left."""
    mp.setattr(wordnet, "_repo_nltk_data", lambda: [])
    mp.setattr(wordnet, "_nltk_wordnet", lambda: None)


@pytest.fixture(scope="module")
def shipped_wn():
    """A reader on the WordNet shipped with embtree."""
    with pytest.MonkeyPatch.context() as mp:
        _no_installed_wordnet(mp)
        assert wordnet.is_shipped(wordnet.find_wordnet())
        return wordnet.load_wordnet()


@pytest.fixture(scope="module")
def nltk_wn(tmp_path_factory):
    """A reader on NLTK's WordNet 3.0: the installed one, else Debian's prepared in a temporary dir."""
    if not wordnet.is_shipped(wordnet.find_wordnet()):
        return wordnet.load_wordnet()
    if not (wordnet.DEBIAN_WORDNET / "data.noun").is_file():
        pytest.skip("no NLTK WordNet 3.0 to compare the shipped copy with "
                    "(apt-get install wordnet-base wordnet-sense-index, or nltk.download('wordnet'))")
    dest = tmp_path_factory.mktemp("nltk_data")
    wordnet.prepare_nltk_wordnet(dest)
    return wordnet.load_wordnet(dest)


def _shipped_set(name):
    import pandas as pd

    return pd.read_csv(HIERARCHIES / f"{name}_synsets.tsv", sep="\t", keep_default_na=False)


def test_lexnames_match_wordnet_30():
    text = wordnet.lexnames_text().splitlines()
    assert len(text) == 45
    assert text[0] == "00\tadj.all\t3"
    assert text[5] == "05\tnoun.animal\t1"
    assert text[44] == "44\tadj.ppl\t3"


def test_missing_wordnet_dir_error_says_how_to_install(tmp_path):
    with pytest.raises(wordnet.WordNetNotFoundError, match="apt-get install wordnet-base"):
        wordnet.find_wordnet(tmp_path)


@pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").is_file(), reason="Debian wordnet-base not installed")
def test_prepare_nltk_wordnet_from_debian(tmp_path):
    target = wordnet.prepare_nltk_wordnet(tmp_path)
    assert (target / "lexnames").is_file()
    wn = wordnet.load_wordnet(tmp_path)
    assert wn.synset("dog.n.01").name() == "dog.n.01"
    assert wn.get_version() == "3.0"


@pytest.mark.wordnet
def test_cifar10_reference_splits_animals_from_vehicles():
    wn = _wordnet_or_skip()
    names = list(wordnet.CIFAR10_SYNSETS)
    nwk = wordnet.reference_tree(list(wordnet.CIFAR10_SYNSETS.values()), names=names, wn=wn)
    t = trees.parse_newick(nwk)
    top = [sorted(x.taxon.label for x in ch.leaf_iter()) for ch in t.seed_node.child_nodes()]
    assert sorted(top) == [
        ["airplane", "automobile", "ship", "truck"],
        ["bird", "cat", "deer", "dog", "frog", "horse"],
    ]
    # dog follows the taxonomic path (carnivore), not domestic_animal
    assert trees.robinson_foulds(nwk, "(((airplane,ship),(automobile,truck)),(bird,frog,((cat,dog),(deer,horse))));", rooted=True) == 0


@pytest.mark.wordnet
def test_reference_tree_ids_names_and_collapsing():
    wn = _wordnet_or_skip()
    # WNIDs and synset names give the same tree; leaves are named as given
    by_name = wordnet.reference_tree(["dog.n.01", "cat.n.01", "car.n.01"], wn=wn, internal_labels=False)
    assert sorted(trees.leaf_names(by_name)) == ["car.n.01", "cat.n.01", "dog.n.01"]
    wnids = ["n%08d" % wn.synset(s).offset() for s in ["dog.n.01", "cat.n.01", "car.n.01"]]
    by_id = wordnet.reference_tree(wnids, names=["dog", "cat", "car"], wn=wn, internal_labels=False)
    assert by_id == "((dog,cat),car);"  # non-branching hypernyms collapsed
    # a class whose synset is an ancestor of another stays a leaf
    nested = wordnet.reference_tree(["dog.n.01", "canine.n.02", "cat.n.01"], wn=wn, internal_labels=False)
    assert sorted(trees.leaf_names(nested)) == ["canine.n.02", "cat.n.01", "dog.n.01"]


@pytest.mark.wordnet
def test_reference_tree_errors():
    wn = _wordnet_or_skip()
    with pytest.raises(ValueError, match="not WordNet 3.0 synsets.*mapping file"):
        wordnet.reference_tree(["dog.n.01", "cat.n.01", "no_such_thing", "n99999999"], wn=wn)
    with pytest.raises(ValueError, match="duplicate"):
        wordnet.reference_tree(["dog.n.01", "cat.n.01", "dog.n.01"], wn=wn)
    with pytest.raises(ValueError, match="at least 3"):
        wordnet.reference_tree(["dog.n.01", "cat.n.01"], wn=wn)


def test_shipped_hierarchies_are_consistent():
    root = Path(__file__).resolve().parents[1] / "resources" / "hierarchies"
    import pandas as pd

    for name, n in [("cifar10", 10), ("cifar100", 100), ("cifar100-coarse", 20), ("imagenet", 1000)]:
        table = pd.read_csv(root / f"{name}_synsets.tsv", sep="\t")
        leaves = trees.leaf_names((root / f"{name}.nwk").read_text())
        assert len(table) == n and sorted(leaves) == sorted(table["class_name"])
    assert list(pd.read_csv(root / "cifar10_synsets.tsv", sep="\t")["class_name"]) == list(wordnet.CIFAR10_SYNSETS)


@pytest.mark.wordnet
def test_shipped_hierarchies_are_reproducible_from_wordnet():
    # resources/hierarchies/ is generated, never hand-edited: rebuilding gives the same files.
    wn = _wordnet_or_skip()
    import pandas as pd

    root = Path(__file__).resolve().parents[1] / "resources" / "hierarchies"
    for name, (tree, table) in wordnet.builtin_hierarchies(wn=wn).items():
        assert (root / f"{name}.nwk").read_text().strip() == tree.strip(), name
        shipped = pd.read_csv(root / f"{name}_synsets.tsv", sep="\t")
        pd.testing.assert_frame_equal(shipped, table, check_dtype=False)


# --- the WordNet shipped with embtree ------------------------------------------------------


@pytest.mark.wordnet
def test_shipped_wordnet_is_used_when_no_other_is_found(monkeypatch):
    _no_installed_wordnet(monkeypatch)
    loc = wordnet.check_wordnet()  # found and every file nltk loads opened
    assert wordnet.is_shipped(loc) and str(wordnet.find_wordnet()) == str(loc)
    wn = wordnet.load_wordnet()
    assert wn.get_version() == "3.0"
    assert wn.synset("dog.n.01").definition().startswith("a member of the genus Canis")
    names = list(wordnet.CIFAR10_SYNSETS)
    nwk = wordnet.reference_tree(list(wordnet.CIFAR10_SYNSETS.values()), names=names, wn=wn)
    assert nwk == (HIERARCHIES / "cifar10.nwk").read_text().strip()
    # an explicit wordnet.dir still wins, and is still an error when wrong
    with pytest.raises(wordnet.WordNetNotFoundError, match="holds no WordNet"):
        wordnet.find_wordnet(ROOT / "src")


@pytest.mark.wordnet
def test_shipped_wordnet_gives_nltk_wordnet_trees_on_the_shipped_class_sets(shipped_wn, nltk_wn):
    assert nltk_wn is not shipped_wn
    for name in SHIPPED_SETS:
        table = _shipped_set(name)
        synsets, names = list(table["synset"]), list(table["class_name"])
        ours = wordnet.reference_tree(synsets, names=names, wn=shipped_wn)
        assert ours == wordnet.reference_tree(synsets, names=names, wn=nltk_wn), name
        assert ours == (HIERARCHIES / f"{name}.nwk").read_text().strip(), name
        found = wordnet.resolve_synsets(synsets, shipped_wn)
        assert [s.definition() for s in found] == list(table["definition"]), name
        theirs = wordnet.resolve_synsets(synsets, nltk_wn)
        assert [s.lemma_names() for s in found] == [s.lemma_names() for s in theirs], name


@pytest.mark.slow
@pytest.mark.wordnet
def test_shipped_wordnet_equals_nltk_wordnet_on_every_noun(shipped_wn, nltk_wn):
    def nouns(wn):
        return [(s.name(), s.lemma_names(), s.definition(),
                 sorted(h.name() for h in s.hypernyms() + s.instance_hypernyms())) for s in wn.all_synsets("n")]  # fmt: skip

    ours = nouns(shipped_wn)
    assert len(ours) == 82115 and ours == nouns(nltk_wn)


@pytest.mark.skipif(not (wordnet.DEBIAN_WORDNET / "data.noun").is_file(), reason="Debian wordnet-base not installed")
def test_shipped_zip_is_rebuilt_from_wordnet_30(tmp_path):
    out = wordnet.ship_wordnet(tmp_path / wordnet.SHIPPED_WORDNET.name)
    with zipfile.ZipFile(out) as new, zipfile.ZipFile(wordnet.SHIPPED_WORDNET) as shipped:
        assert new.namelist() == shipped.namelist()
        for info in new.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert new.read(info) == shipped.read(info.filename), info.filename
        assert new.read("wordnet/data.noun") == (wordnet.DEBIAN_WORDNET / "data.noun").read_bytes()
    license_text = (tmp_path / "WORDNET-LICENSE").read_text()
    assert license_text == (wordnet.SHIPPED_WORDNET.parent / "WORDNET-LICENSE").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in license_text
    # the same bytes on every run (fixed dates and attributes)
    assert wordnet.ship_wordnet(tmp_path / "again" / out.name).read_bytes() == out.read_bytes()


def test_missing_or_corrupt_shipped_wordnet_is_an_error_naming_the_file(monkeypatch, tmp_path):
    _no_installed_wordnet(monkeypatch)
    real = wordnet.SHIPPED_WORDNET
    gone = tmp_path / "gone.zip"
    monkeypatch.setattr(wordnet, "SHIPPED_WORDNET", gone)
    with pytest.raises(wordnet.WordNetNotFoundError, match=f"shipped with embtree is missing: {gone}"):
        wordnet.check_wordnet()
    not_zip = tmp_path / "lfs.zip"
    not_zip.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\n")
    monkeypatch.setattr(wordnet, "SHIPPED_WORDNET", not_zip)
    with pytest.raises(wordnet.WordNetNotFoundError, match="cannot be read.*Git LFS pointer"):
        wordnet.find_wordnet()
    # a damaged member (flipped bytes inside data.noun's compressed data): the CRC check at DAG build
    raw = bytearray(real.read_bytes())
    with zipfile.ZipFile(real) as zf:
        info = zf.getinfo("wordnet/data.noun")
    pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    raw[pos : pos + 8] = bytes(8)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    monkeypatch.setattr(wordnet, "SHIPPED_WORDNET", damaged)
    with pytest.raises(wordnet.WordNetNotFoundError, match=f"shipped with embtree at {damaged}.* cannot be read"):
        wordnet.check_wordnet()


@pytest.mark.wordnet
def test_unknown_synsets_lists_malformed_and_missing_ids():
    wn = _wordnet_or_skip()
    assert wordnet.unknown_synsets(["dog.n.01", "n02084071", "n99999999", "no_such_thing", "dog.n.99"], wn) == [
        "n99999999", "no_such_thing", "dog.n.99"]  # fmt: skip


# --- the same through the workflow: WordNet problems stop `snakemake -n`, never a job ----------


def _dry_run(tmp_path, dataset, top_extra=None):
    """`snakemake -n` of a one-dataset config: 12 samples of 3 CIFAR-10 classes, `reference: wordnet`."""
    path = tmp_path / "f.npz"
    rng = np.random.default_rng(0)
    np.savez(path, features=rng.normal(size=(12, 3)), labels=np.arange(12) % 3,
             class_names=np.array(["cat", "dog", "truck"]))  # fmt: skip
    spec = {"type": "features", "encoder_name": "given", "path": str(path), "reference": "wordnet", **dataset}
    return dry_run(tmp_path, {"datasets": {"f": spec}, **(top_extra or {})})


def test_dry_run_stops_when_wordnet_dir_holds_no_wordnet(tmp_path):
    empty = tmp_path / "no_wordnet"
    empty.mkdir()
    proc, out = _dry_run(tmp_path, {}, {"wordnet": {"dir": str(empty)}})
    assert proc.returncode != 0
    assert "config error at 'wordnet.dir'" in out and str(empty) in out and "apt-get install wordnet-base" in out
    assert "reference: wordnet` of datasets ['f']" in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_dry_run_stops_on_a_synsets_tsv_naming_a_synset_wordnet_lacks(tmp_path):
    tsv = tmp_path / "my_synsets.tsv"
    tsv.write_text("class_name\tsynset\ncat\tcat.n.01\ndog\tdog.n.99\ntruck\tn99999999\n")
    proc, out = _dry_run(tmp_path, {"synsets": str(tsv)})
    assert proc.returncode != 0
    assert "config error at 'datasets.f.synsets'" in out and str(tsv) in out
    assert "'dog' -> 'dog.n.99'" in out and "'truck' -> 'n99999999'" in out and "'cat'" not in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()
    tsv.write_text("class_name\tsynset\ncat\tcat.n.01\ndog\tdog.n.01\ntruck\tn04490091\n")
    proc, out = _dry_run(tmp_path, {"synsets": str(tsv)})
    assert proc.returncode == 0, out[-3000:]
    assert "wordnet_reference" in out
