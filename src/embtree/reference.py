"""A data set's reference hierarchy over its own classes (CAEC paper section 4.5).

Three ways to a reference, all ending in a Newick tree whose leaves are exactly the data
set's class names:

* **a Newick file** (a shipped one such as ``resources/hierarchies/cifar10.nwk`` or the user's
  own): :func:`restrict_tree` prunes it to the data set's classes when they are a subset of its
  leaves (5 of the 10 CIFAR-10 classes), matching a class by its name or, failing that, by its
  WNID (the shipped ImageNet tree has WNID leaves; the data set has readable names), and
  renames the leaves to the class names. Pruning an induced WordNet tree gives the tree
  WordNet induces on the subset (tests/test_reference.py checks it), so no WordNet is needed;
* **WordNet for any class set** (config ``reference: wordnet``): :func:`class_synsets` finds a
  synset per class -- the ``synsets:`` TSV, else the WNIDs the data set carries (features
  file ``wnids``, WNID folder names), else the built-in CIFAR table, else the first WordNet noun
  sense of the class name (a *guess*, warned about) -- and :func:`wordnet_reference` builds
  the tree the way the shipped ones are built (:func:`embtree.wordnet.reference_tree`:
  hypernym paths merged, non-branching nodes removed). A class without any noun sense is
  *missing*: it hangs directly below the root (no claim about its place) and is warned about;
* the planted tree of synthetic data (``embtree.datasets.planted_tree``).
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np

from embtree.hierarchy.catalogue import CLASS_SYNSETS, read_synset_mapping

__all__ = [
    "SHIPPED_REFERENCES",
    "restrict_tree",
    "read_synset_mapping",
    "class_synsets",
    "wordnet_reference",
    "tree_to_newick",
]

log = logging.getLogger(__name__)

#: Reference hierarchies shipped in resources/hierarchies/ (config ``reference: <name>``).
SHIPPED_REFERENCES = ("cifar10", "cifar100", "cifar100-coarse", "imagenet")

_WNID = re.compile(r"^[nvasr]\d{8}$")


def tree_to_newick(tree, *, internal_labels=True) -> str:
    """A ``dendropy.Tree`` as Newick in embtree's quoting (``embtree.trees`` conventions).

    Written by hand rather than with dendropy's writer, which would turn ``_`` into spaces
    or quote labels differently from the shipped files; no branch lengths.
    """
    from .trees import _quote

    text = {}
    for node in tree.postorder_node_iter():
        if node.is_leaf():
            text[node] = _quote(node.taxon.label)
        else:
            label = node.label if (internal_labels and node.label) else ""
            text[node] = "(" + ",".join(text.pop(c) for c in node.child_node_iter()) + ")" + (
                _quote(label) if label else ""
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
    from .trees import _check_names, parse_newick

    names = _check_names(class_names, arg="class_names")
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
    wn : nltk WordNetCorpusReader (:func:`embtree.wordnet.load_wordnet`)
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
    import pandas as pd

    from .wordnet import resolve_synsets

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

    Built by :func:`embtree.wordnet.reference_tree` over the classes that have a synset;
    ``missing`` classes become leaves directly below the root. Returns ``(newick, warnings)``,
    one warning per guessed or missing class (also logged).
    """
    from .trees import _quote
    from .wordnet import reference_tree

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
        tree = "(" + ",".join(_quote(n) for n in found["class_name"]) + ");"
    else:
        tree = reference_tree(list(found["synset"]), names=list(found["class_name"]), wn=wn)
    if len(missing):
        extra = ",".join(_quote(n) for n in missing["class_name"])
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
