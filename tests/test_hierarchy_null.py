"""Null distribution of tree scores (embtree.hierarchy.null): random trees, score_null, chance_and_p."""

from collections import Counter
from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from embtree.data.planted import planted_tree
from embtree.hierarchy.compare import ReferenceTree, compare_trees
from embtree.hierarchy.newick import newick_to_linkage, parse_newick
from embtree.hierarchy.null import (
    MODELS,
    NULL_SCORES,
    SCORE_DIRECTIONS,
    chance_and_p,
    random_binary_tree,
    score_null,
)
from embtree.report.common import DIRECTIONS

# ---------------------------------------------------------------- helpers


def _clades(newick):
    """Non-root clades of a rooted tree: a frozenset of frozensets of leaf names (its topology)."""
    tree = parse_newick(newick)
    n = len(tree.leaf_nodes())
    out = set()
    for nd in tree.postorder_internal_node_iter():
        s = frozenset(x.taxon.label for x in nd.leaf_iter())
        if len(s) < n:
            out.add(s)
    return frozenset(out)


def _planted(depth=3, branching=2):
    *_, newick = planted_tree(depth=depth, branching=branching, dim=2, samples_per_class=1, seed=0)
    return newick


NAMES4 = ["a", "b", "c", "d"]


def _four_leaf_topologies():
    """The 15 rooted binary topologies on 4 leaves: 3 balanced, 12 caterpillars."""
    balanced = set()
    for pair in combinations(NAMES4, 2):
        rest = frozenset(NAMES4) - set(pair)
        balanced.add(frozenset({frozenset(pair), rest}))
    caterpillars = set()
    for pair in combinations(NAMES4, 2):
        for third in set(NAMES4) - set(pair):
            caterpillars.add(frozenset({frozenset(pair), frozenset(pair) | {third}}))
    assert len(balanced) == 3 and len(caterpillars) == 12
    return balanced, caterpillars


# ---------------------------------------------------------------- random trees


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("n", [2, 3, 7, 60])
def test_random_tree_is_binary_over_exactly_the_leaves(model, n):
    names = [f"x{i}" for i in range(n)][::-1]
    for seed in range(5):
        newick = random_binary_tree(names, model=model, rng=seed)
        tree = parse_newick(newick)
        assert sorted(x.taxon.label for x in tree.leaf_node_iter()) == sorted(names)
        assert all(nd.num_child_nodes() == 2 for nd in tree.internal_nodes())
        assert len(tree.internal_nodes()) == n - 1
        Z, _ = newick_to_linkage(newick)  # a valid scipy linkage (checked inside)
        assert Z.shape == (n - 1, 4)


def test_random_tree_keeps_awkward_names():
    names = ["maple_tree", "it's", "a b", "x(1)"]
    tree = parse_newick(random_binary_tree(names, model="uniform", rng=0))
    assert sorted(x.taxon.label for x in tree.leaf_node_iter()) == sorted(names)


def test_uniform_model_gives_each_four_leaf_topology_one_fifteenth():
    balanced, caterpillars = _four_leaf_topologies()
    rng = np.random.default_rng(7)
    n = 3000
    counts = Counter(_clades(random_binary_tree(NAMES4, model="uniform", rng=rng)) for _ in range(n))
    assert set(counts) == balanced | caterpillars
    observed = [counts[t] for t in balanced | caterpillars]
    assert stats.chisquare(observed).pvalue > 1e-3  # expected n / 15 each


def test_yule_model_matches_harding_probabilities_on_four_leaves():
    """Yule-Harding, 4 leaves: each balanced topology 1/9 (1/3 together), each caterpillar 1/18."""
    balanced, caterpillars = _four_leaf_topologies()
    rng = np.random.default_rng(8)
    n = 3600
    counts = Counter(_clades(random_binary_tree(NAMES4, model="yule", rng=rng)) for _ in range(n))
    assert set(counts) == balanced | caterpillars
    topologies = sorted(balanced, key=sorted) + sorted(caterpillars, key=sorted)
    observed = [counts[t] for t in topologies]
    expected = [n / 9] * 3 + [n / 18] * 12
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    share_balanced = sum(counts[t] for t in balanced) / n
    assert abs(share_balanced - 1 / 3) < 0.03
    # and the uniform model is told apart: its balanced share is 3 / 15
    uni = Counter(_clades(random_binary_tree(NAMES4, model="uniform", rng=rng)) for _ in range(n))
    assert abs(sum(uni[t] for t in balanced) / n - 0.2) < 0.03


def test_random_tree_is_deterministic_for_a_seed():
    names = [f"x{i}" for i in range(40)]
    for model in MODELS:
        a = random_binary_tree(names, model=model, rng=3)
        assert a == random_binary_tree(names, model=model, rng=np.random.default_rng(3))
        assert a != random_binary_tree(names, model=model, rng=4)


# ---------------------------------------------------------------- score_null


@pytest.mark.parametrize("model", MODELS)
def test_score_null_is_compare_trees_on_each_random_tree(model):
    """Tree t of score_null is random_binary_tree on the t-th spawned stream, scored by compare_trees."""
    ref = ReferenceTree(_planted(depth=2, branching=4))  # 16 leaves, multifurcating
    scores = tuple(SCORE_DIRECTIONS)
    null = score_null(ref, n_trees=12, model=model, seed=5, scores=scores)
    children = np.random.SeedSequence(5).spawn(12)
    for t in (0, 3, 11):
        tree = random_binary_tree(ref.names, model=model, rng=np.random.default_rng(children[t]))
        row = compare_trees(tree, ref)
        assert {s: null[s][t] for s in scores} == {s: row[s] for s in scores}


def test_score_null_equals_compare_trees_at_100_leaves():
    newick = _planted(depth=2, branching=10)
    null = score_null(newick, n_trees=3, seed=1)
    ref = ReferenceTree(newick)
    children = np.random.SeedSequence(1).spawn(3)
    for t in range(3):
        row = compare_trees(random_binary_tree(ref.names, rng=np.random.default_rng(children[t])), newick)
        assert all(null[s][t] == row[s] for s in NULL_SCORES)


def test_score_null_shapes_types_and_determinism():
    newick = _planted()
    a = score_null(newick, n_trees=20, seed=2)
    assert tuple(a) == NULL_SCORES
    assert a["rf"].dtype == np.int64 and a["di_norm"].dtype == np.float64
    assert all(v.shape == (20,) for v in a.values())
    b = score_null(ReferenceTree(newick), leaves=sorted(ReferenceTree(newick).names, reverse=True), n_trees=20, seed=2)
    for s in a:
        np.testing.assert_array_equal(a[s], b[s])
    c = score_null(newick, n_trees=20, seed=3)
    assert not np.array_equal(a["di_norm"], c["di_norm"])
    prefix = score_null(newick, n_trees=7, seed=2)  # the first trees do not depend on n_trees
    for s in a:
        np.testing.assert_array_equal(prefix[s], a[s][:7])
    d = score_null(newick, n_trees=20, seed=2, model="uniform")
    assert not np.array_equal(a["di_norm"], d["di_norm"])


def test_reference_itself_beats_every_random_tree():
    """A tree equal to the reference: p = 1 / (n + 1) for every score, chance far from perfect."""
    newick = _planted(depth=3, branching=3)  # 27 leaves, 12 non-root clades
    n = 200
    for model in MODELS:
        null = score_null(newick, n_trees=n, model=model, seed=0)
        observed = compare_trees(newick, newick)
        assert (observed["rf"], observed["clade_recall"], observed["clade_precision"], observed["di_norm"]) == (
            0, 1.0, 1.0, 0.0)
        res = chance_and_p(observed, null)
        for s in NULL_SCORES:
            assert res[f"{s}_p"] <= 1 / (n + 1) * (1 + 1e-9) < 0.01
        assert res["rf_chance"] > 25  # rf_max = 24 binary splits + 12 reference splits = 36
        assert res["clade_recall_chance"] < 0.2
        assert res["clade_precision_chance"] < 0.3
        assert res["di_norm_chance"] > 0.2


def test_random_tree_gets_roughly_uniform_p():
    """An observed tree drawn from the null model: p is (super-)uniform.

    di_norm is nearly continuous, so its mean p is near 1/2. rf, recall and precision tie a
    lot (most random trees share no clade with the reference), and ties count as "at least
    as good", so their mean p is 1/2 + 1/2 * P(tie), which the null's own ties estimate.
    """
    newick = _planted(depth=3, branching=2)  # 8 leaves, binary
    ref = ReferenceTree(newick)
    null = score_null(ref, n_trees=300, seed=11)
    ps = [chance_and_p(compare_trees(random_binary_tree(ref.names, rng=1000 + i), ref), null)
          for i in range(50)]
    for s in NULL_SCORES:
        p = np.array([r[f"{s}_p"] for r in ps])
        x = null[s]
        tie = np.mean([(x == v).mean() for v in x])
        expect = 0.5 + 0.5 * tie
        assert abs(p.mean() - expect) < 0.12, (s, p.mean(), expect)
        assert (p <= 0.1).mean() <= 0.1 + 0.08
    p_di = np.array([r["di_norm_p"] for r in ps])
    assert 0.3 < p_di.mean() < 0.7


# ---------------------------------------------------------------- chance_and_p


def test_chance_and_p_respects_each_direction():
    null = {
        "rf": np.array([0, 1, 2, 3]),  # lower is better: 0 and 1 are at least as good as 1
        "clade_recall": np.array([0.0, 0.5, 1.0]),  # higher is better: 0.5 and 1.0
        "di_norm": np.array([0.1, 0.2, 0.2 + 1e-13, 0.3]),  # rounding-level ties count
    }
    res = chance_and_p({"rf": 1, "clade_recall": 0.5, "di_norm": 0.2, "other": 5}, null)
    assert res == pytest.approx({
        "rf_chance": 1.5, "rf_p": 3 / 5,
        "clade_recall_chance": 0.5, "clade_recall_p": 3 / 4,
        "di_norm_chance": 0.2, "di_norm_p": 4 / 5,
    })
    worst = chance_and_p({"rf": 99, "clade_recall": 0.0}, {"rf": null["rf"], "clade_recall": null["clade_recall"]})
    assert worst["rf_p"] == 1.0 and worst["clade_recall_p"] == 1.0
    best = chance_and_p({"rf": -1}, {"rf": null["rf"]})
    assert best["rf_p"] == 1 / 5


def test_chance_and_p_nan():
    """A star reference has no clade to recall: recall is NaN for every tree, so are chance and p."""
    null = {"clade_recall": np.full(5, np.nan), "rf": np.arange(5)}
    res = chance_and_p({"clade_recall": float("nan"), "rf": 2}, null)
    assert np.isnan(res["clade_recall_chance"]) and np.isnan(res["clade_recall_p"])
    assert res["rf_p"] == 4 / 6


def test_directions_agree_with_compare_and_report():
    for s, d in SCORE_DIRECTIONS.items():
        assert DIRECTIONS[s] == d
    assert set(NULL_SCORES) <= set(SCORE_DIRECTIONS)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_trees": 0}, "n_trees=0"),
    ({"n_trees": 2.5}, "n_trees=2.5"),
    ({"model": "coalescent"}, "model='coalescent'"),
    ({"seed": -1}, "seed=-1"),
    ({"scores": ("rf", "purity")}, "scores=.*unknown: \\['purity'\\]"),
    ({"scores": ()}, "scores=()"),
    ({"leaves": ["c0_0_0", "c0_0_1"]}, "leaves must be the reference's leaves"),
    ({"leaves": ["a", "a"]}, "leaves has duplicate"),
])
def test_score_null_bad_input_names_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        score_null(_planted(), **kwargs)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (["a"], {"rng": 0}, "leaves has 1 name"),
    (["a", "b", "a"], {"rng": 0}, "leaves has duplicate"),
    (["a", "b", "c"], {"rng": 0, "model": "pda"}, "model='pda'"),
    (["a", "b", "c"], {"rng": "seed"}, "rng='seed'"),
    (["a", "b", "c"], {"rng": None}, "rng=None"),
])
def test_random_tree_bad_input_names_the_argument(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        random_binary_tree(args, **kwargs)


def test_chance_and_p_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="observed has no \\['di_norm'\\]"):
        chance_and_p({"rf": 1}, {"rf": np.arange(3), "di_norm": np.ones(3)})
    with pytest.raises(ValueError, match="null should be"):
        chance_and_p({"rf": 1}, {})
    with pytest.raises(ValueError, match="null\\['rf'\\]"):
        chance_and_p({"rf": 1}, {"rf": np.array([])})
