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


# ---------------------------------------------------------------- circular, superclass colours, collapsing
import collections  # noqa: E402

import matplotlib.colors  # noqa: E402
import numpy as np  # noqa: E402
from scipy.cluster import hierarchy  # noqa: E402

from embtree.hierarchy.granularity import superclasses  # noqa: E402
from embtree.hierarchy.newick import linkage_to_newick, parse_newick  # noqa: E402
from embtree.report.common import MissingResultsError  # noqa: E402
from embtree.report.figures import trees as T  # noqa: E402


def _complete(branching, depth):
    """Newick of a complete tree, internal nodes labelled n<path>, leaves c<path>."""
    def node(path):
        if len(path) == depth:
            return "c" + "_".join(map(str, path))
        kids = ",".join(node(path + (k,)) for k in range(branching))
        return f"({kids})n{''.join(map(str, path))}"
    return node(()) + ";"


def _random_binary(names, seed=0):
    """A UPGMA tree (branch lengths) over ``names`` from random points: a tree that mixes superclasses."""
    Z = hierarchy.average(np.random.default_rng(seed).normal(size=(len(names), 3)))
    return linkage_to_newick(Z, names)


def _leaves(newick):
    return [x.taxon.label for x in parse_newick(newick).leaf_node_iter()]


def test_circular_figure_colours_every_leaf_and_branch_by_its_superclass():
    ref = _complete(3, 3)  # 27 classes, superclasses n0 / n1 / n2 at depth 1
    tree = _random_binary(_leaves(ref))
    fig = T.draw_trees(tree, ref, style={"layout": "circular", "superclass_depth": 1}, colour_by=ref)
    sup, _ = superclasses(ref, 1)
    assert set(sup.values()) == {"n0", "n1", "n2"}
    colours = T.superclass_colours(sup)
    ax_tree, ax_ref = fig.axes[:2]
    hexes = lambda c: matplotlib.colors.to_hex(c)  # noqa: E731
    for ax in (ax_tree, ax_ref):  # every leaf name in its depth-1 ancestor's colour
        assert len(ax.texts) == 27
        assert all(hexes(t.get_color()) == colours[sup[t.get_text()]] for t in ax.texts)
    # Branches: every non-root node draws one radial line and every internal node one arc, each in the
    # colour its leaves share (grey where they mix): the multiset of line colours follows from the tree.
    expected = collections.Counter()
    for nd in parse_newick(tree).preorder_node_iter():
        below = {sup[x.taxon.label] for x in nd.leaf_iter()}
        colour = colours[below.pop()] if len(below) == 1 else T.MIXED
        expected[hexes(colour)] += (nd.parent_node is not None) + (not nd.is_leaf())
    drawn = collections.Counter(hexes(c) for c in ax_tree.collections[0].get_colors())
    if len(drawn) == 1:  # LineCollection keeps one colour per line only when they differ
        drawn = collections.Counter({next(iter(drawn)): len(ax_tree.collections[0].get_segments())})
    assert drawn == expected
    # The legend names each superclass with its number of classes.
    legend = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"n0 (9)", "n1 (9)", "n2 (9)"} <= legend


def test_circular_lines_bend_the_rectangular_layout_around_the_root():
    tree = T._nodes("((a:1,b:2):1,c:3);")
    segs, leaves = T._layout(tree)
    lines = T.circular_lines(segs, len(leaves))
    for ((x0, y0), (x1, y1)), pts in zip(segs, lines):
        r = np.hypot(pts[:, 0], pts[:, 1])
        if y0 == y1:  # along x: a radial line at the leaf's angle, from radius x0 to x1
            np.testing.assert_allclose(r[[0, -1]], [x0, x1], atol=1e-12)
            theta = np.arctan2(pts[-1, 1], pts[-1, 0]) % (2 * np.pi)
            assert theta == pytest.approx(float(T._theta(y0, len(leaves))))
        else:  # along y: an arc at radius x0
            np.testing.assert_allclose(r, x0, atol=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_collapsing_draws_one_tip_per_clade_at_the_depth(depth):
    tree = _random_binary([f"l{i}" for i in range(40)], seed=3)
    # Reference count with dendropy: the nodes at that depth, and the leaves above it.
    nodes = list(parse_newick(tree).preorder_node_iter())
    want = sum(1 for nd in nodes if nd.level() == depth or (nd.is_leaf() and nd.level() < depth))
    assert T.clades_at(tree, depth) == want
    collapsed, members = T.collapse_tree(tree, depth)
    tips = T._leaf_names(collapsed)
    assert len(tips) == want
    # The tips partition the leaves: each leaf is kept or inside exactly one collapsed clade.
    covered = [x for tip in tips for x in members.get(tip, [tip])]
    assert sorted(covered) == sorted(_leaves(tree))
    fig = T.draw_trees(tree, style={"layout": "circular", "collapse_depth": depth})
    assert len(fig.axes[0].texts) == want
    if want < 40:  # the title says the figure is collapsed (and the Newick file is not)
        assert f"clades below depth {depth} collapsed: {want} tips for 40 leaves" in fig._suptitle.get_text()


def test_collapsed_tips_are_labelled_and_coloured_by_their_superclass():
    ref = _complete(2, 3)  # superclasses n0 / n1 at depth 1, each of 4 classes
    tree = "(((c0_0_0,c0_0_1),(c0_1_0,c0_1_1)),((c1_0_0,c1_0_1),(c1_1_0,c1_1_1)));"
    fig = T.draw_trees(tree, ref, style={"layout": "circular", "superclass_depth": 1, "collapse_depth": 1},
                       colour_by=ref)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["n0 100% · 4 leaves", "n1 100% · 4 leaves"]
    mixed = "(((c0_0_0,c1_0_1),(c0_1_0,c0_1_1)),((c1_0_0,c0_0_1),(c1_1_0,c1_1_1)));"
    fig = T.draw_trees(mixed, ref, style={"layout": "circular", "superclass_depth": 1, "collapse_depth": 1},
                       colour_by=ref)
    texts = {t.get_text(): matplotlib.colors.to_hex(t.get_color()) for t in fig.axes[0].texts}
    grey = matplotlib.colors.to_hex(T.MIXED)  # a clade mixing superclasses gets none of their colours
    assert texts == {"n0 75% · 4 leaves": grey, "n1 75% · 4 leaves": grey}


def test_auto_collapse_only_above_two_thousand_leaves():
    small = _complete(2, 10)  # 1,024 leaves: drawn whole
    assert T.auto_collapse_depth(small) is None
    big = _complete(4, 6)  # 4,096 leaves: depth 4 leaves 256 clades, depth 5 1,024 > COLLAPSE_TO
    assert T.auto_collapse_depth(big) == 4


def test_auto_layout_is_rectangular_up_to_sixty_leaves():
    names = [f"l{i}" for i in range(61)]
    ref = "(" + ",".join(names) + ");"
    small = T.draw_trees(_random_binary(names[:60]), "(" + ",".join(names[:60]) + ");")
    assert len(small.axes) == 3  # tree | joining lines | reference
    big = T.draw_trees(_random_binary(names), ref)
    assert len(big.axes) == 2 and all(ax.get_aspect() == 1.0 for ax in big.axes)  # two circles
    assert len(T.draw_trees(_random_binary(names[:10]), style={"layout": "circular"}).axes) == 1


def test_before_after_figure_compares_the_two_trees(tmp_path):
    before, after = "((a:1,b:1):1,(c:1,d:1):1);", "((a:1,c:1):1,(b:1,d:1):1);"
    for name, text in (("b.nwk", before), ("a.nwk", after), ("same.nwk", before), ("r.nwk", "((a,b)x,(c,d)y);")):
        (tmp_path / name).write_text(text)
    run = {"before": str(tmp_path / "b.nwk"), "after": str(tmp_path / "a.nwk"), "reference": str(tmp_path / "r.nwk"),
           "title": "t", "left": "before", "right": "after", "xlabel": "euclidean distance"}
    fig = T.before_after_figure(run)
    line = " ".join(t.get_text() for t in fig.texts)
    assert "before vs after: RF 2/" in line and "topologies differ" in line
    assert "before RF 0, recall 1.00; after RF 2, recall 0.00" in line
    assert fig.axes[0].get_xlabel() == fig.axes[2].get_xlabel() == "euclidean distance"  # both phylograms
    same = T.before_after_figure({**run, "after": str(tmp_path / "same.nwk"), "reference": None})
    assert "RF 0/" in " ".join(t.get_text() for t in same.texts) and not same.legends  # no reference: no colours
    with pytest.raises(MissingResultsError, match="gone.nwk"):
        T.before_after_figure({**run, "after": str(tmp_path / "gone.nwk")})
    assert "gone.nwk" in T.before_after_figure({**run, "after": str(tmp_path / "gone.nwk")}, partial=True).axes[0].texts[0].get_text()
