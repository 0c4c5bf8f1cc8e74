"""embtree.hierarchy.catalogue: class lists, their synsets, synset tables on disk."""

import pytest

from embtree.hierarchy import catalogue
from embtree.hierarchy.catalogue import CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES, CLASS_SYNSETS
from embtree.hierarchy.newick import check_tree_leaves


def test_read_synset_mapping_layouts(tmp_path):
    p = tmp_path / "s.tsv"
    p.write_text("# comment\ncat\tcat.n.01\ndog\tn02084071\n")
    assert catalogue.read_synset_mapping(p) == {"cat": "cat.n.01", "dog": "n02084071"}
    p.write_text("index\tclass_name\twnid\tsynset\n0\tcat\tn1\tcat.n.01\n")
    assert catalogue.read_synset_mapping(p) == {"cat": "cat.n.01"}


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_builtin_synsets_agree_with_the_hierarchy_files(repo_root, name):
    import csv

    path = repo_root / "resources/hierarchies" / f"{name}_synsets.tsv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    rows = list(csv.DictReader(path.open(), delimiter="\t"))
    assert [r["class_name"] for r in rows] == list(CIFAR10_CLASSES if name == "cifar10" else CIFAR100_CLASSES)
    assert {r["class_name"]: r["synset"] for r in rows} == {r["class_name"]: CLASS_SYNSETS[r["class_name"]][0] for r in rows}


def test_shipped_hierarchies_match_the_class_names(repo_root):
    folder = repo_root / "resources/hierarchies"
    for name, classes in [("cifar10", CIFAR10_CLASSES), ("cifar100", CIFAR100_CLASSES),
                          ("cifar100-coarse", CIFAR100_COARSE_CLASSES)]:  # fmt: skip
        if (folder / f"{name}.nwk").exists():
            assert len(check_tree_leaves((folder / f"{name}.nwk").read_text(), classes)) == len(classes)
