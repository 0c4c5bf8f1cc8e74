"""embtree.data.images: image files decoded on access, class-folder scanning."""

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
