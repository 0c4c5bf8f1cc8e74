"""WordNet reference hierarchies (needs WordNet 3.0: tests skip with the reason when missing)."""

from pathlib import Path

import pytest

from embtree import trees, wordnet


def _wordnet_or_skip():
    try:
        return wordnet.load_wordnet()
    except wordnet.WordNetNotFoundError as exc:
        pytest.skip(f"no WordNet 3.0 data found: {str(exc).splitlines()[0]}")


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
