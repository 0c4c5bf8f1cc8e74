"""embtree.data.images: image files decoded on access, class-folder scanning."""

import numpy as np
import pytest

from embtree.data.datasets import load_dataset


def test_imagefolder_corrupt_image_names_the_file(make_image_folder):
    root = make_image_folder({"a": 2, "b": 2})
    (root / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    data = load_dataset({"type": "imagefolder", "path": str(root)})
    i = list(data.sample_ids).index("b/broken.png")
    with pytest.raises(ValueError, match="broken.png"):
        data.image(i)


def test_imagefolder_empty_class_folder_is_an_error(make_image_folder):
    root = make_image_folder({"a": 2, "b": 2})
    (root / "empty").mkdir()
    with pytest.raises(ValueError, match="empty contains no images"):
        load_dataset({"type": "imagefolder", "path": str(root)})


def test_thumbnails_keep_small_square_images_and_shrink_large_ones():
    from PIL import Image

    from embtree.data.images import thumbnails

    rng = np.random.default_rng(0)
    small = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(3)]
    out = thumbnails([Image.fromarray(a) for a in small])
    assert out.shape == (3, 8, 8, 3) and out.dtype == np.uint8 and np.array_equal(out, np.stack(small))
    grey = Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8))  # L mode -> RGB
    big = Image.fromarray(rng.integers(0, 256, (100, 300, 3), dtype=np.uint8))
    out = thumbnails([grey, big], max_size=32)
    assert out.shape == (2, 32, 32, 3) and (out[0, ..., 0] == out[0, ..., 2]).all()
