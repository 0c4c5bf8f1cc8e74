"""embtree.data.datasets: the loaders, subsampling through the config, bad input."""

import numpy as np
import pytest

from embtree.data.datasets import dataset_class_names, imagenet_class_names, load_dataset, eval_spec
from embtree.hierarchy.catalogue import CIFAR10_CLASSES, CLASS_SYNSETS


def test_digits_are_real_3_channel_images():
    data = load_dataset({"type": "digits"})
    assert len(data) == 1797 and data.n_classes == 10
    assert np.bincount(data.labels).min() >= 170
    img = data.image(0)
    assert img.mode == "RGB" and img.size == (8, 8)
    pixels = np.asarray(img)
    assert (pixels[..., 0] == pixels[..., 2]).all()  # grey in 3 channels
    assert data.images.array.max() == 255  # 16 grey levels scaled to the full uint8 range


def test_max_per_class_is_stratified_seeded_and_order_preserving():
    spec = {"type": "digits", "max_per_class": 20, "subsample_seed": 3}
    a, b = load_dataset(spec), load_dataset(spec)
    assert len(a) == 200 and (np.bincount(a.labels) == 20).all()
    assert list(a.sample_ids) == list(b.sample_ids)
    assert list(a.sample_ids) != list(load_dataset({**spec, "subsample_seed": 4}).sample_ids)
    idx = np.array([int(s.split("/")[1]) for s in a.sample_ids])
    assert (np.diff(idx) > 0).all()
    full = load_dataset({"type": "digits"})
    assert np.array_equal(np.asarray(a.image(5)), np.asarray(full.image(idx[5])))


def test_planted_dataset_carries_tree_and_names(planted):
    assert planted.features.shape == (120, 8) and planted.n_classes == 4
    assert planted.newick == "((c0_0,c0_1),(c1_0,c1_1));"
    names = dataset_class_names({"type": "planted-tree", "depth": 2, "branching": 2})
    assert list(names) == list(planted.class_names)


def test_imagefolder_labels_names_and_ids(make_image_folder):
    root = make_image_folder({"cat": 3, "dog": 2})
    (root / "dog" / "notes.txt").write_text("ignored: not an image")
    data = load_dataset({"type": "imagefolder", "path": str(root)})
    assert list(data.class_names) == ["cat", "dog"] and data.labels.tolist() == [0, 0, 0, 1, 1]
    assert data.sample_ids[3] == "dog/000.png"
    assert list(data.wnids) == [CLASS_SYNSETS["cat"][1], CLASS_SYNSETS["dog"][1]]
    assert data.image(4).size == (8, 8)


def test_imagenet_class_folders_and_flat_layout(make_image_folder, tmp_path):
    root = make_image_folder({"n01440764": 2, "n02012849": 1, "n03126707": 1})
    data = load_dataset({"type": "imagenet", "path": str(root)})
    assert list(data.wnids) == ["n01440764", "n02012849", "n03126707"]
    # readable names in tables and trees; crane occurs twice in IN-1k
    assert list(data.class_names) == ["tench", "crane_n02012849", "crane_n03126707"]
    assert list(imagenet_class_names(data.wnids)) == list(data.class_names)
    flat = tmp_path / "flat"
    flat.mkdir()
    rows = ["ImageId,PredictionString"]
    for k, p in enumerate(sorted(root.rglob("*.png"))):
        name = f"ILSVRC2012_val_{k:08d}"
        (flat / f"{name}.png").write_bytes(p.read_bytes())
        rows.append(f"{name},{p.parent.name} 1 2 3 4")
    (tmp_path / "LOC_val_solution.csv").write_text("\n".join(rows) + "\n")
    flat_data = load_dataset({"type": "imagenet", "path": str(flat), "labels_path": str(tmp_path / "LOC_val_solution.csv")})
    assert flat_data.labels.tolist() == data.labels.tolist()
    assert list(flat_data.class_names) == list(data.class_names)


def test_imagenet21k_wnid_folders_named_from_the_21k_table(make_image_folder):
    # n01440764 (tench) is an ImageNet-1k class; n00005787 (benthos) and n00006484 (cell) exist only in
    # ImageNet-21k, whose WordNet lemmas timm ships (offline). Two distinct WNIDs sharing a lemma get
    # their WNID appended, as for ImageNet-1k's two cranes.
    root = make_image_folder({"n00005787": 2, "n00006484": 1, "n01440764": 1, "n02012849": 1, "n03126707": 1})
    data = load_dataset({"type": "imagenet21k", "path": str(root), "split": "train"})
    assert list(data.wnids) == ["n00005787", "n00006484", "n01440764", "n02012849", "n03126707"]
    assert list(data.class_names) == ["benthos", "cell", "tench", "crane_n02012849", "crane_n03126707"]
    assert data.labels.tolist() == [0, 0, 1, 2, 3, 4] and data.sample_ids[2] == "n00006484/000.png"


def test_imagenet21k_needs_wnid_folders(make_image_folder):
    root = make_image_folder({"n00005787": 1, "dogs": 1})
    with pytest.raises(ValueError, match="must be WNIDs.*dogs"):
        load_dataset({"type": "imagenet21k", "path": str(root)})


def test_cifar_missing_names_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"extract it into {tmp_path}"):
        load_dataset({"type": "cifar10"}, cache_dir=tmp_path / "cache" / "..")
    with pytest.raises(FileNotFoundError, match="snakemake prefetch"):
        load_dataset({"type": "cifar100-coarse", "path": str(tmp_path)})


def test_cifar_reads_the_official_pickle_format(tmp_path):
    import pickle

    base = tmp_path / "cifar-100-python"
    base.mkdir()
    rng = np.random.default_rng(0)
    entry = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "fine_labels": [0, 1, 99, 1],
             "coarse_labels": [4, 1, 19, 1]}  # fmt: skip
    (base / "test").write_bytes(pickle.dumps(entry))
    fine = load_dataset({"type": "cifar100", "path": str(tmp_path)})
    assert fine.labels.tolist() == [0, 1, 99, 1] and fine.coarse_labels.tolist() == [4, 1, 19, 1]
    assert fine.class_names[99] == "worm" and fine.wnids[0] == CLASS_SYNSETS["apple"][1]
    coarse = load_dataset({"type": "cifar100-coarse", "path": str(tmp_path)})
    assert coarse.labels.tolist() == [4, 1, 19, 1] and coarse.n_classes == 20 and coarse.wnids is None
    # pixel (row 0, col 1) of image 0: channel planes are stored R, G, B in row-major order
    r, g, b = entry["data"][0][[1, 1025, 2049]]
    assert np.asarray(fine.image(0))[0, 1].tolist() == [r, g, b]


def test_example_features_file_gets_cifar10_synsets(repo_root):
    path = repo_root / "resources/examples/cifar10_resnet20_features.npz"
    data = load_dataset({"type": "features", "path": str(path), "max_per_class": 10})
    assert data.features.shape == (100, 64) and data.logits.shape == (100, 10)
    assert list(data.class_names) == list(CIFAR10_CLASSES)
    assert data.wnids[0] == "n02691156" and data.wnids[1] == "n02958343"  # airplane, car


def _write_npz(path, n=20, **over):
    rng = np.random.default_rng(0)
    arrays = {"features": rng.normal(size=(n, 4)), "labels": np.arange(n) % 3,
              "class_names": np.array(["x", "y", "z"])}  # fmt: skip
    arrays.update(over)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@pytest.mark.parametrize(
    "over, message",
    [
        ({"features": np.full((20, 4), np.inf)}, "NaN or inf"),
        ({"labels": np.arange(19) % 3}, "'labels' has shape"),
        ({"labels": np.zeros(20, dtype=int)}, "at least 2 classes"),
        ({"class_names": None}, "no 'class_names'"),
        ({"features": np.array(["a"] * 20)}, "must be numeric"),
    ],
)
def test_bad_features_file_names_file_and_problem(tmp_path, over, message):
    path = _write_npz(tmp_path / "feats.npz", **over)
    with pytest.raises(ValueError, match=message) as info:
        load_dataset({"type": "features", "path": str(path)})
    assert "feats.npz" in str(info.value)


def test_npy_features_with_labels_and_names(tmp_path):
    X = np.random.default_rng(0).normal(size=(9, 2))
    np.save(tmp_path / "f.npy", X)
    np.save(tmp_path / "y.npy", np.arange(9) % 3)
    spec = {"type": "features", "path": str(tmp_path / "f.npy"), "class_names": ["a", "b", "c"]}
    with pytest.raises(ValueError, match="needs labels_path"):
        load_dataset(spec)
    data = load_dataset({**spec, "labels_path": str(tmp_path / "y.npy")})
    assert data.features.dtype == np.float32 and data.labels.tolist() == [0, 1, 2] * 3


def test_synsets_tsv_overrides_wnids(tmp_path):
    path = _write_npz(tmp_path / "f.npz")
    tsv = tmp_path / "syn.tsv"
    tsv.write_text("class_name\tsynset\nx\tn00000001\ny\tn00000002\nz\tn00000003\n")
    data = load_dataset({"type": "features", "path": str(path), "synsets": str(tsv)})
    assert list(data.wnids) == ["n00000001", "n00000002", "n00000003"]
    # the resources/hierarchies/*_synsets.tsv layout: columns found by header name
    tsv.write_text("index\tclass_name\tsynset\tdefinition\n0\tz\tn00000009\td\n1\ty\tn00000008\td\n"
                   "2\tx\tn00000007\td\n")  # fmt: skip
    data = load_dataset({"type": "features", "path": str(path), "synsets": str(tsv)})
    assert list(data.wnids) == ["n00000007", "n00000008", "n00000009"]
    tsv.write_text("x\tn00000001\n")
    with pytest.raises(ValueError, match=r"no synset for classes \['y', 'z'\]"):
        load_dataset({"type": "features", "path": str(path), "synsets": str(tsv)})


def test_unknown_type_is_rejected():
    with pytest.raises(ValueError, match="spec\\['type'\\]='svhn'"):
        load_dataset({"type": "svhn"})


def test_eval_fraction_splits_one_set_and_keeps_the_evaluation_part_whole():
    spec = {"type": "planted-tree", "depth": 2, "branching": 2, "samples_per_class": 20, "eval_fraction": 0.25}
    whole = load_dataset({k: v for k, v in spec.items() if k != "eval_fraction"})
    fit, held = load_dataset(spec), load_dataset(spec, part="eval")
    assert len(fit) + len(held) == len(whole) and np.bincount(held.labels).tolist() == [5, 5, 5, 5]
    assert not set(map(tuple, fit.features)) & set(map(tuple, held.features))  # disjoint samples
    assert set(map(tuple, fit.features)) | set(map(tuple, held.features)) == set(map(tuple, whole.features))
    # max_per_class and imbalance shape the fit set only (paper 002: validation whole).
    shaped = {**spec, "max_per_class": 8, "imbalance": "odd-half"}
    assert np.bincount(load_dataset(shaped).labels).tolist() == [8, 4, 8, 4]
    assert np.array_equal(load_dataset(shaped, part="eval").features, held.features)
    with pytest.raises(ValueError, match="no evaluation set"):
        load_dataset({k: v for k, v in spec.items() if k != "eval_fraction"}, part="eval")


def test_eval_path_reads_the_second_file_with_its_own_labels(tmp_path):
    rng = np.random.default_rng(0)
    fit, held = tmp_path / "fit.npy", tmp_path / "eval.npy"
    np.save(fit, rng.normal(size=(12, 3)))
    np.save(tmp_path / "fit_y.npy", np.arange(12) % 3)
    np.save(held, rng.normal(size=(6, 3)))
    np.save(tmp_path / "eval_y.npy", np.arange(6) % 3)
    spec = {"type": "features", "path": str(fit), "labels_path": str(tmp_path / "fit_y.npy"),
            "class_names": ["a", "b", "c"], "eval_path": str(held), "eval_labels_path": str(tmp_path / "eval_y.npy"),
            "max_per_class": 2}
    assert eval_spec(spec)["path"] == str(held) and eval_spec(spec)["max_per_class"] is None
    data = load_dataset(spec, part="eval")
    assert len(data) == 6 and np.allclose(data.features, np.load(held))
    assert len(load_dataset(spec)) == 6  # the fit set: max_per_class = 2 of each of 3 classes


def test_class_frequency_subset_keeps_whole_classes_and_the_eval_set_the_same_classes(tmp_path):
    rng = np.random.default_rng(0)
    counts = np.array([3, 5, 8, 12, 20])
    labels = np.repeat(np.arange(5), counts)
    path = tmp_path / "f.npz"
    np.savez(path, features=rng.normal(size=(len(labels), 4)), labels=labels, class_names=np.array(list("abcde")))
    spec = {"type": "features", "path": str(path), "imbalance": "percentile", "imbalance_percentiles": [25, 75],
            "eval_fraction": 0.5}
    fit, held = load_dataset(spec), load_dataset(spec, part="eval")
    # [25, 75] of (3, 5, 8, 12, 20) is [5, 12]: classes b, c, d, relabelled 0..2, all their samples.
    assert fit.class_names.tolist() == ["b", "c", "d"] and held.class_names.tolist() == ["b", "c", "d"]
    assert (np.bincount(fit.labels) + np.bincount(held.labels)).tolist() == [5, 8, 12]
