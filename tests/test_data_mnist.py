"""embtree.data.mnist and the mnist / mnist-tran data set types: torchvision's on-disk files, the
paper 003 translation (MNIST-TRAN), offline errors. Fake MNIST files built in tmp_path."""

import gzip

import numpy as np
import pytest
import yaml

from conftest import ROOT
from embtree.data.datasets import _DEFAULTS, load_dataset
from embtree.data.mnist import mnist_files, mnist_tran, read_idx, translate


def write_idx(path, array, gz=False):
    """``array`` (uint8) in LeCun's IDX format, as torchvision's MNIST keeps it."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with (gzip.open if gz else open)(path, "wb") as fh:
        fh.write(header + array.tobytes())


def fake_mnist(root, n=30, seed=0, split="train"):
    """``n`` 28x28 images (a 6x6 block of ones in the middle, grey value = 10 + label) and labels
    0..9 cycling, in root/MNIST/raw."""
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    rng = np.random.default_rng(seed)
    for i, y in enumerate(labels):
        images[i, 11:17, 11:17] = 10 + y
        images[i, 11, 11] = rng.integers(100, 200)  # a marked corner pixel
    img_path, lab_path = mnist_files(root, split)
    write_idx(img_path, images)
    write_idx(lab_path, labels)
    return images, labels


def test_read_idx_reads_what_torchvision_reads(tmp_path):
    images, labels = fake_mnist(tmp_path, n=12)
    fake_mnist(tmp_path, n=5, split="test")  # torchvision checks that both splits are there
    torchvision = pytest.importorskip("torchvision")
    tv = torchvision.datasets.MNIST(str(tmp_path), train=True, download=False)
    assert np.array_equal(tv.data.numpy(), images) and np.array_equal(tv.targets.numpy(), labels)
    assert np.array_equal(read_idx(mnist_files(tmp_path, "train")[0]), images)


def test_read_idx_gz_and_bad_header(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x-idx3-ubyte.gz", a, gz=True)
    assert np.array_equal(read_idx(tmp_path / "x-idx3-ubyte"), a)  # falls back to the .gz
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1]) + np.asarray([5], ">i4").tobytes() + b"\x01\x02")
    with pytest.raises(ValueError, match="header says shape"):
        read_idx(tmp_path / "short")


def test_mnist_loads_the_fake_files(tmp_path):
    images, labels = fake_mnist(tmp_path / "datasets", n=20)
    data = load_dataset({"type": "mnist", "split": "train"}, cache_dir=tmp_path)
    assert len(data) == 20 and data.labels.tolist() == labels.tolist()
    assert list(data.class_names) == [str(i) for i in range(10)]
    img = np.asarray(data.image(3))
    assert img.shape == (28, 28, 3) and np.array_equal(img[..., 1], images[3])
    assert data.sample_ids[3] == "mnist/train/3"


def test_mnist_missing_names_the_data_set_and_prefetch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mnist-tran: MNIST data not found .*snakemake prefetch"):
        load_dataset({"type": "mnist-tran", "path": str(tmp_path)})
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte"):
        load_dataset({"type": "mnist"}, cache_dir=tmp_path)  # the schema's split: test


def test_translate_moves_every_pixel_by_the_offsets():
    rng = np.random.default_rng(0)
    img = np.zeros((3, 28, 28), dtype=np.uint8)
    img[:, 8:20, 6:18] = rng.integers(1, 256, (3, 12, 12))  # digit box with 4+ px margins
    for dx, dy in [(4, 0), (0, 4), (-3, 2), (0, 0)]:
        out = translate(img, dx, dy)
        assert out.shape == (3, 28, 28) and out.dtype == np.uint8
        # every pixel kept, at (r + dy, c + dx); nothing else set
        assert np.array_equal(out[:, 8 + dy : 20 + dy, 6 + dx : 18 + dx], img[:, 8:20, 6:18])
        assert out.sum(dtype=np.int64) == img.sum(dtype=np.int64)
    # a larger canvas: centred ((36 - 28) // 2 = 4), then moved
    out = translate(img, 6, -2, canvas_size=36)
    assert out.shape == (3, 36, 36)
    assert np.array_equal(out[:, 8 + 4 - 2 : 20 + 4 - 2, 6 + 4 + 6 : 18 + 4 + 6], img[:, 8:20, 6:18])
    # pushed past the edge: the pixels that leave the canvas are lost, the rest kept
    out = translate(img, 12, 0)
    assert np.array_equal(out[:, 8:20, 18:28], img[:, 8:20, 6:16]) and not out[:, :, :18].any()
    with pytest.raises(ValueError, match="canvas_size=20"):
        translate(img, 0, 0, canvas_size=20)


def test_mnist_tran_counts_labels_and_sources():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), [6, 5, 7])
    images = rng.integers(0, 256, (len(labels), 28, 28)).astype(np.uint8)
    vecs = [(4, 0), (0, 4)]
    out, y, src, moved = mnist_tran(images, labels, translations=vecs, per_class=2, seed=3)
    # the paper's (5500 + 500 + 500) x 10 at this scale: (n_c - 2 + 2 + 2) per class
    assert len(out) == len(labels) + 2 * 3 and out.shape[1:] == (28, 28)
    assert np.bincount(y).tolist() == [8, 7, 9] and np.array_equal(y, labels[src])
    chosen = src[moved == 0]
    assert np.array_equal(chosen, src[moved == 1]) and np.bincount(labels[chosen]).tolist() == [2, 2, 2]
    assert not np.isin(src[moved == -1], chosen).any()  # the chosen appear only translated
    for t, (dx, dy) in enumerate(vecs):
        assert np.array_equal(out[moved == t], translate(images[chosen], dx, dy))
    assert np.array_equal(out[moved == -1], images[src[moved == -1]])
    again = mnist_tran(images, labels, translations=vecs, per_class=2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((out, y, src, moved), again))  # seeded
    other = mnist_tran(images, labels, translations=vecs, per_class=2, seed=4)[2]
    assert not np.array_equal(other, src)
    kept = mnist_tran(images, labels, translations=vecs, per_class=2, seed=3, keep_originals=True)
    assert len(kept[0]) == len(labels) + 12 and np.array_equal(kept[2][: len(labels)], np.arange(len(labels)))


def test_mnist_tran_data_set_from_fake_files(tmp_path):
    images, labels = fake_mnist(tmp_path, n=40)
    spec = {"type": "mnist-tran", "path": str(tmp_path), "split": "train", "translated_per_class": 1,
            "translations": [[3, 0], [0, -2]], "canvas_size": 32}
    data = load_dataset(spec)
    assert len(data) == 40 + 10 and np.bincount(data.labels).tolist() == [5] * 10
    assert data.images.array.shape == (50, 32, 32) and data.info["translated"] == 20
    moved = [i for i, s in enumerate(data.sample_ids) if s.endswith("+dx3dy0")]
    assert len(moved) == 10
    i = moved[0]
    src = int(data.sample_ids[i].split("/")[2].split("+")[0])
    # on the 32 canvas: centred (+2), then 3 right
    assert np.array_equal(data.images.array[i][13:19, 16:22], images[src][11:17, 11:17])
    assert data.labels[i] == labels[src]


def test_mnist_tran_defaults_are_the_schemas():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    branch = [b for b in schema["$defs"]["dataset"]["allOf"]
              if b["if"]["properties"].get("type", {}).get("const") == "mnist-tran"]
    defaults = {k: v["default"] for k, v in branch[0]["then"]["properties"].items()}
    assert defaults == {k: _DEFAULTS[k] for k in defaults}


def test_prefetch_without_internet_names_the_data_set(tmp_path, monkeypatch):
    torchvision = pytest.importorskip("torchvision")
    from embtree.data.datasets import prefetch_dataset

    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(RuntimeError, match=r"mnist-tran: download into .* failed .*snakemake prefetch"):
        prefetch_dataset({"type": "mnist-tran"}, cache_dir=tmp_path)
