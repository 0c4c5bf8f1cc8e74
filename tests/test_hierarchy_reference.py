"""embtree.hierarchy.reference: WordNet reference trees, the shipped hierarchies, and a data set's
reference over its own classes (pruning shipped trees, WordNet for any class set)."""

import itertools
from pathlib import Path

import pytest

from conftest import HIERARCHIES, ROOT, wordnet_or_skip
from embtree.hierarchy.reference import class_synsets, restrict_tree, tree_to_newick, wordnet_reference
from embtree.data.datasets import imagenet_class_names
from embtree.hierarchy import reference
from embtree.hierarchy.catalogue import CIFAR10_CLASSES, CIFAR10_SYNSETS, CLASS_SYNSETS
from embtree.hierarchy.compare import robinson_foulds
from embtree.hierarchy.newick import leaf_names, parse_newick


def _clades(newick):
    """Leaf sets of the internal nodes (the tree's topology, independent of child order)."""
    tree = parse_newick(newick)
    return {frozenset(leaf.taxon.label for leaf in node.leaf_iter()) for node in tree.postorder_internal_node_iter()}


def _labelled_clades(newick):
    """(leaf set, synset label) of every internal node: topology and labels, not child order."""
    tree = parse_newick(newick)
    return {(frozenset(leaf.taxon.label for leaf in node.leaf_iter()), node.label)
            for node in tree.postorder_internal_node_iter()}  # fmt: skip


# --- the tree WordNet induces on a set of synsets; the shipped hierarchies ----------------------


@pytest.mark.wordnet
def test_cifar10_reference_splits_animals_from_vehicles():
    wn = wordnet_or_skip()
    names = list(CIFAR10_SYNSETS)
    nwk = reference.reference_tree(list(CIFAR10_SYNSETS.values()), names=names, wn=wn)
    t = parse_newick(nwk)
    top = [sorted(x.taxon.label for x in ch.leaf_iter()) for ch in t.seed_node.child_nodes()]
    assert sorted(top) == [
        ["airplane", "automobile", "ship", "truck"],
        ["bird", "cat", "deer", "dog", "frog", "horse"],
    ]
    # dog follows the taxonomic path (carnivore), not domestic_animal
    assert robinson_foulds(nwk, "(((airplane,ship),(automobile,truck)),(bird,frog,((cat,dog),(deer,horse))));", rooted=True) == 0


@pytest.mark.wordnet
def test_reference_tree_ids_names_and_collapsing():
    wn = wordnet_or_skip()
    # WNIDs and synset names give the same tree; leaves are named as given
    by_name = reference.reference_tree(["dog.n.01", "cat.n.01", "car.n.01"], wn=wn, internal_labels=False)
    assert sorted(leaf_names(by_name)) == ["car.n.01", "cat.n.01", "dog.n.01"]
    wnids = ["n%08d" % wn.synset(s).offset() for s in ["dog.n.01", "cat.n.01", "car.n.01"]]
    by_id = reference.reference_tree(wnids, names=["dog", "cat", "car"], wn=wn, internal_labels=False)
    assert by_id == "((dog,cat),car);"  # non-branching hypernyms collapsed
    # a class whose synset is an ancestor of another stays a leaf
    nested = reference.reference_tree(["dog.n.01", "canine.n.02", "cat.n.01"], wn=wn, internal_labels=False)
    assert sorted(leaf_names(nested)) == ["canine.n.02", "cat.n.01", "dog.n.01"]


@pytest.mark.wordnet
def test_reference_tree_errors():
    wn = wordnet_or_skip()
    with pytest.raises(ValueError, match="not WordNet 3.0 synsets.*mapping file"):
        reference.reference_tree(["dog.n.01", "cat.n.01", "no_such_thing", "n99999999"], wn=wn)
    with pytest.raises(ValueError, match="duplicate"):
        reference.reference_tree(["dog.n.01", "cat.n.01", "dog.n.01"], wn=wn)
    with pytest.raises(ValueError, match="at least 3"):
        reference.reference_tree(["dog.n.01", "cat.n.01"], wn=wn)


def test_shipped_hierarchies_are_consistent():
    root = HIERARCHIES
    import pandas as pd

    for name, n in [("cifar10", 10), ("cifar100", 100), ("cifar100-coarse", 20), ("imagenet", 1000)]:
        table = pd.read_csv(root / f"{name}_synsets.tsv", sep="\t")
        leaves = leaf_names((root / f"{name}.nwk").read_text())
        assert len(table) == n and sorted(leaves) == sorted(table["class_name"])
    assert list(pd.read_csv(root / "cifar10_synsets.tsv", sep="\t")["class_name"]) == list(CIFAR10_SYNSETS)


@pytest.mark.wordnet
def test_shipped_hierarchies_are_reproducible_from_wordnet():
    # resources/hierarchies/ is generated, never hand-edited: rebuilding gives the same files.
    wn = wordnet_or_skip()
    import pandas as pd

    root = HIERARCHIES
    for name, (tree, table) in reference.builtin_hierarchies(wn=wn).items():
        assert (root / f"{name}.nwk").read_text().strip() == tree.strip(), name
        shipped = pd.read_csv(root / f"{name}_synsets.tsv", sep="\t")
        pd.testing.assert_frame_equal(shipped, table, check_dtype=False)


# --- a data set's reference over its own classes -----------------------------------------------


def test_restrict_tree_prunes_leaves_and_unary_nodes():
    newick, dropped = restrict_tree("(((a,b)x,(c,d)y)z,(e,f)w)r;", ["a", "c", "d", "e"])
    assert dropped == ["b", "f"]
    # b gone -> x has one child -> removed; f gone -> w removed; labels of kept nodes stay
    assert newick == "((a,(c,d)y)z,e)r;"


def test_restrict_tree_keeps_exact_tree_and_matches_by_wnid():
    newick, dropped = restrict_tree("((n1,n2)p,n3)q;", ["x", "y", "z"], ["n1", "n2", "n3"])
    assert dropped == [] and newick == "((x,y)p,z)q;"


def test_restrict_tree_names_missing_classes():
    with pytest.raises(ValueError, match=r"1 of the data set's 3 classes.*\['zebra'\]"):
        restrict_tree("((a,b),(c,d));", ["a", "b", "zebra"])


def test_restrict_tree_drops_a_unary_root():
    newick, _ = restrict_tree("(((a,b)x,c)y,(d,e)w)r;", ["a", "b", "c"])
    assert newick == "((a,b)x,c)y;"


@pytest.mark.wordnet
@pytest.mark.parametrize("subset", [("airplane", "cat", "dog", "ship", "truck"), ("bird", "frog", "deer")])
def test_pruned_shipped_tree_equals_the_tree_wordnet_induces_on_the_subset(subset):
    wn = wordnet_or_skip()
    shipped = (ROOT / "resources/hierarchies/cifar10.nwk").read_text().strip()
    pruned, _ = restrict_tree(shipped, list(subset))
    direct = reference.reference_tree([CLASS_SYNSETS[c][0] for c in subset], names=list(subset), wn=wn)
    assert _labelled_clades(pruned) == _labelled_clades(direct)


@pytest.mark.wordnet
def test_pruned_imagenet_tree_equals_wordnet_on_readable_names():
    wn = wordnet_or_skip()
    wnids = ["n01440764", "n02012849", "n03126707", "n02084071", "n01530575"]
    wnids = [w for w in wnids if w in set(leaf_names((ROOT / "resources/hierarchies/imagenet.nwk").read_text()))]
    names = list(imagenet_class_names(wnids))
    pruned, _ = restrict_tree((ROOT / "resources/hierarchies/imagenet.nwk").read_text(), names, wnids)
    assert sorted(leaf_names(pruned)) == sorted(names)
    assert _labelled_clades(pruned) == _labelled_clades(reference.reference_tree(wnids, names=names, wn=wn))


@pytest.mark.wordnet
def test_class_synsets_prefers_tsv_then_wnids_then_guess():
    wn = wordnet_or_skip()
    names = ["cat", "boat", "plane", "xyzzy_class"]
    table = class_synsets(
        names, wn=wn, wnids=["n02121620", None, None, None], mapping={"boat": "ship.n.01"}
    )
    assert list(table["source"]) == ["wnid", "synsets", "guessed", "missing"]
    assert list(table["synset"]) == ["cat.n.01", "ship.n.01", "airplane.n.01", ""]
    assert table.loc[2, "wnid"] == "n02691156"
    newick, warnings = wordnet_reference(table, wn=wn)
    assert len(warnings) == 2 and "plane" in warnings[0] and "xyzzy_class" in warnings[1]
    # the missing class hangs directly below the root; the others as WordNet places them
    root = parse_newick(newick).seed_node
    assert "xyzzy_class" in [c.taxon.label for c in root.child_nodes() if c.is_leaf()]
    assert frozenset(["boat", "plane"]) in _clades(newick)


@pytest.mark.wordnet
def test_cifar_names_without_wnids_use_the_builtin_table_and_give_the_shipped_tree():
    wn = wordnet_or_skip()
    table = class_synsets(list(CIFAR10_CLASSES), wn=wn)
    assert set(table["source"]) == {"builtin"}
    newick, warnings = wordnet_reference(table, wn=wn)
    assert warnings == []
    assert _labelled_clades(newick) == _labelled_clades((ROOT / "resources/hierarchies/cifar10.nwk").read_text())


@pytest.mark.wordnet
def test_automatic_lookup_on_cifar_names_reproduces_the_shipped_tree():
    # CIFAR-10's names whose first noun sense is the synset of the shipped table give its tree.
    wn = wordnet_or_skip()
    subset = [c for c in CIFAR10_CLASSES if wn.synsets(c, pos="n")[0].name() == CLASS_SYNSETS[c][0]]
    assert len(subset) >= 5
    table = class_synsets([c.upper() for c in subset], wn=wn)  # not table names: looked up
    assert set(table["source"]) == {"guessed"}
    table["class_name"] = subset
    newick, _ = wordnet_reference(table, wn=wn)
    shipped, _ = restrict_tree((ROOT / "resources/hierarchies/cifar10.nwk").read_text(), subset)
    assert _labelled_clades(newick) == _labelled_clades(shipped)


@pytest.mark.wordnet
def test_bad_synset_in_tsv_names_the_class():
    wn = wordnet_or_skip()
    with pytest.raises(ValueError, match="class 'cat': synsets entry 'qqqq.n.01'"):
        class_synsets(["cat", "dog", "ship"], wn=wn, mapping={"cat": "qqqq.n.01"})


def test_tree_to_newick_round_trips_quoted_labels():
    text = "(('pickup truck',b)x,c);"
    tree = parse_newick(text)
    assert tree_to_newick(tree) == text
    assert list(itertools.islice(leaf_names(text), 1)) == ["pickup truck"]


WORDNET_CLASSES = ("airplane", "cat", "dog", "ship", "truck")


def _run_wordnet_reference(tmp_path, dataset):
    """Run the workflow's WordNet reference jobs for the data set ``mine``; check synsets and tree."""
    import subprocess
    import sys

    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"datasets": {"mine": {**dataset, "reference": "wordnet"}},
                                                     "encoders": {"px": {"type": "pixels", "image_size": 8}}}))
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    proc = subprocess.run(
        [snakemake, "-s", str(ROOT / "workflow" / "Snakefile"), "-d", str(tmp_path), "--configfile", "c.yaml",
         "--cores", "1", "results/mine/reference.nwk", "results/mine/synsets.tsv"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    table = (tmp_path / "results/mine/synsets.tsv").read_text().splitlines()
    rows = {r.split("\t")[1]: r.split("\t") for r in table[1:]}
    assert rows["dog"][3:5] == ["dog.n.01", "builtin"]  # the built-in CIFAR synset
    assert rows["trucks_and_cars"][4] == "missing"
    assert "trucks_and_cars" in out  # warned on the terminal, not only in the log
    clades = _clades((tmp_path / "results/mine/reference.nwk").read_text())
    assert frozenset(["cat", "dog"]) in clades and frozenset(["airplane", "ship"]) in clades


@pytest.mark.wordnet
def test_workflow_builds_wordnet_reference_for_a_features_file(tmp_path):
    # A user's features of 5 CIFAR-like classes and a guessed/missing name: the reference comes
    # from WordNet with no tree given (no image encoder: the import job needs no torch).
    import numpy as np

    wordnet_or_skip()
    names = [*WORDNET_CLASSES, "trucks_and_cars"]
    y = np.arange(3 * len(names)) % len(names)
    np.savez(tmp_path / "feats.npz", features=np.random.default_rng(0).normal(size=(len(y), 4)), labels=y,
             class_names=np.array(names))  # fmt: skip
    _run_wordnet_reference(tmp_path, {"type": "features", "path": "feats.npz", "encoder_name": "given"})


@pytest.mark.wordnet
@pytest.mark.slow  # the embed job imports torch; the features file above takes the same jobs after it
def test_workflow_builds_wordnet_reference_for_an_image_folder(tmp_path, make_image_folder):
    # A user's folder of 5 CIFAR-like classes: the reference comes from WordNet with no tree given.
    wordnet_or_skip()
    make_image_folder({c: 2 for c in WORDNET_CLASSES})
    (tmp_path / "images" / "trucks_and_cars").mkdir()  # a guessed/missing name would warn
    make_image_folder({"trucks_and_cars": 1}, seed=1)
    _run_wordnet_reference(tmp_path, {"type": "imagefolder", "path": "images", "encoders": ["px"]})
