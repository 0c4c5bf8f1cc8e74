"""The class catalogue: built-in class lists, their WordNet synsets, and synset tables on disk.

Public names
------------
:data:`CLASS_SYNSETS`, :data:`CIFAR10_CLASSES`, :data:`CIFAR100_CLASSES`,
:data:`CIFAR100_COARSE_CLASSES`, :data:`CIFAR10_SYNSETS`, :data:`CIFAR100_SYNSETS`,
:data:`CIFAR100_SUPERCLASSES`, :data:`WNID_RE`; :func:`builtin_wnids`,
:func:`read_synset_mapping`, :func:`read_synsets_tsv`, :func:`synsets_override`,
:func:`synset_name_to_wnid`.

WordNet ids are ``n`` + the 8-digit WordNet 3.0 noun offset (ImageNet's convention).
Nothing here loads WordNet except :func:`synset_name_to_wnid` (through nltk).
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np

__all__ = [
    "CLASS_SYNSETS",
    "CIFAR10_CLASSES",
    "CIFAR100_CLASSES",
    "CIFAR100_COARSE_CLASSES",
    "CIFAR10_SYNSETS",
    "CIFAR100_SYNSETS",
    "CIFAR100_SUPERCLASSES",
    "WNID_RE",
    "builtin_wnids",
    "read_synset_mapping",
    "read_synsets_tsv",
    "synsets_override",
    "synset_name_to_wnid",
]

log = logging.getLogger(__name__)

# Class -> (WordNet 3.0 synset, WNID). CIFAR-10's are the standard synsets; CIFAR-100's were
# chosen by sense (e.g. seal -> the pinniped, ray -> the fish, keyboard -> computer keyboard,
# boy/girl -> male_child/female_child). CIFAR-100 "aquarium_fish" has no synset of its own:
# fish.n.01. Checked against WordNet 3.0 (Debian wordnet-base) with nltk, and kept equal to
# resources/hierarchies/{cifar10,cifar100}_synsets.tsv (tests/test_hierarchy_catalogue.py checks it).
_CIFAR10_SYNSETS = {
    "airplane": ("airplane.n.01", "n02691156"),
    "automobile": ("car.n.01", "n02958343"),
    "bird": ("bird.n.01", "n01503061"),
    "cat": ("cat.n.01", "n02121620"),
    "deer": ("deer.n.01", "n02430045"),
    "dog": ("dog.n.01", "n02084071"),
    "frog": ("frog.n.01", "n01639765"),
    "horse": ("horse.n.01", "n02374451"),
    "ship": ("ship.n.01", "n04194289"),
    "truck": ("truck.n.01", "n04490091"),
}

_CIFAR100_SYNSETS = {
    "apple": ("apple.n.01", "n07739125"),
    "aquarium_fish": ("fish.n.01", "n02512053"),
    "baby": ("baby.n.01", "n09827683"),
    "bear": ("bear.n.01", "n02131653"),
    "beaver": ("beaver.n.07", "n02363005"),
    "bed": ("bed.n.01", "n02818832"),
    "bee": ("bee.n.01", "n02206856"),
    "beetle": ("beetle.n.01", "n02164464"),
    "bicycle": ("bicycle.n.01", "n02834778"),
    "bottle": ("bottle.n.01", "n02876657"),
    "bowl": ("bowl.n.03", "n02880940"),
    "boy": ("male_child.n.01", "n10285313"),
    "bridge": ("bridge.n.01", "n02898711"),
    "bus": ("bus.n.01", "n02924116"),
    "butterfly": ("butterfly.n.01", "n02274259"),
    "camel": ("camel.n.01", "n02437136"),
    "can": ("can.n.01", "n02946921"),
    "castle": ("castle.n.02", "n02980441"),
    "caterpillar": ("caterpillar.n.01", "n02309337"),
    "cattle": ("cattle.n.01", "n02402425"),
    "chair": ("chair.n.01", "n03001627"),
    "chimpanzee": ("chimpanzee.n.01", "n02481823"),
    "clock": ("clock.n.01", "n03046257"),
    "cloud": ("cloud.n.02", "n09247410"),
    "cockroach": ("cockroach.n.01", "n02233338"),
    "couch": ("sofa.n.01", "n04256520"),
    "crab": ("crab.n.01", "n01976957"),
    "crocodile": ("crocodile.n.01", "n01697178"),
    "cup": ("cup.n.01", "n03147509"),
    "dinosaur": ("dinosaur.n.01", "n01699831"),
    "dolphin": ("dolphin.n.02", "n02068974"),
    "elephant": ("elephant.n.01", "n02503517"),
    "flatfish": ("flatfish.n.02", "n02657368"),
    "forest": ("forest.n.02", "n09284015"),
    "fox": ("fox.n.01", "n02118333"),
    "girl": ("female_child.n.01", "n10084295"),
    "hamster": ("hamster.n.01", "n02342885"),
    "house": ("house.n.01", "n03544360"),
    "kangaroo": ("kangaroo.n.01", "n01877134"),
    "keyboard": ("computer_keyboard.n.01", "n03085013"),
    "lamp": ("lamp.n.02", "n03636649"),
    "lawn_mower": ("lawn_mower.n.01", "n03649909"),
    "leopard": ("leopard.n.02", "n02128385"),
    "lion": ("lion.n.01", "n02129165"),
    "lizard": ("lizard.n.01", "n01674464"),
    "lobster": ("lobster.n.02", "n01982650"),
    "man": ("man.n.01", "n10287213"),
    "maple_tree": ("maple.n.02", "n12752205"),
    "motorcycle": ("motorcycle.n.01", "n03790512"),
    "mountain": ("mountain.n.01", "n09359803"),
    "mouse": ("mouse.n.01", "n02330245"),
    "mushroom": ("mushroom.n.05", "n07734744"),
    "oak_tree": ("oak.n.02", "n12268246"),
    "orange": ("orange.n.01", "n07747607"),
    "orchid": ("orchid.n.01", "n12041446"),
    "otter": ("otter.n.02", "n02444819"),
    "palm_tree": ("palm.n.03", "n12582231"),
    "pear": ("pear.n.01", "n07767847"),
    "pickup_truck": ("pickup.n.01", "n03930630"),
    "pine_tree": ("pine.n.01", "n11608250"),
    "plain": ("plain.n.01", "n09393605"),
    "plate": ("plate.n.04", "n03959485"),
    "poppy": ("poppy.n.01", "n11900569"),
    "porcupine": ("porcupine.n.01", "n02346627"),
    "possum": ("opossum.n.02", "n01874928"),
    "rabbit": ("rabbit.n.01", "n02324045"),
    "raccoon": ("raccoon.n.02", "n02508021"),
    "ray": ("ray.n.07", "n01495701"),
    "road": ("road.n.01", "n04096066"),
    "rocket": ("rocket.n.01", "n04099429"),
    "rose": ("rose.n.01", "n12620196"),
    "sea": ("sea.n.01", "n09426788"),
    "seal": ("seal.n.09", "n02076196"),
    "shark": ("shark.n.01", "n01482330"),
    "shrew": ("shrew.n.02", "n01891633"),
    "skunk": ("skunk.n.04", "n02445715"),
    "skyscraper": ("skyscraper.n.01", "n04233124"),
    "snail": ("snail.n.01", "n01944390"),
    "snake": ("snake.n.01", "n01726692"),
    "spider": ("spider.n.01", "n01772222"),
    "squirrel": ("squirrel.n.01", "n02355227"),
    "streetcar": ("streetcar.n.01", "n04335435"),
    "sunflower": ("sunflower.n.01", "n11978233"),
    "sweet_pepper": ("sweet_pepper.n.02", "n07720615"),
    "table": ("table.n.02", "n04379243"),
    "tank": ("tank.n.01", "n04389033"),
    "telephone": ("telephone.n.01", "n04401088"),
    "television": ("television_receiver.n.01", "n04405907"),
    "tiger": ("tiger.n.02", "n02129604"),
    "tractor": ("tractor.n.01", "n04465501"),
    "train": ("train.n.01", "n04468005"),
    "trout": ("trout.n.02", "n02537085"),
    "tulip": ("tulip.n.01", "n12454159"),
    "turtle": ("turtle.n.02", "n01662784"),
    "wardrobe": ("wardrobe.n.01", "n04550184"),
    "whale": ("whale.n.02", "n02062744"),
    "willow_tree": ("willow.n.01", "n12724942"),
    "wolf": ("wolf.n.01", "n02114100"),
    "woman": ("woman.n.01", "n10787470"),
    "worm": ("worm.n.01", "n01922303"),
}

#: Every built-in class name (CIFAR-10 and CIFAR-100) -> ``(synset name, WNID)``.
CLASS_SYNSETS = {**_CIFAR10_SYNSETS, **_CIFAR100_SYNSETS}
CIFAR10_CLASSES = tuple(_CIFAR10_SYNSETS)
CIFAR100_CLASSES = tuple(_CIFAR100_SYNSETS)  # the data set's own (alphabetical) label order
CIFAR100_COARSE_CLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2",
)  # fmt: skip

#: A noun WNID: ``n`` + the 8-digit WordNet 3.0 offset.
WNID_RE = re.compile(r"^n\d{8}$")

#: CIFAR-10 / CIFAR-100 classes in label order -> WordNet 3.0 synset. One table serves the
#: data sets (which also need the WNIDs) and the reference trees: this module.
#: CIFAR-100's "aquarium_fish" has no synset of its own and maps to fish.n.01.
CIFAR10_SYNSETS = {c: synset for c, (synset, _) in _CIFAR10_SYNSETS.items()}
CIFAR100_SYNSETS = {c: synset for c, (synset, _) in _CIFAR100_SYNSETS.items()}

#: CIFAR-100 superclasses in coarse-label order -> their five fine classes.
CIFAR100_SUPERCLASSES = {
    "aquatic_mammals": ["beaver", "dolphin", "otter", "seal", "whale"],
    "fish": ["aquarium_fish", "flatfish", "ray", "shark", "trout"],
    "flowers": ["orchid", "poppy", "rose", "sunflower", "tulip"],
    "food_containers": ["bottle", "bowl", "can", "cup", "plate"],
    "fruit_and_vegetables": ["apple", "mushroom", "orange", "pear", "sweet_pepper"],
    "household_electrical_devices": ["clock", "keyboard", "lamp", "telephone", "television"],
    "household_furniture": ["bed", "chair", "couch", "table", "wardrobe"],
    "insects": ["bee", "beetle", "butterfly", "caterpillar", "cockroach"],
    "large_carnivores": ["bear", "leopard", "lion", "tiger", "wolf"],
    "large_man-made_outdoor_things": ["bridge", "castle", "house", "road", "skyscraper"],
    "large_natural_outdoor_scenes": ["cloud", "forest", "mountain", "plain", "sea"],
    "large_omnivores_and_herbivores": ["camel", "cattle", "chimpanzee", "elephant", "kangaroo"],
    "medium_mammals": ["fox", "porcupine", "possum", "raccoon", "skunk"],
    "non-insect_invertebrates": ["crab", "lobster", "snail", "spider", "worm"],
    "people": ["baby", "boy", "girl", "man", "woman"],
    "reptiles": ["crocodile", "dinosaur", "lizard", "snake", "turtle"],
    "small_mammals": ["hamster", "mouse", "rabbit", "shrew", "squirrel"],
    "trees": ["maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"],
    "vehicles_1": ["bicycle", "bus", "motorcycle", "pickup_truck", "train"],
    "vehicles_2": ["lawn_mower", "rocket", "streetcar", "tank", "tractor"],
}


def read_synset_mapping(path) -> dict:
    """``class_name -> synset id`` (WNID ``n02084071`` or name ``dog.n.01``) from a TSV.

    Columns ``class_name`` and ``synset`` when the header names them (the layout of
    ``resources/hierarchies/*_synsets.tsv`` and of ``results/{dataset}/synsets.tsv``), else
    the first two columns; ``#`` lines are comments. Needs no WordNet.
    """
    path = Path(path)
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t") if r and not r[0].startswith("#")]
    name_col, syn_col = 0, 1
    if rows and "class_name" in rows[0]:
        header = rows.pop(0)
        if "synset" not in header:
            raise ValueError(f"{path}: header {header} has 'class_name' but no 'synset' column")
        name_col, syn_col = header.index("class_name"), header.index("synset")
    mapping = {}
    for row in rows:
        if len(row) <= max(name_col, syn_col):
            raise ValueError(f"{path}: line {row!r} has too few tab-separated columns")
        mapping[row[name_col].strip()] = row[syn_col].strip()
    return mapping


def builtin_wnids(class_names):
    """WNIDs from the built-in CIFAR-10 / CIFAR-100 table when every class name is in it, else None."""
    if all(str(c) in CLASS_SYNSETS for c in class_names):
        return np.array([CLASS_SYNSETS[str(c)][1] for c in class_names])
    return None


def read_synsets_tsv(path, class_names):
    """WNIDs for ``class_names`` from a TSV mapping class name -> synset.

    Columns ``class_name`` and ``synset`` when the header names them (the layout of
    ``resources/hierarchies/*_synsets.tsv``), else the first two columns. The synset may be a
    WNID (``n02691156``) or a WordNet synset name (``airplane.n.01``, resolved with nltk's
    WordNet). Every class must be listed.
    """
    path = Path(path)
    mapping = read_synset_mapping(path)
    missing = [str(c) for c in class_names if str(c) not in mapping]
    if missing:
        raise ValueError(f"{path}: no synset for classes {missing[:10]}")
    wnids = []
    for c in class_names:
        value = mapping[str(c)]
        if not WNID_RE.match(value):
            value = synset_name_to_wnid(value, path)
        wnids.append(value)
    return np.array(wnids)


def synsets_override(path, class_names, wnids):
    """WNIDs from a ``synsets:`` TSV that must list every class; needs no WordNet.

    When the TSV gives synset *names* (``dog.n.01``) the data set keeps its own ``wnids``:
    only the WordNet reference job (:mod:`embtree.hierarchy.reference`), which loads WordNet anyway,
    resolves them, so an embedding job never needs WordNet.
    """
    mapping = read_synset_mapping(path)
    missing = [str(c) for c in class_names if str(c) not in mapping]
    if missing:
        raise ValueError(f"{path}: no synset for classes {missing[:10]}")
    values = [mapping[str(c)] for c in class_names]
    if all(WNID_RE.match(v) for v in values):
        return np.array(values)
    log.info("%s gives synset names; the WordNet reference job resolves them", path)
    return wnids


def synset_name_to_wnid(name, source):
    """The WNID of synset ``name`` (``dog.n.01`` -> ``n02084071``) from nltk's own WordNet.

    ``source`` (the file the name came from) is named in the ``ValueError`` raised when nltk
    has no WordNet or no such synset.
    """
    try:
        from nltk.corpus import wordnet as wn  # deferred: slow import, only for synset names

        synset = wn.synset(name)
    except Exception as exc:  # LookupError (no WordNet data) or WordNetError (bad name)
        raise ValueError(
            f"{source}: cannot resolve synset {name!r} with nltk's WordNet ({exc}); "
            "give the WNID (n + 8-digit offset) instead"
        ) from exc
    return f"{synset.pos()}{synset.offset():08d}"
