"""embtree.report.figures.trees: a tree beside its reference, with the comparison scores."""

import pytest

from embtree import report as R
from embtree.hierarchy.compare import compare_trees
from embtree.report.figures.trees import _layout, _nodes, _rotate_to, comparison_caption


def test_tree_figure_caption_carries_the_scores(tmp_path):
    line = comparison_caption("((((a,b),c),d),e);", "((a,b,c),(d,e));")
    assert line.startswith("RF ") and "clade recall 0.50" in line and "DI/DI_max" in line
    assert comparison_caption("((a,b),c);", "((a,b),d);") == ""  # different leaves: no scores, still a figure


def test_newick_nodes_and_layout():
    tree = _nodes("((a:1,b:2)x:1,(c:1,'d e':1,f:0.5):2);")
    assert [c[0] for c in tree[2]] == ["x", ""]
    segs, leaves = _layout(tree)
    pos = {n: (x, y) for n, x, y in leaves}
    assert pos["b"] == (3.0, 1.0) and pos["d e"] == (3.0, 3.0) and pos["f"][0] == 2.5
    _, clado = _layout(_nodes("((a,b),c);"))
    assert {n: x for n, x, _ in clado} == {"a": 2.0, "b": 2.0, "c": 2.0}
    with pytest.raises(ValueError, match="end with"):
        _nodes("(a,b)")


def test_rotate_reference_removes_spurious_crossings():
    tree = _nodes("(((a,b),c),(d,e));")
    ref = _nodes("((e,d),(c,(b,a)));")  # same topology, children in another order
    ys = {n: y for n, _, y in _layout(tree)[1]}
    rotated = _rotate_to(ref, ys)
    assert [n for n, _, _ in _layout(rotated)[1]] == ["a", "b", "c", "d", "e"]


def test_tree_figure_prints_rf_di_and_leaf_purity(tmp_path):
    tree, ref = "((a:1,b:1):1,(c:1,d:1):1);", "((a,c),(b,d));"
    (tmp_path / "t.nwk").write_text(tree)
    (tmp_path / "r.nwk").write_text(ref)
    (tmp_path / "leaves.tsv").write_text("leaf\tpurity\tn_samples\na\t0.5\t4\nb\t1.0\t2\nc\t0.75\t4\nd\t1.0\t1\n")
    run = {"tree": str(tmp_path / "t.nwk"), "reference": str(tmp_path / "r.nwk"), "title": "x", "left": "hierarchy",
           "leaves": str(tmp_path / "leaves.tsv")}  # fmt: skip
    fig = R.tree_figure(run)
    s = compare_trees(tree, ref)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts} | {t.get_text() for t in fig.texts}
    assert any(f"RF {s['rf']}/{s['rf_max']}" in t and f"DI {s['di']:.3g}" in t for t in texts)
    assert {"a (50%)", "b (100%)", "c (75%)", "d (100%)"} <= texts
    run["reference"] = None
    texts = {t.get_text().strip() for ax in R.tree_figure(run).axes for t in ax.texts}
    assert "a (50%)" in texts


def test_tree_figures_name_the_distance_axis(tmp_path):
    (tmp_path / "t.nwk").write_text("((a:1,b:1):1,(c:1,d:1):1);")
    (tmp_path / "r.nwk").write_text("((a,c),(b,d));")
    run = {"tree": str(tmp_path / "t.nwk"), "reference": str(tmp_path / "r.nwk"), "title": "x", "left": "tree"}
    fig = R.tree_figure(run)
    assert fig.axes[0].get_xlabel() == "distance from the root (sum of branch lengths)"
    assert "cladogram" in fig.axes[2].get_xlabel()  # the reference has no branch lengths
    fig = R.tree_figure({**run, "xlabel": "euclidean distance"})
    assert fig.axes[0].get_xlabel() == "euclidean distance"
    assert R.tree_figure({**run, "reference": None, "xlabel": "Ward distance"}).axes[0].get_xlabel() == "Ward distance"


def test_pair_writes_the_trees_support_and_never_the_references_internal_names():
    from embtree.report.figures.trees import plot_tree_pair

    tree = "((a:1,b:1)97:1,(c:1,d:1)40:1);"
    reference = "((a,b)mammal.n.01,(c,d)bird.n.01)entity.n.01;"
    fig = plot_tree_pair(tree, reference)
    assert sorted(t.get_text().strip() for t in fig.axes[0].texts) == ["40", "97"]
    assert not fig.axes[2].texts  # the reference's synset labels are not support
    fig.clf()
