"""Reference hierarchies: the trees a result is compared with (paper 000 section 4.5).

Public names
------------
Built from WordNet: :func:`reference_tree` (the tree WordNet induces on synsets),
:func:`common_hypernym`, :func:`builtin_hierarchies` (the trees shipped in
``resources/hierarchies/``, names in :data:`SHIPPED_REFERENCES`), :func:`imagenet_wnids`.
Over a data set's own classes: :func:`restrict_tree` (a shipped or given tree pruned to them),
:func:`class_synsets` (a synset per class: TSV, carried WNIDs, built-in table or a guess),
:func:`wordnet_reference` (the WordNet tree over them), :func:`class_info_from_arrays`;
:func:`tree_to_newick` (a ``dendropy.Tree`` written in embtree's quoting).

How the tree is induced (hypernym path choice, collapsing) and why: docs/methods/reference-trees.md.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from embtree.hierarchy.catalogue import (
    CIFAR10_SYNSETS,
    CIFAR100_SUPERCLASSES,
    CIFAR100_SYNSETS,
    CLASS_SYNSETS,
)
from embtree.hierarchy.newick import check_names, parse_newick, quote_label
from embtree.hierarchy.wordnet import load_wordnet, resolve_synsets

__all__ = [
    "SHIPPED_REFERENCES",
    "reference_tree",
    "common_hypernym",
    "imagenet_wnids",
    "builtin_hierarchies",
    "restrict_tree",
    "class_synsets",
    "wordnet_reference",
    "class_info_from_arrays",
    "tree_to_newick",
]

log = logging.getLogger(__name__)

#: Reference hierarchies shipped in resources/hierarchies/ (config ``reference: <name>``).
SHIPPED_REFERENCES = ("cifar10", "cifar100", "cifar100-coarse", "imagenet")

_WNID = re.compile(r"^[nvasr]\d{8}$")


# ---------------------------------------------------------------------------
# The tree WordNet induces on a set of synsets
# ---------------------------------------------------------------------------


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
        Which hypernym path to use when a synset has several: the longest (the most
        specific chain), or the first; ties and "first" are taken in the paths' sorted
        order (docs/methods/reference-trees.md).
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
    ids = [str(s) for s in synsets]
    if len(ids) < 3:
        raise ValueError(f"synsets has {len(ids)} entries; a reference tree needs at least 3 classes")
    leaves = check_names(ids if names is None else names, len(ids), "names" if names is not None else "synsets")
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

    # Iterative post-order build with unary-node collapsing.
    memo_first = {}
    stack = [(root, False)]
    text: dict = {}
    while stack:
        node, done = stack.pop()
        if isinstance(node, tuple):
            text[node] = quote_label(leaves[node[1]])
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
            label = quote_label(node) if internal_labels else ""
            text[node] = "(" + ",".join(text.pop(k) for k in kids) + ")" + label
    out = text[root]
    if not out.startswith("("):  # pragma: no cover - n >= 3 distinct leaves always branch
        raise ValueError("reference tree degenerated to a single leaf")
    return out + ";"


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
    from timm.data import ImageNetInfo  # deferred: timm imports torch (seconds), needed only here

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


# ---------------------------------------------------------------------------
# A data set's reference over its own classes
# ---------------------------------------------------------------------------


def tree_to_newick(tree, *, internal_labels=True) -> str:
    """A ``dendropy.Tree`` as Newick in embtree's quoting (:mod:`embtree.hierarchy.newick` conventions).

    Written by hand rather than with dendropy's writer, which would turn ``_`` into spaces
    or quote labels differently from the shipped files; no branch lengths.
    """
    text = {}
    for node in tree.postorder_node_iter():
        if node.is_leaf():
            text[node] = quote_label(node.taxon.label)
        else:
            label = node.label if (internal_labels and node.label) else ""
            text[node] = "(" + ",".join(text.pop(c) for c in node.child_node_iter()) + ")" + (
                quote_label(label) if label else ""
            )
    return text[tree.seed_node] + ";"


def restrict_tree(newick, class_names, wnids=None, *, source="reference tree"):
    """Prune ``newick`` to the data set's classes and name its leaves by them.

    Parameters
    ----------
    newick : str
        Rooted Newick; its leaves are class names or WNIDs.
    class_names : sequence of str, length n_classes
    wnids : sequence of str or None, length n_classes
        The classes' WNIDs, used for the classes whose name is not a leaf.
    source : str
        Named in error messages (the file or the config key).

    Returns
    -------
    newick : str
        Leaves = ``class_names`` (every other leaf removed, then every internal node left
        with one child removed); internal labels kept.
    dropped : list of str
        The leaves that were pruned away (empty when the tree fit exactly).

    Raises ``ValueError`` naming the classes found neither by name nor by WNID.
    """
    names = check_names(class_names, arg="class_names")
    if wnids is not None and len(wnids) != len(names):
        raise ValueError(f"len(wnids)={len(wnids)} != len(class_names)={len(names)}")
    tree = parse_newick(newick)
    leaves = {leaf.taxon.label: leaf for leaf in tree.leaf_node_iter()}
    keep, missing = {}, []
    for i, name in enumerate(names):
        if name in leaves:
            keep[name] = name
        elif wnids is not None and wnids[i] is not None and str(wnids[i]) in leaves:
            keep[str(wnids[i])] = name
        else:
            missing.append(name)
    if missing:
        raise ValueError(
            f"{source}: {len(missing)} of the data set's {len(names)} classes are not leaves of "
            f"the tree (by name or WNID): {missing[:10]}; tree leaves include {sorted(leaves)[:10]}"
        )
    if len(keep) < 3:
        raise ValueError(f"{source}: only {len(keep)} classes; a reference tree needs at least 3")
    dropped = sorted(set(leaves) - set(keep))
    if dropped:
        tree.prune_taxa_with_labels(dropped, suppress_unifurcations=True)
    # prune_* keeps a unary root when the root itself lost all but one child.
    while tree.seed_node.num_child_nodes() == 1:
        tree.seed_node = tree.seed_node.child_nodes()[0]
        tree.seed_node.parent_node = None
    for leaf in tree.leaf_node_iter():
        leaf.taxon.label = keep[leaf.taxon.label]
    return tree_to_newick(tree), dropped


def _lemma_queries(name):
    """Spellings of a class name to look up as a WordNet lemma ("Pickup Truck" -> pickup_truck)."""
    base = re.sub(r"[\s\-]+", "_", str(name).strip()).lower()
    out = [base]
    if "_" in base:
        out.append(base.replace("_", ""))  # "air_plane" -> "airplane"
    return out


def class_synsets(class_names, *, wn, wnids=None, mapping=None):
    """One WordNet synset per class, and how it was found.

    Parameters
    ----------
    class_names : sequence of str, length n_classes
    wn : nltk WordNetCorpusReader (:func:`embtree.hierarchy.wordnet.load_wordnet`)
    wnids : sequence of str or None, length n_classes
        WNIDs the data set carries (``None`` entries / ``None``: unknown).
    mapping : dict or None
        ``class_name -> synset id`` from the config's ``synsets:`` TSV; wins over ``wnids``.

    Returns
    -------
    pandas.DataFrame with one row per class, in class order: ``index``, ``class_name``,
    ``wnid``, ``synset`` (name, e.g. ``dog.n.01``; empty when missing), ``source`` (``synsets``
    -- the TSV, ``wnid`` -- carried by the data, ``builtin`` -- a CIFAR class name in
    ``embtree.hierarchy.catalogue.CLASS_SYNSETS``, ``guessed`` -- first noun sense of the name, ``missing``
    -- no noun sense), ``definition``.
    """
    names = [str(c) for c in class_names]
    mapping = mapping or {}
    rows = []
    for i, name in enumerate(names):
        given, source = None, None
        if name in mapping:
            given, source = mapping[name], "synsets"
        elif wnids is not None and wnids[i] is not None and _WNID.match(str(wnids[i])):
            given, source = str(wnids[i]), "wnid"
        elif name in CLASS_SYNSETS:  # a CIFAR class name: the built-in table's synset, not a guess
            given, source = CLASS_SYNSETS[name][0], "builtin"
        if given is not None:
            try:
                syn = resolve_synsets([given], wn)[0]
            except ValueError as exc:
                raise ValueError(f"class {name!r}: {source} entry {given!r} is not a WordNet 3.0 synset") from exc
        else:
            syn = None
            for query in _lemma_queries(name):
                found = wn.synsets(query, pos="n")
                if found:
                    syn, source = found[0], "guessed"
                    break
            if syn is None:
                source = "missing"
        rows.append({
            "index": i,
            "class_name": name,
            "wnid": "" if syn is None else f"{syn.pos()}{syn.offset():08d}",
            "synset": "" if syn is None else syn.name(),
            "source": source,
            "definition": "" if syn is None else syn.definition(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def wordnet_reference(table, *, wn):
    """The WordNet reference tree over the classes of :func:`class_synsets`'s ``table``.

    Built by :func:`reference_tree` over the classes that have a synset;
    ``missing`` classes become leaves directly below the root. Returns ``(newick, warnings)``,
    one warning per guessed or missing class (also logged).
    """
    found = table[table["source"] != "missing"]
    missing = table[table["source"] == "missing"]
    warnings = []
    for row in table.itertuples():
        if row.source == "guessed":
            warnings.append(
                f"class {row.class_name!r}: no synset given, guessed {row.synset} (first noun sense: "
                f"{row.definition!r}); if wrong, list the class in a `synsets:` TSV"
            )
        elif row.source == "missing":
            warnings.append(
                f"class {row.class_name!r}: no WordNet noun of that name; placed directly below the "
                "root of the reference tree (give its synset in a `synsets:` TSV)"
            )
    for w in warnings:
        log.warning(w)
    if len(found) < 2 or len(table) < 3:
        raise ValueError(
            f"only {len(found)} of {len(table)} classes have a WordNet synset; a reference tree needs at "
            "least 3 classes, 2 of them in WordNet (give synsets in a `synsets:` TSV)"
        )
    if len(found) == 2:  # reference_tree needs 3; two synsets meet at their common hypernym
        tree = "(" + ",".join(quote_label(n) for n in found["class_name"]) + ");"
    else:
        tree = reference_tree(list(found["synset"]), names=list(found["class_name"]), wn=wn)
    if len(missing):
        extra = ",".join(quote_label(n) for n in missing["class_name"])
        body = tree[:-1]  # "(...)label"
        close = body.rfind(")")
        tree = body[:close] + "," + extra + body[close:] + ";"
    return tree, warnings


def class_info_from_arrays(class_names, wnids):
    """``(class_names, wnids)`` as lists of str, ``wnids`` entries ``None`` where unknown."""
    names = [str(c) for c in np.asarray(class_names).ravel()]
    if wnids is None:
        return names, None
    w = [str(x) if str(x) and _WNID.match(str(x)) else None for x in np.asarray(wnids).ravel()]
    return names, w
