"""embtree.data.encoders on tiny random-init models (offline, CPU)."""

import json

import numpy as np
import pytest

from conftest import RESNET, encode_run
from embtree.data.encoders import ENCODERS, MissingWeightsError, build_encoder
from embtree.data.extract import extract

torch = pytest.importorskip("torch")

# timm's tiny ViT (conftest's RESNET is its CNN): the code path of vit at a fraction of the cost.
VIT = {"type": "timm", "model": "test_vit", "pretrained": False, "image_size": 32}


def test_registry_is_an_explicit_mapping():
    assert set(ENCODERS) == {"timm", "open_clip", "pixels"}
    with pytest.raises(ValueError, match="'vgg'"):
        build_encoder({"type": "vgg"})


def test_timm_cnn_pre_logits_logits_and_batch_size_invariance(digits, cache):
    emb, meta, stats = encode_run(digits, RESNET, cache, batch_size=20, with_stats=True)
    assert emb.features.shape == (20, 96) and emb.features.dtype == np.float32
    assert emb.logits.shape == (20, 1000)
    assert list(emb.class_names) == list(digits.class_names) and list(emb.labels) == list(digits.labels)
    emb7, _ = encode_run(digits, RESNET, cache, batch_size=7)
    np.testing.assert_allclose(emb7.features, emb.features, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(emb7.logits, emb.logits, rtol=1e-4, atol=1e-5)
    pre = meta["encoder"]["preprocessing"]
    assert pre["image_size"] == 32 and pre["mean"] == pytest.approx([0.5, 0.5, 0.5])  # test_resnet's own cfg
    assert meta["encoder"]["weights"]["random_init_seed"] == 0 and meta["versions"]["timm"]
    assert stats["images_per_second"] > 0 and "images_per_second" not in json.dumps(meta)
    assert meta["pretrained"] is False and len(meta["image_list_sha256"]) == 64
    json.dumps(meta)  # the sidecar must be serialisable


def test_logits_equal_classifier_of_pre_logits(digits, cache):
    enc = build_encoder(RESNET, cache_dir=cache)
    feats, logits, _ = extract(enc, digits, batch_size=20, progress=False)
    fc = enc.module.get_classifier()
    with torch.inference_mode():
        expected = fc(torch.from_numpy(feats)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_random_init_is_seeded(digits, cache):
    a, _ = encode_run(digits, RESNET, cache)
    b, _ = encode_run(digits, RESNET, cache)
    c, _ = encode_run(digits, {**RESNET, "seed": 1}, cache)
    np.testing.assert_array_equal(a.features, b.features)
    assert not np.allclose(a.features, c.features)


@pytest.mark.parametrize("model, dim", [("test_efficientnet", 256), ("test_convnext", 64), ("test_vit", 64)])
def test_paper_families_give_pre_logits_and_logits(digits, cache, model, dim):
    emb, meta = encode_run(digits, {**RESNET, "model": model}, cache)
    assert emb.features.shape == (20, dim) and emb.logits.shape == (20, 1000)
    assert np.isfinite(emb.features).all() and meta["encoder"]["preprocessing"]["image_size"] == 32


def test_timm_vit_image_size_override_and_final_block(digits, cache):
    enc = build_encoder({**VIT, "embedding": "final_block"}, cache_dir=cache)
    assert enc.module.patch_embed.img_size == (32, 32)  # fixed-size model rebuilt at 32 px
    n_tokens = enc.module.patch_embed.num_patches + enc.module.num_prefix_tokens
    tokens, _ = encode_run(digits, {**VIT, "embedding": "final_block"}, cache)
    assert tokens.features.shape == (20, n_tokens * 64)


def test_checkpoint_loads_local_weights(digits, cache, tmp_path):
    import timm

    torch.manual_seed(5)
    model = timm.create_model("test_resnet", pretrained=False)
    torch.save(model.state_dict(), tmp_path / "weights.pth")
    from_ckpt, meta = encode_run(digits, {**RESNET, "pretrained": True, "checkpoint": str(tmp_path / "weights.pth")}, cache)
    seeded, _ = encode_run(digits, {**RESNET, "seed": 5}, cache)
    np.testing.assert_allclose(from_ckpt.features, seeded.features, rtol=1e-5, atol=1e-6)
    assert len(meta["encoder"]["checkpoint"]["sha256"]) == 64
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        build_encoder({**RESNET, "checkpoint": str(tmp_path / "missing.pth")}, cache_dir=cache)


def test_missing_weights_offline_says_how_to_fix(cache):
    with pytest.raises(MissingWeightsError, match="snakemake prefetch.*checkpoint:"):
        build_encoder({"type": "timm", "model": "resnet18", "pretrained": True}, cache_dir=cache)


def test_unknown_models_are_rejected(cache):
    with pytest.raises(ValueError, match="'resnet_nope' is not a timm model"):
        build_encoder({"type": "timm", "model": "resnet_nope"}, cache_dir=cache)
    with pytest.raises(ValueError, match="not an open_clip architecture"):
        build_encoder({"type": "open_clip", "model": "nope", "pretrained": False}, cache_dir=cache)


def test_open_clip_tiny_random_model(digits, cache, tmp_path):
    import open_clip

    cfg = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
        "text_cfg": {"context_length": 8, "vocab_size": 100, "width": 32, "heads": 2, "layers": 1},
    }
    (tmp_path / "embtree-test-tiny.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(tmp_path / "embtree-test-tiny.json")
    spec = {"type": "open_clip", "model": "embtree-test-tiny", "pretrained": False}
    emb, meta = encode_run(digits, spec, cache, batch_size=20)
    assert emb.features.shape == (20, 16) and emb.logits is None
    assert meta["encoder"]["preprocessing"]["image_size"] == 32
    emb3, _ = encode_run(digits, spec, cache, batch_size=3)
    np.testing.assert_allclose(emb3.features, emb.features, rtol=1e-4, atol=1e-5)


def test_pixels_are_standardised_resized_pixels(digits, cache):
    emb, meta = encode_run(digits, {"type": "pixels", "image_size": 8}, cache)
    assert emb.features.shape == (20, 3 * 8 * 8) and emb.logits is None
    raw = np.stack([np.asarray(digits.image(i), dtype=np.float64).reshape(-1) / 255 for i in range(20)])
    std = raw.std(0)
    expected = (raw - raw.mean(0)) / np.where(std > 0, std, 1)
    np.testing.assert_allclose(emb.features, expected, atol=1e-5)
    assert meta["encoder"]["preprocessing"]["image_size"] == 8
    default, _ = encode_run(digits, {"type": "pixels"}, cache)
    assert default.features.shape == (20, 3 * 32 * 32)
